"""Rules of mail: what may be sent, how replies are threaded, and where inbound mail goes.

Every function works inside the caller's transaction and never commits. A mail and the job
that sends it are written in that same transaction, so a mail goes out exactly when the work
that wrote it is committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.audit.service import record
from knowdesk.config import get_settings
from knowdesk.jobs.queue import defer
from knowdesk.mail.compose import address_only, checked_address, checked_headers, clean_subject
from knowdesk.mail.handlers import inbound_handlers
from knowdesk.mail.inbound import InboundMail
from knowdesk.mail.models import MailDirection, MailMessage, MailStatus
from knowdesk.mail.reply_tokens import TOKEN, message_ids, new_message_id, reply_address
from knowdesk.mail.repository import MailRepository
from knowdesk.mail.schemas import WorkspaceMailSettings
from knowdesk.mail.sending import workspace_mail_settings
from knowdesk.mail.tasks import send

# How many earlier mails of a thread a new one lists in References.
MAX_THREAD_REFERENCES = 10


@dataclass(frozen=True)
class QueuedMail:
    id: uuid.UUID
    message_id: str


@dataclass(frozen=True)
class ReceivedMail:
    mail: MailMessage
    duplicate: bool


def _ascii_domain(domain: str) -> str:
    """The domain for a Message-ID, which must be ASCII (例子.中国 → xn--fsqu00a.xn--fiqs8s)."""
    try:
        return domain.encode("idna").decode("ascii") or "localhost"
    except UnicodeError:
        return "localhost"


def _pop_header(headers: dict[str, str], name: str) -> str | None:
    key = next((k for k in headers if k.lower() == name.lower()), None)
    return headers.pop(key) if key is not None else None


async def send_mail(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    to: str | Sequence[str],
    subject: str,
    text: str,
    *,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    reply_token: str | None = None,
) -> QueuedMail:
    """Queue a mail from the workspace's sender; the `mail.send` job sends and retries it.

    `reply_token` (8-64 of a-z, 0-9 and '-' with at least one digit; unguessable, e.g.
    `secrets.token_hex(12)`) marks
    the thread: replies come back to `<reply address>+<token>@…`, carry it in In-Reply-To,
    and reach the inbound handlers with `InboundMail.token` set. Mails that share a token form
    one thread in the customer's mail client. `headers` may add any header but From, To,
    Subject, Date, Message-ID, Reply-To and the MIME ones; In-Reply-To and References given
    there replace the computed thread.
    """
    recipients = [checked_address(a) for a in ([to] if isinstance(to, str) else to)]
    if not recipients:
        raise ValueError("A mail needs at least one recipient.")
    if reply_token is not None and not TOKEN.fullmatch(reply_token):
        raise ValueError(f"A reply token is 8-64 of a-z, 0-9 and '-' with a digit: {reply_token!r}")
    extra = checked_headers(headers or {})
    in_reply_to = _pop_header(extra, "In-Reply-To")
    references = message_ids(_pop_header(extra, "References"))
    settings = get_settings()
    own = await workspace_mail_settings(session, workspace_id)
    sender = own.from_address or settings.smtp_from
    mails = MailRepository(session, workspace_id)
    reply_to = None
    if reply_token is not None:
        base = own.reply_address or settings.mail_reply_address or sender
        reply_to = reply_address(base, reply_token, default_name=parseaddr(sender)[0])
        if in_reply_to is None and not references:
            thread = await mails.thread(reply_token, MAX_THREAD_REFERENCES)
            references = [m.message_id for m in thread if m.message_id]
            in_reply_to = references[-1] if references else None
    domain = _ascii_domain(address_only(sender).rpartition("@")[2])
    mail = mails.add(
        MailMessage(
            direction=MailDirection.OUTBOUND,
            status=MailStatus.QUEUED,
            message_id=new_message_id(domain, reply_token),
            sender=sender,
            recipients=recipients,
            reply_to=reply_to,
            subject=clean_subject(subject),
            text=text,
            html=html,
            headers=extra,
            in_reply_to=in_reply_to,
            references=references,
            reply_token=reply_token,
        )
    )
    await session.flush()
    await defer(session, send, workspace_id=str(workspace_id), mail_id=str(mail.id))
    assert mail.message_id is not None
    return QueuedMail(id=mail.id, message_id=mail.message_id)


async def receive_mail(
    session: AsyncSession, workspace_id: uuid.UUID, mail: InboundMail
) -> ReceivedMail:
    """Log an inbound mail and hand it to the registered handlers. A mail whose Message-ID was
    received before is not handled again (mail servers and gateways retry)."""
    mails = MailRepository(session, workspace_id)
    if mail.message_id and (seen := await mails.inbound_with_message_id(mail.message_id)):
        return ReceivedMail(seen, duplicate=True)
    row = mails.add(
        MailMessage(
            direction=MailDirection.INBOUND,
            status=MailStatus.UNHANDLED,
            message_id=mail.message_id,
            sender=str(Address(display_name=mail.sender_name, addr_spec=mail.sender)),
            recipients=mail.recipients,
            subject=mail.subject,
            text=mail.text,
            headers={},
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            reply_token=mail.token,
        )
    )
    await session.flush()
    for name, handler in inbound_handlers():
        if await handler(session, workspace_id, mail):
            row.status, row.handled_by = MailStatus.HANDLED, name
            break
    return ReceivedMail(row, duplicate=False)


def _keeps_password(new: WorkspaceMailSettings, old: WorkspaceMailSettings) -> bool:
    # Only for the same account: a password must never follow the settings to another server.
    return (
        new.smtp is not None
        and new.smtp.password is None
        and old.smtp is not None
        and (old.smtp.host, old.smtp.username) == (new.smtp.host, new.smtp.username)
    )


async def update_mail_settings(
    session: AsyncSession, principal: Principal, new: WorkspaceMailSettings
) -> WorkspaceMailSettings:
    """Replace the workspace's own mail settings; an SMTP password left out is kept."""
    if new.from_address:
        new.from_address = checked_address(new.from_address)
    if new.reply_address:
        new.reply_address = checked_address(new.reply_address)
    old = await workspace_mail_settings(session, principal.workspace_id)
    if _keeps_password(new, old):
        assert new.smtp is not None and old.smtp is not None
        new.smtp.password = old.smtp.password
    workspace = await session.get(Workspace, principal.workspace_id)
    assert workspace is not None
    workspace.settings = {**workspace.settings, "mail": new.model_dump()}
    record(session, principal, "mail.settings", target_type="workspace", target_id=workspace.id)
    return new
