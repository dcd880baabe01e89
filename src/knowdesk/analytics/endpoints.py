"""Analytics over HTTP: metrics and their CSV exports, knowledge gaps and drafts, the feedback
loop, personalisation settings, contacts' context, and the widget's suggested articles."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from knowdesk.analytics import export
from knowdesk.analytics.dashboard import router as dashboard_router
from knowdesk.analytics.feedback import Feedback
from knowdesk.analytics.filters import FiltersDep
from knowdesk.analytics.metrics import Metrics
from knowdesk.analytics.personalisation import Personaliser, load_settings, save_settings
from knowdesk.analytics.schemas import (
    ContactContext,
    ConversationDraftIn,
    DraftRead,
    FeedbackApplyIn,
    FeedbackApplyResult,
    FeedbackIn,
    FeedbackRead,
    GapDraftIn,
    GapReport,
    MetricsReport,
    PersonalisationSettings,
    SuggestedArticle,
    TicketDraftIn,
)
from knowdesk.analytics.service import Insights
from knowdesk.chat.repository import channel_by_widget_token
from knowdesk.chat.service import UnauthenticatedError, widget_sign_in
from knowdesk.errors import NotFoundError
from knowdesk.web.deps import (
    CanManageSettings,
    CanReadAnalytics,
    CanWorkChats,
    CanWriteKb,
    SessionDep,
    SettingsDep,
)

api_router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
widget_router = APIRouter(prefix="/api/v1/widget", tags=["chat widget"])


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# -- metrics ---------------------------------------------------------------------------------


@api_router.get(
    "/metrics",
    response_model=MetricsReport,
    summary="Conversations, deflection, decisions, ratings, response times, SLA, workload",
)
async def metrics(
    filters: FiltersDep, principal: CanReadAnalytics, session: SessionDep
) -> MetricsReport:
    return await Metrics(session, principal.workspace_id, filters).report()


@api_router.get(
    "/export/{table}.csv",
    summary="One table of the dashboard as CSV",
    description="Tables: " + ", ".join(export.TABLES) + ". Same filters as /metrics.",
    response_class=Response,
)
async def export_table(
    table: str, filters: FiltersDep, principal: CanReadAnalytics, session: SessionDep
) -> Response:
    if table not in export.TABLES:
        raise NotFoundError("Table", table)
    if table == "gaps":
        report = await Insights(session, principal).gap_report(filters)
        return _csv(export.gaps_csv(report), "knowledge-gaps")
    metrics_report = await Metrics(session, principal.workspace_id, filters).report()
    return _csv(export.metrics_csv(metrics_report, table), table)


# -- knowledge gaps and drafts ---------------------------------------------------------------


@api_router.get(
    "/gaps",
    response_model=GapReport,
    summary="Questions the bot failed, clustered into topics with counts and trend",
)
async def knowledge_gaps(
    filters: FiltersDep,
    principal: CanReadAnalytics,
    session: SessionDep,
    min_count: Annotated[int, Query(ge=1, le=1000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    sort: Literal["count", "rising"] = "count",
    min_confidence: Annotated[
        float | None,
        Query(description="Also count answers below this confidence (default: only clarify)."),
    ] = None,
) -> GapReport:
    return await Insights(session, principal).gap_report(
        filters,
        min_confidence=min_confidence,
        min_count=min_count,
        limit=limit,
        rising_first=sort == "rising",
    )


@api_router.post(
    "/gaps/draft",
    response_model=DraftRead,
    status_code=201,
    summary="Turn a topic's questions into a draft FAQ entry, in review",
)
async def draft_from_gap(body: GapDraftIn, principal: CanWriteKb, session: SessionDep) -> DraftRead:
    return await Insights(session, principal).draft_from_gap(
        body.message_ids,
        collection_id=body.collection_id,
        question=body.question,
        answer=body.answer,
    )


@api_router.post(
    "/drafts/from-conversation",
    response_model=DraftRead,
    status_code=201,
    summary="Turn a resolved conversation into a draft FAQ entry, in review",
)
async def draft_from_conversation(
    body: ConversationDraftIn, principal: CanWriteKb, session: SessionDep
) -> DraftRead:
    return await Insights(session, principal).draft_from_conversation(
        body.conversation_id, collection_id=body.collection_id
    )


@api_router.post(
    "/drafts/from-ticket",
    response_model=DraftRead,
    status_code=201,
    summary="Turn a solved ticket into a draft FAQ entry, in review",
)
async def draft_from_ticket(
    body: TicketDraftIn, principal: CanWriteKb, session: SessionDep
) -> DraftRead:
    return await Insights(session, principal).draft_from_ticket(
        body.ticket_id, collection_id=body.collection_id
    )


# -- feedback ----------------------------------------------------------------------------------


@api_router.get(
    "/feedback",
    response_model=list[FeedbackRead],
    summary="Candidate similar questions from real traffic",
)
async def list_feedback(
    principal: CanReadAnalytics,
    session: SessionDep,
    status: Literal["pending", "proposed", "dismissed", "known"] | None = None,
    entry_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[FeedbackRead]:
    rows = await Feedback(session, principal).listing(status=status, entry_id=entry_id, limit=limit)
    return [FeedbackRead.model_validate(r) for r in rows]


@api_router.post(
    "/feedback",
    response_model=FeedbackRead,
    status_code=201,
    summary="An agent's word: this entry answers this customer question",
)
async def record_feedback(
    body: FeedbackIn, principal: CanWorkChats, session: SessionDep
) -> FeedbackRead:
    row = await Feedback(session, principal).record(
        message_id=body.message_id, entry_id=body.entry_id
    )
    return FeedbackRead.model_validate(row)


@api_router.post(
    "/feedback/propose",
    response_model=FeedbackApplyResult,
    summary="Add pending candidates to their entries as similar questions, in review",
)
async def propose_feedback(
    body: FeedbackApplyIn, principal: CanWriteKb, session: SessionDep
) -> FeedbackApplyResult:
    return await Feedback(session, principal).propose(body.entry_ids)


@api_router.post(
    "/feedback/{candidate_id}/dismiss",
    response_model=FeedbackRead,
    summary="Drop a candidate similar question",
)
async def dismiss_feedback(
    candidate_id: uuid.UUID, principal: CanWriteKb, session: SessionDep
) -> FeedbackRead:
    return FeedbackRead.model_validate(await Feedback(session, principal).dismiss(candidate_id))


# -- personalisation ---------------------------------------------------------------------------


@api_router.get(
    "/settings/personalisation",
    response_model=PersonalisationSettings,
    summary="Whether contacts' data shapes suggestions and answers",
)
async def personalisation_settings(
    principal: CanReadAnalytics, session: SessionDep
) -> PersonalisationSettings:
    return await load_settings(session, principal.workspace_id)


@api_router.put(
    "/settings/personalisation",
    response_model=PersonalisationSettings,
    summary="Opt in or out of personalisation",
)
async def change_personalisation(
    body: PersonalisationSettings, principal: CanManageSettings, session: SessionDep
) -> PersonalisationSettings:
    return await save_settings(session, principal, body)


@api_router.get(
    "/contacts/{contact_id}/context",
    response_model=ContactContext,
    summary="What an agent should know about a contact: products, questions, open tickets",
)
async def contact_context(
    contact_id: uuid.UUID, principal: CanWorkChats, session: SessionDep
) -> ContactContext:
    return await Personaliser(session, principal.workspace_id).context(contact_id)


@widget_router.get(
    "/suggestions",
    response_model=list[SuggestedArticle],
    summary="Articles to offer when the chat window opens (by page and the customer's history)",
)
async def widget_suggestions(
    session: SessionDep,
    settings: SettingsDep,
    x_widget_token: Annotated[str, Header(max_length=200)],
    x_contact_token: Annotated[str | None, Header(max_length=2000)] = None,
    page_url: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> list[SuggestedArticle]:
    if x_contact_token:
        channel, contact = await widget_sign_in(
            session,
            widget_token=x_widget_token,
            identity=None,
            contact_token=x_contact_token,
            secret=settings.secret_key,
        )
    else:
        found = await channel_by_widget_token(session, x_widget_token)
        if found is None:
            raise UnauthenticatedError("Unknown widget token.")
        channel, contact = found, None
    suggested, _ = await Personaliser(session, channel.workspace_id).suggestions(
        contact=contact, page_url=page_url, collection_ids=channel.collection_ids, limit=limit
    )
    return suggested


router = APIRouter()
router.include_router(api_router)
router.include_router(widget_router)
router.include_router(dashboard_router)
