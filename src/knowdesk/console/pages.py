"""The console's HTML pages under /console/, for the workspace's people.

Pages are thin: the server renders the frame (navigation by role, the chosen language, the
page's ids) and the page's script reads and changes data through the REST API, authenticated by
the HttpOnly session cookie that signing in sets here. Live parts follow the chat WebSocket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from knowdesk.accounts import service as accounts
from knowdesk.accounts.models import Role
from knowdesk.console.i18n import HTML_LANG, LOCALES, Locale, strings, translator
from knowdesk.console.session import (
    Viewer,
    clear_session,
    request_locale,
    set_locale,
    set_session,
    set_workspace,
    signed_in_user,
    viewer_of,
)
from knowdesk.web.deps import SessionDep, SettingsDep

HERE = Path(__file__).parent
STATIC_URL = "/console/static"
templates = Jinja2Templates(directory=HERE / "templates")

# The headers every console page carries: scripts and styles only from this server (so the
# console works without internet access and nothing injected can run), no framing.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str
    permission: str


NAV = (
    NavItem("inbox", "/console/inbox", "chat.agent"),
    NavItem("tickets", "/console/tickets", "tickets.work"),
    NavItem("kb", "/console/kb", "kb.read"),
    NavItem("analytics", "/console/analytics", "analytics.read"),
    NavItem("settings", "/console/settings", "settings.manage"),
)
KB_SECTIONS = ("browse", "review", "stale", "upload", "try")
SETTINGS_SECTIONS = (
    "members",
    "api-keys",
    "channels",
    "teams",
    "webhooks",
    "rules",
    "sla",
    "llm",
)

router = APIRouter(include_in_schema=False)
pages = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)


# -- rendering ----------------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    """A path inside the console to return to; anything else (another site) goes home."""
    parts = urlsplit(value or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return "/console/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"/console/sign-in?next={quote(target, safe='')}", status_code=status.HTTP_303_SEE_OTHER
    )


def _common(request: Request, locale: Locale) -> dict[str, Any]:
    return {
        "request": request,
        "t": translator(locale),
        "locale": locale,
        "locales": LOCALES,
        "html_lang": HTML_LANG[locale],
        "static": STATIC_URL,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


def _page(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    nav: str,
    title: str,
    data: dict[str, Any] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    page_data = {
        "locale": viewer.locale,
        "user": {"id": str(viewer.user.id), "name": viewer.user.name, "email": viewer.user.email},
        "workspace": {
            "id": str(viewer.workspace.id),
            "slug": viewer.workspace.slug,
            "name": viewer.workspace.name,
        },
        "role": viewer.role.value,
        "can": {
            name: viewer.can(name)
            for name in (
                "kb.write",
                "kb.review",
                "kb.publish",
                "chat.agent",
                "tickets.work",
                "settings.manage",
                "workspace.manage",
            )
        },
        **(data or {}),
    }
    return templates.TemplateResponse(
        request,
        template,
        {
            **_common(request, viewer.locale),
            "viewer": viewer,
            "nav": [item for item in NAV if viewer.can(item.permission)],
            "active": nav,
            "title": title,
            "page_data": page_data,
            "strings": strings(viewer.locale),
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def _forbidden(request: Request, viewer: Viewer) -> HTMLResponse:
    return _page(request, viewer, "message.html", nav="", title="error.forbidden", status_code=403)


async def _page_for(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    permission: str,
    template: str,
    *,
    nav: str,
    title: str,
    data: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    viewer = await viewer_of(request, session, settings)
    if viewer is None:
        return _to_sign_in(request)
    if not viewer.can(permission):
        return _forbidden(request, viewer)
    return _page(request, viewer, template, nav=nav, title=title, data=data, **context)


# -- signing in and out, workspace and language --------------------------------------------------


def _sign_in_form(
    request: Request, next_path: str, *, email: str = "", error: str = "", status_code: int = 200
) -> HTMLResponse:
    locale = request_locale(request)
    return templates.TemplateResponse(
        request,
        "sign_in.html",
        {**_common(request, locale), "next": next_path, "email": email, "error": error},
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


@pages.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/console/") -> HTMLResponse:
    return _sign_in_form(request, _safe_next(next))


@pages.post("/sign-in")
async def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> Response:
    next_path = _safe_next(next)
    user = await accounts.authenticate(session, email=email.strip(), password=password)
    if user is None:
        return _sign_in_form(request, next_path, email=email, error="signin.wrong", status_code=401)
    memberships = await accounts.memberships_of(session, user.id)
    if not memberships:
        return _sign_in_form(
            request, next_path, email=email, error="signin.no_workspace", status_code=403
        )
    response = RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)
    set_session(response, request, settings, user.id)
    kept = request.cookies.get("knowdesk_workspace")
    if kept not in {str(w.id) for _, w in memberships}:
        first = min(memberships, key=lambda pair: pair[1].name.lower())
        set_workspace(response, request, first[1].id)
    return response


@pages.post("/sign-out")
async def sign_out() -> RedirectResponse:
    response = RedirectResponse("/console/sign-in", status_code=status.HTTP_303_SEE_OTHER)
    clear_session(response)
    return response


@pages.post("/session", status_code=204)
async def refresh_session(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A new session cookie for a page that stays open all day (called by core.js)."""
    user = await signed_in_user(request, session, settings)
    if user is None:
        return Response(status_code=status.HTTP_401_UNAUTHORIZED)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_session(response, request, settings, user.id)
    return response


@pages.post("/workspace")
async def switch_workspace(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    workspace: Annotated[str, Form(max_length=100)],
) -> Response:
    viewer = await viewer_of(request, session, settings)
    if viewer is None:
        return _to_sign_in(request)
    chosen = next((w for _, w in viewer.memberships if str(w.id) == workspace), None)
    if chosen is None:
        return _forbidden(request, viewer)
    # Ids in the current address belong to the old workspace: start from its home page.
    response = RedirectResponse("/console/", status_code=status.HTTP_303_SEE_OTHER)
    set_workspace(response, request, chosen.id)
    return response


@pages.post("/locale")
async def switch_locale(
    request: Request,
    locale: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    if locale in LOCALES:
        set_locale(response, request, "zh" if locale == "zh" else "en")
    return response


# -- pages --------------------------------------------------------------------------------------


@pages.get("/")
async def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    viewer = await viewer_of(request, session, settings)
    if viewer is None:
        return _to_sign_in(request)
    # Editors and reviewers spend their day in the knowledge base; agents and owners in chats.
    landing = {
        Role.EDITOR: "/console/kb",
        Role.REVIEWER: "/console/kb/review",
    }.get(viewer.role, "/console/inbox")
    return RedirectResponse(landing, status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/inbox")
async def inbox(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _page_for(
        request, session, settings, "chat.agent", "inbox.html", nav="inbox", title="nav.inbox"
    )


@pages.get("/inbox/{conversation_id}")
async def conversation(
    conversation_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _page_for(
        request,
        session,
        settings,
        "chat.agent",
        "inbox.html",
        nav="inbox",
        title="nav.inbox",
        data={"conversation_id": str(conversation_id)},
    )


@pages.get("/tickets")
async def tickets(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _page_for(
        request,
        session,
        settings,
        "tickets.work",
        "tickets.html",
        nav="tickets",
        title="nav.tickets",
    )


@pages.get("/tickets/{ticket_id}")
async def ticket(
    ticket_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _page_for(
        request,
        session,
        settings,
        "tickets.work",
        "ticket.html",
        nav="tickets",
        title="nav.tickets",
        data={"ticket_id": str(ticket_id)},
    )


@pages.get("/kb")
async def kb_browse(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(request, session, settings, "browse", "kb_browse.html")


@pages.get("/kb/review")
async def kb_review(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(request, session, settings, "review", "kb_review.html")


@pages.get("/kb/stale")
async def kb_stale(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(request, session, settings, "stale", "kb_stale.html")


@pages.get("/kb/upload")
async def kb_upload(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(
        request,
        session,
        settings,
        "upload",
        "kb_upload.html",
        permission="kb.write",
        data={"max_upload_bytes": settings.max_upload_bytes},
    )


@pages.get("/kb/try")
async def kb_try(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(request, session, settings, "try", "kb_try.html")


@pages.get("/kb/new")
async def kb_new(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return await _kb_page(
        request, session, settings, "browse", "kb_entry.html", permission="kb.write"
    )


@pages.get("/kb/entries/{entry_id}")
async def kb_entry(
    entry_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return await _kb_page(
        request, session, settings, "browse", "kb_entry.html", data={"entry_id": str(entry_id)}
    )


async def _kb_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    section: str,
    template: str,
    *,
    permission: str = "kb.read",
    data: dict[str, Any] | None = None,
) -> Response:
    return await _page_for(
        request,
        session,
        settings,
        permission,
        template,
        nav="kb",
        title=f"kb.section.{section}",
        data=data,
        section=section,
        sections=KB_SECTIONS,
    )


@pages.get("/settings")
async def settings_home() -> RedirectResponse:
    return RedirectResponse("/console/settings/members", status_code=status.HTTP_303_SEE_OTHER)


@pages.get("/settings/{section}")
async def settings_page(
    section: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    if section not in SETTINGS_SECTIONS:
        viewer = await viewer_of(request, session, settings)
        if viewer is None:
            return _to_sign_in(request)
        return _page(
            request, viewer, "message.html", nav="", title="error.not_found", status_code=404
        )
    return await _page_for(
        request,
        session,
        settings,
        "settings.manage",
        "settings.html",
        nav="settings",
        title=f"settings.section.{section}",
        data={"section": section},
        section=section,
        sections=SETTINGS_SECTIONS,
    )


router.include_router(pages)
