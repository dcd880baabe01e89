"""The delivery job: one attempt per job; a failed attempt schedules the next job itself."""

from __future__ import annotations

import uuid

from knowdesk.config import get_settings
from knowdesk.db.session import transaction
from knowdesk.jobs.queue import defer, queue
from knowdesk.webhooks import delivery


@queue.task(name="webhooks.deliver", queue="webhooks")
async def deliver(workspace_id: str, delivery_id: str) -> None:
    ws, did = uuid.UUID(workspace_id), uuid.UUID(delivery_id)
    settings = get_settings()
    async with transaction() as session:
        request = await delivery.prepare(session, ws, did)
    if request is None:
        return
    outcome = await delivery.send(request, settings.webhook_timeout_seconds)
    async with transaction() as session:
        retry_at = await delivery.record(
            session, ws, did, outcome, settings.webhook_backoff_seconds
        )
        if retry_at is not None:
            await defer(
                session,
                deliver,
                schedule_at=retry_at,
                workspace_id=workspace_id,
                delivery_id=delivery_id,
            )
