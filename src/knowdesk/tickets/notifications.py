"""What the world hears of a ticket: webhooks for the company's systems, e-mail for the customer.

Both are queued in the caller's transaction (webhook deliveries and outgoing mail are rows that
jobs send), so nothing is announced about a change that is rolled back. Customers get mail when
their ticket is opened and when someone answers them; every mail carries the ticket's reply
token, so their answer threads back into the ticket (see mailbox.py).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.chat.models import Contact
from knowdesk.errors import InvalidInputError
from knowdesk.mail.service import send_mail
from knowdesk.tickets.models import AuthorKind, Ticket, TicketComment
from knowdesk.tickets.repository import SettingsRepository
from knowdesk.tickets.schemas import TicketRead
from knowdesk.webhooks.service import emit

log = logging.getLogger(__name__)

_OPENED = {
    "en": "We have received your request and opened ticket #{number}: {subject}\n\n"
    "Reply to this mail to add anything; we will write back here.",
    "zh": "我们已收到您的请求，工单号 #{number}：{subject}\n\n如需补充信息，直接回复此邮件即可。",
}


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return TicketRead.model_validate(ticket).model_dump(mode="json")


async def _mail_requester(
    session: AsyncSession, ticket: Ticket, requester: Contact | None, text: str
) -> None:
    """Mail the customer in the ticket's thread, when they have an address and the workspace
    mails customers. An address the mail domain refuses is logged, never fatal to the ticket."""
    if requester is None or not requester.email:
        return
    settings = await SettingsRepository(session, ticket.workspace_id).ensure()
    if not settings.notify_email:
        return
    try:
        await send_mail(
            session,
            ticket.workspace_id,
            requester.email,
            f"[#{ticket.number}] {ticket.subject}",
            text,
            reply_token=ticket.thread_token,
        )
    except InvalidInputError as exc:
        log.warning("ticket #%s: no mail to the requester: %s", ticket.number, exc.message)


async def ticket_created(session: AsyncSession, ticket: Ticket, requester: Contact | None) -> None:
    await emit(session, ticket.workspace_id, "ticket.created", {"ticket": _ticket(ticket)})
    text = _OPENED.get(ticket.language, _OPENED["en"])
    await _mail_requester(
        session, ticket, requester, text.format(number=ticket.number, subject=ticket.subject)
    )


async def ticket_updated(
    session: AsyncSession, ticket: Ticket, actor: str, changes: dict[str, Any]
) -> None:
    if not changes:
        return
    payload = {"ticket": _ticket(ticket), "actor": actor, "changes": changes}
    await emit(session, ticket.workspace_id, "ticket.updated", payload)


async def comment_added(
    session: AsyncSession, ticket: Ticket, comment: TicketComment, requester: Contact | None
) -> None:
    """Every reply and note reaches webhooks, flagged `public` or not; the customer gets the
    public replies that others wrote."""
    payload = {
        "ticket": _ticket(ticket),
        "comment": {
            "id": str(comment.id),
            "public": comment.public,
            "author_kind": comment.author_kind.value,
            "author_name": comment.author_name,
            "body": comment.body,
        },
    }
    await emit(session, ticket.workspace_id, "ticket.updated", payload)
    if comment.public and comment.author_kind != AuthorKind.CONTACT:
        await _mail_requester(session, ticket, requester, comment.body)


async def sla(session: AsyncSession, ticket: Ticket, event: str, target: str) -> None:
    payload = {"ticket": _ticket(ticket), "target": target}
    await emit(session, ticket.workspace_id, event, payload)
