from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.mail.service import QueuedMail, send_mail
from tests.webhooks.server import OwnServer


def send_now(
    server: OwnServer,
    workspace_id: str,
    to: str | Sequence[str],
    subject: str = "Your ticket",
    text: str = "Hello",
    **options: Any,
) -> QueuedMail:
    """Call send_mail as other domains do, in a committed transaction."""

    async def work(session: AsyncSession) -> QueuedMail:
        return await send_mail(session, uuid.UUID(workspace_id), to, subject, text, **options)

    return server.run(work)


def wait_mail_done(client: httpx.Client, mail_id: uuid.UUID, timeout: float = 30) -> dict[str, Any]:
    """Poll the mail log until the mail is sent or given up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mail = client.get(f"/api/v1/mail/messages/{mail_id}").json()
        if mail["status"] != "queued":
            return dict(mail)
        time.sleep(0.2)
    raise AssertionError(f"mail {mail_id} still queued after {timeout} s")


def set_sender(client: httpx.Client, **fields: Any) -> None:
    body = {
        "from_address": "Acme Support <help@example.com>",
        "reply_address": "support@example.com",
        **fields,
    }
    r = client.put("/api/v1/mail/settings", json=body)
    assert r.status_code == 200, r.text
