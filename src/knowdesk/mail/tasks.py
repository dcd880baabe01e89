"""The sending job: one attempt per job; a failed attempt schedules the next job itself."""

from __future__ import annotations

import asyncio
import uuid

from knowdesk.config import get_settings
from knowdesk.db.session import transaction
from knowdesk.jobs.queue import defer, queue
from knowdesk.mail import sending
from knowdesk.mail.transport import send_message


@queue.task(name="mail.send", queue="mail")
async def send(workspace_id: str, mail_id: str) -> None:
    ws, mid = uuid.UUID(workspace_id), uuid.UUID(mail_id)
    settings = get_settings()
    async with transaction() as session:
        outgoing = await sending.prepare(session, ws, mid, settings)
    if outgoing is None:
        return
    outcome = await asyncio.to_thread(
        send_message, outgoing.server, outgoing.message, outgoing.sender, outgoing.recipients
    )
    async with transaction() as session:
        retry_at = await sending.record(session, ws, mid, outcome, settings.mail_backoff_seconds)
        if retry_at is not None:
            await defer(
                session, send, schedule_at=retry_at, workspace_id=workspace_id, mail_id=mail_id
            )
