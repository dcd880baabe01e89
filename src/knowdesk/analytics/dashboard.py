"""The analytics dashboard: one server-rendered page under /console/analytics.

Charts are SVG drawn on the server (svg.py); the filter form works without script; a small
hand-written script (analytics.js) only sends the "draft FAQ" and "propose similar questions"
actions. Nothing is loaded from another site. The page signs in like the API (the session
cookie of the console, or a bearer token).

The page speaks the console's languages, chosen as the console chooses (the toggle, then the
browser's Accept-Language, then the account's locale). Its words are in analytics/strings.py;
the CSV exports it links to keep English column names, as programs read them.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from knowdesk.accounts.models import User, Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.analytics import svg
from knowdesk.analytics.feedback import Feedback
from knowdesk.analytics.filters import metrics_filters
from knowdesk.analytics.metrics import Metrics
from knowdesk.analytics.models import FeedbackCandidate
from knowdesk.analytics.schemas import GapReport, Interval, MetricsFilters, MetricsReport
from knowdesk.analytics.service import Insights
from knowdesk.analytics.strings import STRINGS
from knowdesk.chat.repository import ChannelRepository, TeamRepository
from knowdesk.console import i18n
from knowdesk.console.i18n import HTML_LANG, LOCALES, Locale
from knowdesk.console.pages import PAGE_HEADERS  # the console's CSP and framing rules
from knowdesk.console.session import request_locale
from knowdesk.errors import KnowdeskError
from knowdesk.kb.models import Entry
from knowdesk.kb.repository import CollectionRepository, EntryRepository
from knowdesk.tickets.repository import CategoryRepository
from knowdesk.web.deps import SessionDep, SettingsDep, current_principal

HERE = Path(__file__).parent
STATIC = {
    "analytics.css": "text/css; charset=utf-8",
    "analytics.js": "text/javascript; charset=utf-8",
}
GAP_TOPICS_SHOWN = 15

templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/console/analytics", include_in_schema=False)


def translator(locale: Locale) -> Callable[..., str]:
    """The console's `t` for `locale`, knowing the dashboard's own words first."""
    console = i18n.translator(locale)
    index = LOCALES.index(locale)

    def t(key: str, **values: object) -> str:
        texts = STRINGS.get(key)
        return i18n.fill(texts[index], values) if texts else console(key, **values)

    return t


ENGLISH = translator("en")


def duration(seconds: float | None, t: Callable[..., str] = ENGLISH) -> str:
    """A duration as people read it: 45 s, 12 min, 3 h 05 min, 2 d 4 h (in `t`'s language).

    A number and its unit never part at the end of a line (a no-break space joins them), so a
    narrow figure card breaks "2 h 00 min" between "2 h" and "00 min" if it must.
    """
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        text = t("analytics.duration.s", s=s)
    elif s < 3600:
        text = t("time.minutes", m=s // 60)
    elif s < 86400:
        text = t("time.hours_minutes", h=s // 3600, m=f"{s % 3600 // 60:02d}")
    else:
        text = t("time.days_hours", d=s // 86400, h=s % 86400 // 3600)
    return re.sub(r" (?!\d)", "\u00a0", text)


def percent(share: float | None) -> str:
    return "–" if share is None or math.isnan(share) else f"{share * 100:.1f} %"


templates.env.filters["duration"] = duration
templates.env.filters["percent"] = percent


async def _principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    return await current_principal(
        request,
        session,
        settings,
        authorization=request.headers.get("authorization"),
        x_api_key=request.headers.get("x-api-key"),
        x_workspace=request.headers.get("x-workspace"),
    )


def _series(t: Callable[..., str], key: str, values: list[float]) -> svg.Series:
    return svg.Series(t(f"analytics.series.{key}"), values, key=key)


def _reason(t: Callable[..., str], reason: str) -> str:
    """A hand-off reason in words; a reason this page does not know yet shows as stored."""
    key = f"analytics.reason.{reason}"
    return t(key) if key in STRINGS else reason


def _charts(report: MetricsReport, t: Callable[..., str]) -> dict[str, str]:
    labels = [row.bucket.strftime("%m-%d") for row in report.series]
    series = report.series
    return {
        "conversations": svg.line_chart(
            labels,
            [
                _series(t, "conversations", [r.conversations for r in series]),
                _series(t, "deflected", [r.deflected for r in series]),
                _series(t, "handed_off", [r.handed_off for r in series]),
            ],
            title=t("analytics.chart.conversations"),
        ),
        "tickets": svg.line_chart(
            labels,
            [
                _series(t, "opened", [r.tickets_created for r in series]),
                _series(t, "solved", [r.tickets_solved for r in series]),
                _series(t, "backlog", [r.backlog for r in series]),
            ],
            title=t("analytics.chart.tickets"),
        ),
        "ratings": svg.line_chart(
            labels,
            [
                _series(t, "helpful", [r.helpful for r in series]),
                _series(t, "not_helpful", [r.not_helpful for r in series]),
            ],
            title=t("analytics.chart.ratings_title"),
            width=1180,  # the whole width of the page: text at its natural size
            height=220,
        ),
        "decisions": svg.bar_chart(
            [t(f"decision.{d.decision}") for d in report.decisions],
            [d.count for d in report.decisions],
            title=t("analytics.chart.decisions"),
            width=580,
        ),
        "handoff_reasons": svg.bar_chart(
            [_reason(t, r.reason) for r in report.handoff_reasons],
            [r.count for r in report.handoff_reasons],
            title=t("analytics.chart.handoff_reasons_title"),
            width=580,
        ),
    }


def same_questions(
    candidates: Sequence[FeedbackCandidate],
) -> list[tuple[FeedbackCandidate, int]]:
    """Candidates of one entry asking the same thing, shown once with how often it was asked."""
    counts = Counter((c.entry_id, " ".join(c.question.casefold().split())) for c in candidates)
    first: dict[tuple[uuid.UUID, str], FeedbackCandidate] = {}
    for c in candidates:
        first.setdefault((c.entry_id, " ".join(c.question.casefold().split())), c)
    return [(c, counts[key]) for key, c in first.items()]


def _query(filters: MetricsFilters) -> str:
    values: dict[str, Any] = {
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "interval": filters.interval.value,
        "tz": filters.tz,
    }
    optional = {
        "channel_id": filters.channel_id,
        "team_id": filters.team_id,
        "category": filters.category,
    }
    values.update({k: str(v) for k, v in optional.items() if v})
    return urlencode(values)


def _filters(request: Request) -> MetricsFilters:
    """The filters of the page's query string (the form's), read like the API reads them."""
    params = request.query_params
    return metrics_filters(
        start=params.get("start"),
        end=params.get("end"),
        interval=Interval(params.get("interval") or Interval.DAY.value),
        tz=params.get("tz") or "UTC",
        channel_id=params.get("channel_id"),
        team_id=params.get("team_id"),
        category=params.get("category"),
    )


# The filter errors the services raise (in English, as the API returns them), recognised so that
# the page can say them in the viewer's language; tests hold these to the services' messages.
FILTER_ERRORS = (
    (re.compile(r"The period ends before it starts\."), "analytics.error.backwards"),
    (
        re.compile(
            r"At most (?P<most>\d+) (?P<interval>day|week|month)s: choose a longer interval\."
        ),
        "analytics.error.too_many",
    ),
    (re.compile(r"Unknown time zone (?P<tz>.+)\."), "analytics.error.time_zone"),
    (
        re.compile(
            r"(?P<field>start|end|channel_id|team_id): (?P<value>.+) is not a valid value\."
        ),
        "analytics.error.value",
    ),
)
FILTER_FIELDS = {
    "start": "analytics.from",
    "end": "analytics.to",
    "channel_id": "analytics.channel",
    "team_id": "analytics.team",
}


def filter_error(exc: Exception, locale: Locale) -> str:
    """Why the filters cannot be reported, in the viewer's language."""
    t = translator(locale)
    message = exc.message if isinstance(exc, KnowdeskError) else ""
    for pattern, key in FILTER_ERRORS:
        match = pattern.fullmatch(message)
        if match:
            values = match.groupdict()
            if "interval" in values:
                values["interval"] = t(f"analytics.interval.{values['interval']}")
            if "field" in values:
                values["field"] = t(FILTER_FIELDS[values["field"]])
            return t(key, **values)
    # A message not known here is still better than none for those who read English.
    return message if message and locale == "en" else t("analytics.error.filters")


async def _choices(session: SessionDep, principal: Principal) -> dict[str, Any]:
    ws = principal.workspace_id
    return {
        "channels": sorted(await ChannelRepository(session, ws).list(), key=lambda c: c.name),
        "teams": sorted(await TeamRepository(session, ws).list(), key=lambda t: t.name),
        "categories": sorted(c.name for c in await CategoryRepository(session, ws).list()),
        "collections": sorted(await CollectionRepository(session, ws).list(), key=lambda c: c.name),
    }


def _language(request: Request, locale: Locale) -> dict[str, Any]:
    """What every template of the page needs to speak the viewer's language."""
    return {
        "t": translator(locale),
        "locale": locale,
        "html_lang": HTML_LANG[locale],
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    try:
        principal = await _principal(request, session, settings)
    except HTTPException as exc:
        if exc.status_code == 401:  # nobody signed in: the console's sign-in brings them back
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/console/sign-in?next={quote(here, safe='')}", 303)
        return templates.TemplateResponse(
            request,
            "signin.html",
            {**_language(request, request_locale(request)), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=PAGE_HEADERS,
        )
    user = await session.get(User, principal.user_id) if principal.user_id else None
    locale = request_locale(request, user.locale if user else None)
    language = _language(request, locale)
    t = language["t"]
    if not principal.can("analytics.read"):
        return templates.TemplateResponse(
            request,
            "signin.html",
            {**language, "message": t("analytics.error.role", role=t(f"role.{principal.role}"))},
            status_code=403,
            headers=PAGE_HEADERS,
        )
    workspace = await session.get(Workspace, principal.workspace_id)
    context: dict[str, Any] = {
        **language,
        "workspace": workspace.name if workspace else "",
        "can_draft": principal.can("kb.write"),
        **await _choices(session, principal),
    }
    try:
        filters = _filters(request)
        report = await Metrics(session, principal.workspace_id, filters).report()
        gap_report: GapReport = await Insights(session, principal).gap_report(
            filters, limit=GAP_TOPICS_SHOWN
        )
    except (KnowdeskError, ValueError) as exc:
        context["error"] = filter_error(exc, locale)
        return templates.TemplateResponse(
            request, "dashboard.html", context, status_code=422, headers=PAGE_HEADERS
        )
    pending = await Feedback(session, principal).listing(status="pending", entry_id=None, limit=50)
    entries = EntryRepository(session, principal.workspace_id)
    named = entries.select().where(Entry.id.in_({c.entry_id for c in pending}))
    context.update(
        filters=filters,
        query=_query(filters),
        report=report,
        summary=report.summary,
        charts=_charts(report, t),
        gaps=gap_report,
        sparks={
            topic.key: svg.sparkline(topic.series, title=f"{topic.label}: {sum(topic.series)}")
            for topic in gap_report.topics
        },
        pending_feedback=same_questions(pending),
        entry_titles={e.id: e.title for e in await entries.list(named)} if pending else {},
        # What the page's script says, in the viewer's language.
        script_strings={
            key: t(key)
            for key in (
                "analytics.gaps.draft",
                "analytics.gaps.drafting",
                "analytics.gaps.in_review",
                "analytics.feedback.proposed",
            )
        },
    )
    return templates.TemplateResponse(request, "dashboard.html", context, headers=PAGE_HEADERS)


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    if name not in STATIC:
        raise HTTPException(404, "Not found")
    return FileResponse(
        HERE / "templates" / name,
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=300"},
    )
