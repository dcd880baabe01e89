from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.audit.models import AuditEvent
from knowdesk.db.repository import ScopedRepository


class AuditRepository(ScopedRepository[AuditEvent]):
    model = AuditEvent

    async def recent(
        self, *, target_type: str | None = None, target_id: str | None = None, limit: int = 100
    ) -> Sequence[AuditEvent]:
        stmt = self.select()
        if target_type:
            stmt = stmt.where(AuditEvent.target_type == target_type)
        if target_id:
            stmt = stmt.where(AuditEvent.target_id == target_id)
        return await self.list(stmt.order_by(AuditEvent.at.desc()).limit(limit))


def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    target_type: str,
    target_id: object | None = None,
    **details: Any,
) -> AuditEvent:
    """Append an audit event in the caller's transaction (so it exists only if the act does)."""
    event = AuditEvent(
        actor_user_id=principal.user_id,
        actor_api_key_id=principal.api_key_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    return AuditRepository(session, principal.workspace_id).add(event)
