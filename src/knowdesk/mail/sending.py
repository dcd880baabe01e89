"""One attempt at sending a logged mail: the message, and what the SMTP server's answer means.

The SMTP conversation runs between two short transactions, never inside one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import Workspace
from knowdesk.config import Settings
from knowdesk.mail.compose import address_only, build_message
from knowdesk.mail.models import MailStatus
from knowdesk.mail.repository import MailRepository
from knowdesk.mail.schemas import WorkspaceMailSettings
from knowdesk.mail.transport import SendOutcome, SmtpServer


@dataclass(frozen=True)
class Outgoing:
    server: SmtpServer
    message: EmailMessage
    sender: str
    recipients: list[str]


async def workspace_mail_settings(
    session: AsyncSession, workspace_id: uuid.UUID
) -> WorkspaceMailSettings:
    workspace = await session.get(Workspace, workspace_id)
    stored = (workspace.settings if workspace else {}).get("mail") or {}
    return WorkspaceMailSettings.model_validate(stored)


async def prepare(
    session: AsyncSession, workspace_id: uuid.UUID, mail_id: uuid.UUID, settings: Settings
) -> Outgoing | None:
    """The next attempt's message and server, or None when there is nothing (left) to send."""
    mail = await MailRepository(session, workspace_id).get_for_update(mail_id)
    if mail is None or mail.status != MailStatus.QUEUED:
        return None
    own = await workspace_mail_settings(session, workspace_id)
    return Outgoing(
        server=SmtpServer.chosen(settings, own.smtp),
        message=build_message(mail),
        sender=address_only(mail.sender),
        recipients=[address_only(r) for r in mail.recipients],
    )


async def record(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    mail_id: uuid.UUID,
    outcome: SendOutcome,
    backoff: Sequence[int],
) -> datetime | None:
    """Log the attempt; returns when to make the next one, or None when done.
    `backoff[n]` is the wait in seconds after the (n+1)th failed attempt."""
    mail = await MailRepository(session, workspace_id).get_for_update(mail_id)
    if mail is None or mail.status != MailStatus.QUEUED:
        return None
    mail.attempts += 1
    mail.error = outcome.error
    mail.next_attempt_at = None
    if outcome.sent:
        mail.status, mail.sent_at = MailStatus.SENT, datetime.now(UTC)
        return None
    if outcome.permanent or mail.attempts > len(backoff):
        mail.status = MailStatus.FAILED
        return None
    mail.next_attempt_at = datetime.now(UTC) + timedelta(seconds=backoff[mail.attempts - 1])
    return mail.next_attempt_at
