from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from knowdesk.jobs.queue import defer
from knowdesk.retrieval.answer import answer_question
from knowdesk.retrieval.models import Calibration
from knowdesk.retrieval.schemas import AnswerResult, AskIn, CalibrationRead
from knowdesk.retrieval.tasks import calibrate_workspace
from knowdesk.web.deps import CanReadKb, CanWriteKb, SessionDep

router = APIRouter(prefix="/api/v1", tags=["answers"])


@router.post(
    "/ask",
    response_model=AnswerResult,
    summary="Answer a question from the published knowledge base",
    description="Returns the decision (direct, grounded, clarify or handoff), the answer text, "
    "its sources and the scores behind the decision. `history` holds earlier customer turns, "
    "used to resolve a follow-up such as 'and how much is it?'.",
)
async def ask(
    body: AskIn,
    principal: CanReadKb,
    session: SessionDep,
    explain: Annotated[
        bool, Query(description="Add `ranking`: the ten best-ranked entries with their scores.")
    ] = False,
) -> AnswerResult:
    return await answer_question(
        session,
        principal.workspace_id,
        body.question,
        history=body.history,
        collection_ids=body.collection_ids,
        explain=explain,
    )


@router.get(
    "/retrieval/calibration",
    response_model=CalibrationRead,
    summary="The answer thresholds learnt from this knowledge base",
)
async def calibration(principal: CanReadKb, session: SessionDep) -> CalibrationRead:
    row = await session.get(Calibration, principal.workspace_id)
    if row is None:
        return CalibrationRead(calibrated=False)
    return CalibrationRead(
        calibrated=True, units=row.units, computed_at=row.computed_at.isoformat(), data=row.data
    )


@router.post(
    "/retrieval/calibrate",
    status_code=202,
    summary="Recalibrate now (normally automatic after content changes)",
)
async def recalibrate(principal: CanWriteKb, session: SessionDep) -> Response:
    await defer(session, calibrate_workspace, workspace_id=str(principal.workspace_id))
    return Response(status_code=202)
