"""Background jobs of tickets: SLA timers, the sweep that backs them up, classifier training,
and the intent check chat asks for on a customer's message.

An SLA timer is a job scheduled for the moment a warning or a breach is due; it re-reads the
ticket and fires only what is still due, so a timer made stale by a later change is harmless.
Jobs live in the database and survive restarts; the sweep runs every minute and catches any
timer that was lost (or due while no worker ran).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.config import get_settings
from knowdesk.db.session import transaction
from knowdesk.jobs.queue import defer, queue
from knowdesk.tickets import classification
from knowdesk.tickets.creation import (
    on_handoff_without_agent,
    ticket_if_intent_requires,
    ticket_if_still_waiting,
)
from knowdesk.tickets.models import Ticket
from knowdesk.tickets.repository import tickets_with_due_timers
from knowdesk.tickets.service import Tickets

log = logging.getLogger(__name__)


@queue.task(name="tickets.check_sla", queue="tickets")
async def check_sla(workspace_id: str, ticket_id: str) -> None:
    async with transaction() as session:
        fired = await Tickets(session, uuid.UUID(workspace_id)).check_sla(uuid.UUID(ticket_id))
    if fired:
        log.info("ticket %s: %s", ticket_id, ", ".join(fired))


async def schedule_sla_check(session: AsyncSession, ticket: Ticket, moment: datetime) -> None:
    await defer(
        session,
        check_sla,
        schedule_at=moment,
        workspace_id=str(ticket.workspace_id),
        ticket_id=str(ticket.id),
    )


async def sweep_sla(at: datetime) -> int:
    """Fire every SLA warning and breach that is due at `at`; how many tickets fired."""
    async with transaction() as session:
        due = await tickets_with_due_timers(session, at)
    count = 0
    for workspace_id, ticket_id in due:
        async with transaction() as session:
            count += bool(await Tickets(session, workspace_id).check_sla(ticket_id))
    return count


@queue.periodic(cron="* * * * *", periodic_id="tickets-sla-sweep")
@queue.task(name="tickets.sla_sweep", queue="tickets")
async def sla_sweep(timestamp: int) -> None:
    fired = await sweep_sla(datetime.fromtimestamp(timestamp, UTC))
    if fired:
        log.warning("SLA sweep fired timers of %d tickets that no timer job had fired", fired)


@queue.task(name="tickets.train_classifier", queue="tickets")
async def train_classifier(workspace_id: str) -> None:
    async with transaction() as session:
        try:
            model = await classification.train(session, uuid.UUID(workspace_id))
        except classification.TrainingError as exc:
            log.info("workspace %s: classifier not trained: %s", workspace_id, exc)
            return
    log.info("workspace %s: classifier trained on %d examples", workspace_id, model.example_count)


@queue.task(name="tickets.ticket_if_still_waiting", queue="tickets")
async def ticket_for_waiting_conversation(workspace_id: str, conversation_id: str) -> None:
    async with transaction() as session:
        await ticket_if_still_waiting(session, uuid.UUID(workspace_id), uuid.UUID(conversation_id))


async def after_handoff_without_agent(
    session: AsyncSession, workspace_id: uuid.UUID, conversation_id: uuid.UUID, *, open_now: bool
) -> None:
    """Chat's hook for a hand-off no agent could take. Outside business hours the conversation
    becomes a ticket at once (the customer is told to expect a reply later); in hours it waits
    `handoff_ticket_after_seconds` first, so a busy team's queue is not turned into tickets
    (drafted from a single "hi") for chats someone picks up a minute later."""
    if not open_now:
        await on_handoff_without_agent(session, workspace_id, conversation_id, open_now=False)
        return
    wait = timedelta(seconds=get_settings().handoff_ticket_after_seconds)
    await defer(
        session,
        ticket_for_waiting_conversation,
        schedule_at=datetime.now(UTC) + wait,
        workspace_id=str(workspace_id),
        conversation_id=str(conversation_id),
    )


@queue.task(name="tickets.check_message_intent", queue="tickets")
async def check_message_intent(workspace_id: str, conversation_id: str, text: str) -> None:
    """Open a ticket when a customer's chat message has an intent that needs one."""
    async with transaction() as session:
        await ticket_if_intent_requires(
            session, uuid.UUID(workspace_id), uuid.UUID(conversation_id), text
        )
