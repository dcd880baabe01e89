"""Tickets made from chat conversations, and repeat reports that join an open ticket.

Chat calls in at three points (see docs/tickets.md):
- `on_handoff_without_agent` when a hand-off finds nobody to take it (out of hours, every agent
  full);
- the `tickets.check_message_intent` job (tasks.py) for a customer's message, which opens a
  ticket when the message's category is one the workspace marks `creates_ticket`;
- `create_from_conversation` when an agent clicks "make a ticket" (also over the API).

Subject and description are drafted from the transcript (drafting.py). When the same customer
already has an active ticket about the same issue, the conversation joins it instead: linked,
with an internal note of what they said, so the agent sees the repeat and nothing is lost.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import User
from knowdesk.accounts.principal import Principal
from knowdesk.chat.models import Contact, ConversationState
from knowdesk.chat.repository import ContactRepository, ConversationRepository, MessageRepository
from knowdesk.errors import NotFoundError
from knowdesk.tickets import classification
from knowdesk.tickets.drafting import (
    Turn,
    customer_texts,
    draft_description,
    draft_subject,
    reported_part,
    same_issue,
)
from knowdesk.tickets.models import AuthorKind, Ticket, TicketComment
from knowdesk.tickets.service import Actor, NewTicket, Tickets, now

MAX_TURNS = 500
REASONS = {
    "out_of_hours": "the customer asked for a person outside business hours",
    "no_agent_available": "no agent was free to take the conversation",
    "agent": "an agent made it a ticket",
}


def _reason_text(reason: str) -> str:
    if reason.startswith("intent:"):
        return f"the customer's request ({reason.removeprefix('intent:')}) needs follow-up"
    return REASONS.get(reason, reason)


async def _actor(session: AsyncSession, principal_or_workspace: Principal | uuid.UUID) -> Actor:
    if isinstance(principal_or_workspace, Principal):
        user_id = principal_or_workspace.user_id
        user = await session.get(User, user_id) if user_id else None
        return Actor.of_principal(principal_or_workspace, user.name if user else "")
    return Actor.system("chat")


async def find_duplicate(
    tickets: Tickets, requester: Contact, report: str, intent: str | None
) -> Ticket | None:
    """The requester's active ticket about the same issue as `report`, if any."""
    settings = await tickets.settings.ensure()
    since = now() - timedelta(days=settings.duplicate_window_days)
    for candidate in await tickets.tickets.active_of_requester(requester.id, since=since):
        known = f"{candidate.subject}\n{reported_part(candidate.description)}"
        if same_issue(
            report,
            known,
            new_intent=intent,
            open_intent=candidate.category or candidate.predicted_category,
        ):
            return candidate
    return None


async def join_duplicate(
    tickets: Tickets, ticket: Ticket, actor: Actor, report: str, *, via: str
) -> Ticket:
    """Record a repeat report on the ticket it repeats (an internal note and history)."""
    tickets.comments.add(
        TicketComment(
            ticket_id=ticket.id,
            public=False,
            author_kind=AuthorKind.SYSTEM,
            author_name="knowdesk",
            body=f"The customer reported this again ({via}):\n\n{report}",
            channel=via,
        )
    )
    tickets.record_event(ticket, actor, "repeat_report", via=via)
    await tickets.session.flush()
    return ticket


async def create_from_conversation(
    session: AsyncSession,
    principal_or_workspace: Principal | uuid.UUID,
    conversation_id: uuid.UUID,
    reason: str,
) -> Ticket:
    """The ticket for a conversation: the one it already feeds, the customer's open ticket
    about the same issue, or a new one drafted from the transcript."""
    workspace_id = (
        principal_or_workspace.workspace_id
        if isinstance(principal_or_workspace, Principal)
        else principal_or_workspace
    )
    tickets = Tickets(session, workspace_id)
    actor = await _actor(session, principal_or_workspace)
    conversation = await ConversationRepository(session, workspace_id).get(conversation_id)
    if conversation is None:
        raise NotFoundError("Conversation", conversation_id)
    linked = await tickets.links.ticket_of(conversation.id)
    if linked is not None:
        return await tickets.get(linked)
    messages = await MessageRepository(session, workspace_id).after(
        conversation.id, 0, until_seq=None, limit=MAX_TURNS
    )
    turns = [Turn(m.sender_kind.value, m.text, m.created_at, m.sender_name) for m in messages]
    report = "\n".join(customer_texts(turns))
    contact = await ContactRepository(session, workspace_id).get_or_raise(conversation.contact_id)
    guess = await classification.predict(session, workspace_id, report) if report else None
    duplicate = (
        await find_duplicate(tickets, contact, report, guess.category if guess else None)
        if report
        else None
    )
    if duplicate is not None:
        await tickets.link_conversation(duplicate, conversation.id, actor)
        return await join_duplicate(tickets, duplicate, actor, report, via="chat")
    return await tickets.create(
        actor,
        NewTicket(
            subject=draft_subject(turns),
            description=draft_description(turns, _reason_text(reason)),
            requester_id=contact.id,
            fallback_team_id=conversation.team_id,
            channel="chat",
            language=conversation.language,
            source=reason,
            conversation_ids=[conversation.id],
        ),
    )


async def on_handoff_without_agent(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID, *, open_now: bool
) -> Ticket:
    """Chat's hook: a hand-off that no agent can take now becomes (or joins) a ticket."""
    reason = "no_agent_available" if open_now else "out_of_hours"
    return await create_from_conversation(session, workspace_id, conversation_id, reason)


async def ticket_if_still_waiting(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID
) -> Ticket | None:
    """A ticket for a handed-off conversation that is still waiting for a person; None when
    someone took it, it went back to the bot or it was resolved meanwhile."""
    conversation = await ConversationRepository(session, workspace_id).get(conversation_id)
    if conversation is None or conversation.state != ConversationState.QUEUED:
        return None
    return await create_from_conversation(
        session, workspace_id, conversation_id, "no_agent_available"
    )


async def ticket_if_intent_requires(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID, text: str
) -> Ticket | None:
    """A ticket when `text` (a customer's chat message) is of a category marked
    `creates_ticket`; None otherwise (or while the workspace has no classifier)."""
    guess = await classification.predict(session, workspace_id, text)
    if guess is None or guess.category is None:
        return None
    category = await Tickets(session, workspace_id).categories.by_name(guess.category)
    if category is None or not category.creates_ticket:
        return None
    return await create_from_conversation(
        session, workspace_id, conversation_id, f"intent:{category.name}"
    )
