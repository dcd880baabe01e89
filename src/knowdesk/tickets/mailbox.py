"""Mail into tickets: replies thread into their ticket, new mail opens (or joins) one.

Registered with the mail domain's inbound handlers when this module is imported (the web app
and the SMTP listener import every router, and tickets' router imports this module). A reply
finds its ticket by the reply token of the mail it answers (`Ticket.thread_token`). Files that
cannot be kept (too large, or of a refused type) are named in the reply instead, so the agent
knows to ask for them again.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.errors import InvalidInputError, TooLargeError
from knowdesk.mail.handlers import register_inbound_handler
from knowdesk.mail.inbound import InboundMail
from knowdesk.tickets.creation import find_duplicate
from knowdesk.tickets.models import AuthorKind, Ticket, TicketStatus
from knowdesk.tickets.service import Actor, NewTicket, Tickets

NO_SUBJECT = "(no subject)"


async def _store_files(
    tickets: Tickets, actor: Actor, ticket: Ticket, mail: InboundMail
) -> tuple[list[uuid.UUID], list[str]]:
    """Keep the mail's files on the ticket; returns their ids and notes on the refused ones."""
    kept, refused = [], []
    for file in mail.attachments:
        try:
            stored = await tickets.store_attachment(
                actor, ticket.id, filename=file.filename, data=file.data, public=True
            )
        except (TooLargeError, InvalidInputError) as exc:
            refused.append(f"[Attachment not kept: {exc.message}]")
            continue
        kept.append(stored.id)
    return kept, refused


async def _reply(tickets: Tickets, actor: Actor, ticket: Ticket, mail: InboundMail) -> None:
    files, refused = await _store_files(tickets, actor, ticket, mail)
    body = "\n\n".join([mail.text.strip() or "(empty mail)", *refused])
    await tickets.add_comment(
        actor,
        ticket.id,
        body=body,
        public=True,
        attachment_ids=files,
        channel="email",
        email_message_id=mail.message_id,
    )


async def _new_ticket(
    tickets: Tickets, actor: Actor, requester_id: uuid.UUID, mail: InboundMail, source: str
) -> Ticket:
    ticket = await tickets.create(
        actor,
        NewTicket(
            subject=(mail.subject.strip() or NO_SUBJECT)[:300],
            description=mail.text.strip()[:50_000],
            requester_id=requester_id,
            channel="email",
            source=source,
        ),
    )
    files, refused = await _store_files(tickets, actor, ticket, mail)
    if files or refused:
        await tickets.add_comment(
            actor,
            ticket.id,
            body="\n\n".join(["Files sent with the mail.", *refused]),
            public=True,
            attachment_ids=files,
            channel="email",
        )
    return ticket


async def handle_mail(session: AsyncSession, workspace_id: uuid.UUID, mail: InboundMail) -> bool:
    """Thread a customer's mail into their ticket, or open one; auto-replies are left alone."""
    if mail.automatic:
        return False
    tickets = Tickets(session, workspace_id)
    contact = await tickets.contact_for_email(mail.sender, mail.sender_name)
    actor = Actor.of_contact(contact)
    ticket = await tickets.tickets.by_thread_token(mail.token) if mail.token else None
    if ticket is not None and ticket.requester_id != contact.id:
        # Someone else answered the thread (a colleague in Cc, say): the agents decide.
        await tickets.add_comment(
            Actor(AuthorKind.SYSTEM, f"mail:{mail.sender}", mail.sender),
            ticket.id,
            body=f"Mail from {mail.sender} (not the requester):\n\n{mail.text}",
            public=False,
            channel="email",
            email_message_id=mail.message_id,
        )
        return True
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        await _reply(tickets, actor, ticket, mail)
        return True
    if ticket is None:
        report = f"{mail.subject}\n{mail.text}"
        duplicate = await find_duplicate(tickets, contact, report, None)
        if duplicate is not None:
            await _reply(tickets, actor, duplicate, mail)
            return True
    follow_up = "email" if ticket is None else f"follow-up:{ticket.number}"
    await _new_ticket(tickets, actor, contact.id, mail, follow_up)
    return True


register_inbound_handler("tickets", handle_mail)
