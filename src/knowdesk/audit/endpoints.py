from __future__ import annotations

from fastapi import APIRouter, Query

from knowdesk.audit.schemas import AuditEventRead
from knowdesk.audit.service import AuditRepository
from knowdesk.web.deps import CanReadKb, SessionDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=list[AuditEventRead], summary="Recent audit events")
async def list_audit_events(
    session: SessionDep,
    principal: CanReadKb,
    target_type: str | None = None,
    target_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditEventRead]:
    events = await AuditRepository(session, principal.workspace_id).recent(
        target_type=target_type, target_id=target_id, limit=limit
    )
    return [AuditEventRead.model_validate(e) for e in events]
