"""Who is looking at a console page: the signed-in person, their workspaces and role, and the
cookies that carry the session, the chosen workspace and the chosen language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts import service as accounts
from knowdesk.accounts.models import Membership, Role, User, Workspace
from knowdesk.accounts.principal import role_allows
from knowdesk.accounts.security import issue_session_token, read_session_token
from knowdesk.config import Settings
from knowdesk.console.i18n import LOCALE_COOKIE, Locale, choose_locale
from knowdesk.web.deps import SESSION_COOKIE

WORKSPACE_COOKIE = "knowdesk_workspace"
LOCALE_COOKIE_SECONDS = 365 * 86400


@dataclass(frozen=True)
class Viewer:
    user: User
    memberships: list[tuple[Membership, Workspace]]
    workspace: Workspace
    role: Role
    locale: Locale

    def can(self, permission: str) -> bool:
        return role_allows(self.role, permission)


def request_locale(request: Request, account: str | None = None) -> Locale:
    return choose_locale(
        toggle=request.cookies.get(LOCALE_COOKIE),
        accept_language=request.headers.get("accept-language"),
        account=account,
    )


def _chosen(
    memberships: list[tuple[Membership, Workspace]], wanted: str | None
) -> tuple[Membership, Workspace]:
    """The workspace named by the cookie (id or slug), else the first one, by name."""
    for membership, workspace in memberships:
        if wanted in (str(workspace.id), workspace.slug):
            return membership, workspace
    return min(memberships, key=lambda pair: pair[1].name.lower())


async def signed_in_user(
    request: Request, session: AsyncSession, settings: Settings
) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    user_id = read_session_token(token, settings.secret_key) if token else None
    return await session.get(User, user_id) if user_id else None


async def viewer_of(request: Request, session: AsyncSession, settings: Settings) -> Viewer | None:
    """The console's view of the request; None when nobody (or nobody with a workspace) is in."""
    user = await signed_in_user(request, session, settings)
    if user is None:
        return None
    memberships = list(await accounts.memberships_of(session, user.id))
    if not memberships:
        return None
    membership, workspace = _chosen(memberships, request.cookies.get(WORKSPACE_COOKIE))
    return Viewer(
        user=user,
        memberships=sorted(memberships, key=lambda pair: pair[1].name.lower()),
        workspace=workspace,
        role=membership.role,
        locale=request_locale(request, user.locale),
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(
    response: Response, request: Request, settings: Settings, user_id: uuid.UUID
) -> None:
    """A fresh session cookie: HttpOnly (no script reads it) and SameSite=Lax."""
    response.set_cookie(
        SESSION_COOKIE,
        issue_session_token(user_id, settings.secret_key, settings.session_hours),
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def set_workspace(response: Response, request: Request, workspace_id: uuid.UUID) -> None:
    # Not secret (a workspace id); HttpOnly anyway, as nothing in the page needs to read it.
    response.set_cookie(
        WORKSPACE_COOKIE,
        str(workspace_id),
        max_age=LOCALE_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def set_locale(response: Response, request: Request, locale: Locale) -> None:
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_SECONDS,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
