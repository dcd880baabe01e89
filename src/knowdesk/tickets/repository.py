"""Queries of ticket tables, always inside the caller's workspace (except the SLA sweep, which
looks across workspaces for timers that are due and hands each ticket to its own workspace)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.db.repository import ScopedRepository
from knowdesk.tickets.models import (
    AgentSkills,
    BusinessCalendar,
    IntentExample,
    IntentModel,
    RoutingRule,
    SlaPolicy,
    TeamSettings,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketComment,
    TicketConversation,
    TicketEvent,
    TicketSettings,
    TicketStatus,
)
from knowdesk.tickets.priority import Priority

ACTIVE = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class TicketRepository(ScopedRepository[Ticket]):
    model = Ticket

    async def get_for_update(self, ident: uuid.UUID) -> Ticket | None:
        stmt = self.select().where(Ticket.id == ident).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_thread_token(self, token: str) -> Ticket | None:
        stmt = self.select().where(Ticket.thread_token == token)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def search(
        self,
        *,
        number: int | None = None,
        status: Sequence[TicketStatus] = (),
        priority: Priority | None = None,
        team_id: uuid.UUID | None = None,
        assignee_id: uuid.UUID | None = None,
        unassigned: bool = False,
        requester_id: uuid.UUID | None = None,
        category: str | None = None,
        tag: str | None = None,
        needs_triage: bool | None = None,
        breached: bool | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Ticket]:
        stmt = self.select()
        if number is not None:
            stmt = stmt.where(Ticket.number == number)
        if status:
            stmt = stmt.where(Ticket.status.in_(status))
        if priority:
            stmt = stmt.where(Ticket.priority == priority)
        if team_id:
            stmt = stmt.where(Ticket.team_id == team_id)
        if assignee_id:
            stmt = stmt.where(Ticket.assignee_id == assignee_id)
        if unassigned:
            stmt = stmt.where(Ticket.assignee_id.is_(None))
        if requester_id:
            stmt = stmt.where(Ticket.requester_id == requester_id)
        if category:
            stmt = stmt.where(Ticket.category == category)
        if tag:
            stmt = stmt.where(Ticket.tags.contains([tag]))
        if needs_triage is not None:
            stmt = stmt.where(Ticket.needs_triage == needs_triage)
        if breached is not None:
            either = or_(
                Ticket.response_breached_at.is_not(None), Ticket.resolution_breached_at.is_not(None)
            )
            stmt = stmt.where(either if breached else ~either)
        if text:
            pattern = f"%{_escape_like(text)}%"
            stmt = stmt.where(
                or_(
                    Ticket.subject.ilike(pattern, escape="\\"),
                    Ticket.description.ilike(pattern, escape="\\"),
                )
            )
        order = (Ticket.updated_at.desc(), Ticket.number.desc())
        return await self.list(stmt.order_by(*order).limit(limit).offset(offset))

    async def active_of_requester(
        self, requester_id: uuid.UUID, *, since: datetime
    ) -> Sequence[Ticket]:
        """The customer's tickets not yet solved, newest first, updated since `since`."""
        stmt = self.select().where(
            Ticket.requester_id == requester_id,
            Ticket.status.in_(ACTIVE),
            Ticket.updated_at >= since,
        )
        return await self.list(stmt.order_by(Ticket.created_at.desc()))

    async def of_requester(self, requester_id: uuid.UUID, limit: int = 100) -> Sequence[Ticket]:
        stmt = self.select().where(Ticket.requester_id == requester_id)
        return await self.list(stmt.order_by(Ticket.updated_at.desc()).limit(limit))

    async def open_counts(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Active tickets per assignee (for least-loaded assignment)."""
        stmt = (
            self.select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(user_ids), Ticket.status.in_(ACTIVE))
            .group_by(Ticket.assignee_id)
        )
        return {row[0]: int(row[1]) for row in (await self.session.execute(stmt)).all()}

    async def last_assigned(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, datetime]:
        """When each of `user_ids` last got a ticket (from the history)."""
        # A literal key, so that SELECT and GROUP BY hold the very same expression.
        assignee = TicketEvent.data.op("->>")(literal_column("'assignee_id'"))
        stmt = (
            select(assignee, func.max(TicketEvent.at))
            .where(
                TicketEvent.workspace_id == self.workspace_id,
                TicketEvent.kind == "assigned",
                assignee.in_([str(u) for u in user_ids]),
            )
            .group_by(assignee)
        )
        return {
            uuid.UUID(row[0]): row[1] for row in (await self.session.execute(stmt)).all() if row[0]
        }


async def tickets_with_due_timers(
    session: AsyncSession, now: datetime, *, limit: int = 200
) -> Sequence[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace, ticket) of active tickets whose SLA warning or breach time has passed
    without having fired: what the periodic sweep catches after a restart or a lost job."""
    warn_margin = func.make_interval(0, 0, 0, 0, 0, 0, SlaPolicy.warn_before_seconds)
    response_open = Ticket.first_responded_at.is_(None) & Ticket.first_response_due_at.is_not(None)
    resolution_open = Ticket.resolution_due_at.is_not(None)
    stmt = (
        select(Ticket.workspace_id, Ticket.id)
        .join(SlaPolicy, SlaPolicy.id == Ticket.sla_policy_id)
        .where(
            Ticket.status.in_(ACTIVE),
            or_(
                response_open
                & Ticket.response_breached_at.is_(None)
                & (Ticket.first_response_due_at <= now),
                response_open
                & Ticket.response_warned_at.is_(None)
                & (Ticket.first_response_due_at - warn_margin <= now),
                resolution_open
                & Ticket.resolution_breached_at.is_(None)
                & (Ticket.resolution_due_at <= now),
                resolution_open
                & Ticket.resolution_warned_at.is_(None)
                & (Ticket.resolution_due_at - warn_margin <= now),
            ),
        )
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


class LinkRepository(ScopedRepository[TicketConversation]):
    model = TicketConversation

    async def ticket_of(self, conversation_id: uuid.UUID) -> uuid.UUID | None:
        stmt = self.select(TicketConversation.ticket_id).where(
            TicketConversation.conversation_id == conversation_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def conversation_ids(self, ticket_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = self.select(TicketConversation.conversation_id).where(
            TicketConversation.ticket_id == ticket_id
        )
        return list(
            (await self.session.execute(stmt.order_by(TicketConversation.linked_at))).scalars()
        )

    async def move(self, from_ticket: uuid.UUID, to_ticket: uuid.UUID) -> None:
        await self.session.execute(
            update(TicketConversation)
            .where(
                TicketConversation.workspace_id == self.workspace_id,
                TicketConversation.ticket_id == from_ticket,
            )
            .values(ticket_id=to_ticket)
        )


class CommentRepository(ScopedRepository[TicketComment]):
    model = TicketComment

    async def of_ticket(
        self, ticket_id: uuid.UUID, *, public_only: bool
    ) -> Sequence[TicketComment]:
        stmt = self.select().where(TicketComment.ticket_id == ticket_id)
        if public_only:
            stmt = stmt.where(TicketComment.public.is_(True))
        return await self.list(stmt.order_by(TicketComment.created_at, TicketComment.id))

    async def by_email_message_id(self, message_id: str) -> TicketComment | None:
        stmt = self.select().where(TicketComment.email_message_id == message_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def move_thread(self, from_ticket: uuid.UUID, to_ticket: uuid.UUID) -> None:
        """Move a ticket's replies, notes and files to another ticket (merging)."""
        for model in (TicketComment, TicketAttachment):
            await self.session.execute(
                update(model)
                .where(model.workspace_id == self.workspace_id, model.ticket_id == from_ticket)
                .values(ticket_id=to_ticket)
            )


class AttachmentRepository(ScopedRepository[TicketAttachment]):
    model = TicketAttachment

    async def of_ticket(self, ticket_id: uuid.UUID) -> Sequence[TicketAttachment]:
        stmt = self.select().where(TicketAttachment.ticket_id == ticket_id)
        return await self.list(stmt.order_by(TicketAttachment.created_at))

    async def many(
        self, ticket_id: uuid.UUID, ids: Sequence[uuid.UUID]
    ) -> Sequence[TicketAttachment]:
        stmt = self.select().where(
            TicketAttachment.ticket_id == ticket_id, TicketAttachment.id.in_(ids)
        )
        return await self.list(stmt)


class EventRepository(ScopedRepository[TicketEvent]):
    model = TicketEvent

    async def of_ticket(self, ticket_id: uuid.UUID) -> Sequence[TicketEvent]:
        stmt = self.select().where(TicketEvent.ticket_id == ticket_id)
        return await self.list(stmt.order_by(TicketEvent.at, TicketEvent.id))


class RuleRepository(ScopedRepository[RoutingRule]):
    model = RoutingRule

    async def ordered(self, *, enabled_only: bool = False) -> Sequence[RoutingRule]:
        stmt = self.select()
        if enabled_only:
            stmt = stmt.where(RoutingRule.enabled.is_(True))
        return await self.list(stmt.order_by(RoutingRule.position, RoutingRule.created_at))

    async def lock_all(self) -> None:
        """Rule edits of one workspace take turns, so positions and checks see one state."""
        await self.session.execute(
            select(
                func.pg_advisory_xact_lock(func.hashtextextended(f"rules:{self.workspace_id}", 0))
            )
        )


class TeamSettingsRepository(ScopedRepository[TeamSettings]):
    model = TeamSettings

    async def for_team(self, team_id: uuid.UUID, *, lock: bool = False) -> TeamSettings | None:
        stmt = self.select().where(TeamSettings.team_id == team_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()


class SkillsRepository(ScopedRepository[AgentSkills]):
    model = AgentSkills

    async def for_user(self, user_id: uuid.UUID) -> AgentSkills | None:
        stmt = self.select().where(AgentSkills.user_id == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_users(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        stmt = self.select().where(AgentSkills.user_id.in_(user_ids))
        return {row.user_id: list(row.skills) for row in await self.list(stmt)}


class CalendarRepository(ScopedRepository[BusinessCalendar]):
    model = BusinessCalendar


class PolicyRepository(ScopedRepository[SlaPolicy]):
    model = SlaPolicy

    async def for_priority(self, priority: Priority) -> SlaPolicy | None:
        stmt = self.select().where(SlaPolicy.priority == priority)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class CategoryRepository(ScopedRepository[TicketCategory]):
    model = TicketCategory

    async def by_name(self, name: str) -> TicketCategory | None:
        stmt = self.select().where(func.lower(TicketCategory.name) == name.lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()


class ExampleRepository(ScopedRepository[IntentExample]):
    model = IntentExample

    async def newest(
        self, *, category: str | None, limit: int, offset: int
    ) -> Sequence[IntentExample]:
        stmt = self.select()
        if category:
            stmt = stmt.where(IntentExample.category == category)
        stmt = stmt.order_by(IntentExample.created_at.desc(), IntentExample.id)
        return await self.list(stmt.limit(limit).offset(offset))

    async def count_since(self, since: datetime | None) -> int:
        stmt = self.select(func.count())
        if since is not None:
            stmt = stmt.where(IntentExample.created_at > since)
        return int((await self.session.execute(stmt)).scalar_one())


class ModelRepository(ScopedRepository[IntentModel]):
    model = IntentModel

    async def current(self) -> IntentModel | None:
        return (await self.session.execute(self.select())).scalar_one_or_none()

    async def trained_at(self) -> datetime | None:
        """When the stored model was trained, without loading it."""
        stmt = self.select(IntentModel.trained_at)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class SettingsRepository(ScopedRepository[TicketSettings]):
    model = TicketSettings

    async def ensure(self) -> TicketSettings:
        """The workspace's settings row, made on first use (concurrent first uses agree)."""
        await self.session.execute(
            insert(TicketSettings)
            .values(id=uuid.uuid4(), workspace_id=self.workspace_id)
            .on_conflict_do_nothing(index_elements=["workspace_id"])
        )
        row = (await self.session.execute(self.select())).scalar_one()
        return row

    async def next_number(self) -> int:
        """The next ticket number, taken under the row lock so numbers never repeat."""
        await self.ensure()
        stmt = (
            update(TicketSettings)
            .where(TicketSettings.workspace_id == self.workspace_id)
            .values(next_number=TicketSettings.next_number + 1)
            .returning(TicketSettings.next_number - 1)
            .execution_options(synchronize_session=False)
        )
        return int((await self.session.execute(stmt)).scalar_one())
