"""The analytics dashboard: one server-rendered page under /console/analytics.

Charts are SVG drawn on the server (svg.py); the filter form works without script; a small
hand-written script (analytics.js) only sends the "draft FAQ" and "propose similar questions"
actions. Nothing is loaded from another site. The page signs in like the API (the session
cookie of the console, or a bearer token).
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from knowdesk.accounts.models import Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.analytics import svg
from knowdesk.analytics.feedback import Feedback
from knowdesk.analytics.filters import metrics_filters
from knowdesk.analytics.metrics import Metrics
from knowdesk.analytics.models import FeedbackCandidate
from knowdesk.analytics.schemas import GapReport, Interval, MetricsFilters, MetricsReport
from knowdesk.analytics.service import Insights
from knowdesk.chat.repository import ChannelRepository, TeamRepository
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


def duration(seconds: float | None) -> str:
    """A duration as people read it: 45 s, 12 min, 3 h 05 min, 2 d 4 h."""
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


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


def _charts(report: MetricsReport) -> dict[str, str]:
    labels = [row.bucket.strftime("%m-%d") for row in report.series]
    series = report.series
    return {
        "conversations": svg.line_chart(
            labels,
            [
                svg.Series("conversations", [r.conversations for r in series]),
                svg.Series("self-served", [r.deflected for r in series]),
                svg.Series("handed off", [r.handed_off for r in series]),
            ],
            title="Conversations",
        ),
        "tickets": svg.line_chart(
            labels,
            [
                svg.Series("opened", [r.tickets_created for r in series]),
                svg.Series("solved", [r.tickets_solved for r in series]),
                svg.Series("backlog", [r.backlog for r in series]),
            ],
            title="Tickets",
        ),
        "ratings": svg.line_chart(
            labels,
            [
                svg.Series("helpful", [r.helpful for r in series]),
                svg.Series("not helpful", [r.not_helpful for r in series]),
            ],
            title="Ratings of the bot's replies",
            width=1180,  # the whole width of the page: text at its natural size
            height=220,
        ),
        "decisions": svg.bar_chart(
            [d.decision for d in report.decisions],
            [d.count for d in report.decisions],
            title="The bot's decisions",
            width=580,
        ),
        "handoff_reasons": svg.bar_chart(
            [r.reason for r in report.handoff_reasons],
            [r.count for r in report.handoff_reasons],
            title="Why conversations went to people",
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


async def _choices(session: SessionDep, principal: Principal) -> dict[str, Any]:
    ws = principal.workspace_id
    return {
        "channels": sorted(await ChannelRepository(session, ws).list(), key=lambda c: c.name),
        "teams": sorted(await TeamRepository(session, ws).list(), key=lambda t: t.name),
        "categories": sorted(c.name for c in await CategoryRepository(session, ws).list()),
        "collections": sorted(await CollectionRepository(session, ws).list(), key=lambda c: c.name),
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
            request, "signin.html", {"message": str(exc.detail)}, status_code=exc.status_code
        )
    if not principal.can("analytics.read"):
        return templates.TemplateResponse(
            request,
            "signin.html",
            {"message": f"Your role ({principal.role}) may not see analytics."},
            status_code=403,
        )
    workspace = await session.get(Workspace, principal.workspace_id)
    context: dict[str, Any] = {
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
        context["error"] = getattr(exc, "message", "The filters are not valid.")
        return templates.TemplateResponse(request, "dashboard.html", context, status_code=422)
    pending = await Feedback(session, principal).listing(status="pending", entry_id=None, limit=50)
    entries = EntryRepository(session, principal.workspace_id)
    named = entries.select().where(Entry.id.in_({c.entry_id for c in pending}))
    context.update(
        filters=filters,
        query=_query(filters),
        report=report,
        summary=report.summary,
        charts=_charts(report),
        gaps=gap_report,
        sparks={
            t.key: svg.sparkline(t.series, title=f"{t.label}: {sum(t.series)}")
            for t in gap_report.topics
        },
        pending_feedback=same_questions(pending),
        entry_titles={e.id: e.title for e in await entries.list(named)} if pending else {},
    )
    return templates.TemplateResponse(request, "dashboard.html", context)


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    if name not in STATIC:
        raise HTTPException(404, "Not found")
    return FileResponse(
        HERE / "templates" / name,
        media_type=STATIC[name],
        headers={"Cache-Control": "public, max-age=300"},
    )
