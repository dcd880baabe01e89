"""What the world hears of a ticket: webhooks for the company's systems, e-mail for the customer.

Both are queued in the caller's transaction (webhook deliveries and outgoing mail are rows that
jobs send), so nothing is announced about a change that is rolled back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.chat.models import Contact
from knowdesk.tickets.models import Ticket, TicketComment
from knowdesk.tickets.schemas import TicketRead
from knowdesk.webhooks.service import emit


def _ticket(ticket: Ticket) -> dict[str, Any]:
    return TicketRead.model_validate(ticket).model_dump(mode="json")


async def ticket_created(session: AsyncSession, ticket: Ticket, requester: Contact | None) -> None:
    await emit(session, ticket.workspace_id, "ticket.created", {"ticket": _ticket(ticket)})


async def ticket_updated(
    session: AsyncSession, ticket: Ticket, actor: str, changes: dict[str, Any]
) -> None:
    if not changes:
        return
    payload = {"ticket": _ticket(ticket), "actor": actor, "changes": changes}
    await emit(session, ticket.workspace_id, "ticket.updated", payload)


async def comment_added(session: AsyncSession, ticket: Ticket, comment: TicketComment) -> None:
    """Every reply and note reaches webhooks, flagged `public` or not."""
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


async def sla(session: AsyncSession, ticket: Ticket, event: str, target: str) -> None:
    payload = {"ticket": _ticket(ticket), "target": target}
    await emit(session, ticket.workspace_id, event, payload)
