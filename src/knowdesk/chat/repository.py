"""Queries of chat tables, always inside the caller's workspace.

The one exception is `channel_by_widget_token`: a chat window names its channel (and so its
workspace) by the public token before anything else is known.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from knowdesk.accounts.models import Membership, User
from knowdesk.accounts.principal import role_allows
from knowdesk.chat.models import (
    AgentState,
    AgentStatus,
    Attachment,
    Channel,
    Contact,
    Conversation,
    ConversationState,
    Message,
    Participant,
    SenderKind,
    Team,
    TeamMember,
)
from knowdesk.db.base import Base
from knowdesk.db.repository import ScopedRepository
from knowdesk.webhooks.events import ALL
from knowdesk.webhooks.models import Webhook

M = TypeVar("M", bound=Base)


async def channel_by_widget_token(session: AsyncSession, token: str) -> Channel | None:
    return (await session.execute(_CHANNEL_BY_TOKEN, {"token": token})).scalar_one_or_none()


class TeamRepository(ScopedRepository[Team]):
    model = Team

    async def member_ids(self, team_id: uuid.UUID) -> list[uuid.UUID]:
        stmt = (
            select(TeamMember.user_id)
            .where(TeamMember.workspace_id == self.workspace_id, TeamMember.team_id == team_id)
            .order_by(TeamMember.user_id)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def set_members(self, team_id: uuid.UUID, user_ids: Sequence[uuid.UUID]) -> None:
        await self.session.execute(
            delete(TeamMember).where(
                TeamMember.workspace_id == self.workspace_id, TeamMember.team_id == team_id
            )
        )
        for user_id in dict.fromkeys(user_ids):
            self.session.add(
                TeamMember(workspace_id=self.workspace_id, team_id=team_id, user_id=user_id)
            )


class MemberRepository(ScopedRepository[Membership]):
    """The workspace's people who may answer chats."""

    model = Membership

    async def agents(
        self, user_ids: Sequence[uuid.UUID] | None = None
    ) -> list[tuple[uuid.UUID, str]]:
        stmt = self.select(Membership.user_id, Membership.role, User.name).join(
            User, User.id == Membership.user_id
        )
        if user_ids is not None:
            stmt = stmt.where(Membership.user_id.in_(user_ids))
        rows = (await self.session.execute(stmt.order_by(User.name))).all()
        return [(user_id, name) for user_id, role, name in rows if role_allows(role, "chat.agent")]


class AgentStateRepository(ScopedRepository[AgentState]):
    model = AgentState

    async def for_user(self, user_id: uuid.UUID, *, lock: bool = False) -> AgentState | None:
        stmt = self.select().where(AgentState.user_id == user_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def all(self) -> Sequence[AgentState]:
        return await self.list(self.select())

    async def online(
        self, user_ids: Sequence[uuid.UUID] | None, seen_after: datetime
    ) -> Sequence[AgentState]:
        """Agents who chose to be online and whose presence has not expired."""
        stmt = (
            self.select()
            .where(AgentState.status == AgentStatus.ONLINE, AgentState.last_seen_at > seen_after)
            .order_by(AgentState.user_id)
        )
        if user_ids is not None:
            stmt = stmt.where(AgentState.user_id.in_(user_ids))
        return await self.list(stmt)


async def touch_agents(
    session: AsyncSession, agents: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime | None
) -> None:
    """Mark agents, as (workspace id, user id), seen at `at` (None: their sockets closed).

    The node's presence heartbeat: one statement for every agent it holds a socket of."""
    await session.execute(
        update(AgentState)
        .where(tuple_(AgentState.workspace_id, AgentState.user_id).in_(list(agents)))
        .values(last_seen_at=at)
    )


async def workspaces_with_queue(session: AsyncSession) -> list[uuid.UUID]:
    """Workspaces that have conversations waiting for an agent (for the periodic sweep)."""
    stmt = (
        select(Conversation.workspace_id)
        .where(Conversation.state == ConversationState.QUEUED)
        .distinct()
    )
    return list((await session.execute(stmt)).scalars())


class ChannelRepository(ScopedRepository[Channel]):
    model = Channel

    async def get(self, ident: uuid.UUID) -> Channel | None:
        return await _get(self, _CHANNEL_BY_ID, ident)


class ContactRepository(ScopedRepository[Contact]):
    model = Contact

    async def get(self, ident: uuid.UUID) -> Contact | None:
        return await _get(self, _CONTACT_BY_ID, ident)

    async def by_external_id(self, external_id: str) -> Contact | None:
        stmt = self.select().where(Contact.external_id == external_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def move_history(self, visitor_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        """Give a visitor's conversations, their place in them and their files to a customer."""
        ws = self.workspace_id
        moved = (
            update(Conversation)
            .where(Conversation.workspace_id == ws, Conversation.contact_id == visitor_id)
            .values(contact_id=customer_id)
            .returning(Conversation.id)
        )
        conversation_ids = list((await self.session.execute(moved)).scalars())
        if conversation_ids:
            await self.session.execute(
                update(Participant)
                .where(
                    Participant.conversation_id.in_(conversation_ids),
                    Participant.kind == SenderKind.CONTACT,
                    Participant.member_id == visitor_id,
                )
                .values(member_id=customer_id)
            )
        await self.session.execute(
            update(Attachment)
            .where(Attachment.workspace_id == ws, Attachment.contact_id == visitor_id)
            .values(contact_id=customer_id)
        )

    def search(self, query: str | None) -> Select[tuple[Contact]]:
        stmt = self.select()
        if query:
            pattern = f"%{query}%"
            stmt = stmt.where(
                Contact.name.ilike(pattern)
                | Contact.email.ilike(pattern)
                | Contact.external_id.ilike(pattern)
            )
        return stmt.order_by(Contact.created_at.desc())


class ConversationRepository(ScopedRepository[Conversation]):
    model = Conversation

    async def get(self, ident: uuid.UUID) -> Conversation | None:
        return await _get(self, _CONVERSATION_BY_ID, ident)

    async def get_for_update(self, ident: uuid.UUID) -> Conversation | None:
        stmt = self.select().where(Conversation.id == ident).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_for_message(self, ident: uuid.UUID) -> tuple[Conversation | None, bool]:
        """The conversation, locked to add a message, and whether an active webhook of the
        workspace takes `message.created`: one round trip instead of two on the hot path."""
        params = {"workspace_id": self.workspace_id, "id": ident}
        row = (await self.session.execute(_LOCK_FOR_MESSAGE, params)).first()
        return (None, False) if row is None else (row[0], bool(row[1]))

    async def open_for(self, contact_id: uuid.UUID, channel_id: uuid.UUID) -> Conversation | None:
        """The contact's newest conversation on the channel that is not resolved."""
        params = {
            "workspace_id": self.workspace_id,
            "contact_id": contact_id,
            "channel_id": channel_id,
        }
        return (await self.session.execute(_OPEN_CONVERSATION, params)).scalar_one_or_none()

    async def of_contact(self, contact_id: uuid.UUID, limit: int = 50) -> Sequence[Conversation]:
        params = {"workspace_id": self.workspace_id, "contact_id": contact_id, "limit": limit}
        return (await self.session.execute(_CONVERSATIONS_OF_CONTACT, params)).scalars().all()

    def search(
        self,
        *,
        state: ConversationState | None,
        assignee_id: uuid.UUID | None,
        team_id: uuid.UUID | None,
        contact_id: uuid.UUID | None,
        tag: str | None,
    ) -> Select[tuple[Conversation]]:
        stmt = self.select()
        if state is not None:
            stmt = stmt.where(Conversation.state == state)
        if assignee_id is not None:
            stmt = stmt.where(Conversation.assignee_id == assignee_id)
        if team_id is not None:
            stmt = stmt.where(Conversation.team_id == team_id)
        if contact_id is not None:
            stmt = stmt.where(Conversation.contact_id == contact_id)
        if tag is not None:
            stmt = stmt.where(Conversation.tags.contains([tag]))
        return stmt.order_by(Conversation.last_message_at.desc().nulls_last())

    async def waiting_for_update(self, limit: int) -> Sequence[Conversation]:
        """The longest-waiting queued conversations that no other node is assigning now."""
        stmt = (
            self.select()
            .where(Conversation.state == ConversationState.QUEUED)
            .order_by(Conversation.queued_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self.list(stmt)

    async def active_counts(self) -> dict[uuid.UUID, int]:
        stmt = (
            self.select(Conversation.assignee_id, func.count())
            .where(
                Conversation.state == ConversationState.ASSIGNED,
                Conversation.assignee_id.is_not(None),
            )
            .group_by(Conversation.assignee_id)
        )
        return {user_id: int(n) for user_id, n in (await self.session.execute(stmt)).all()}


class MessageRepository(ScopedRepository[Message]):
    model = Message

    async def by_client_msg_id(
        self, conversation_id: uuid.UUID, sender_id: uuid.UUID, client_msg_id: str
    ) -> Message | None:
        params = {
            "workspace_id": self.workspace_id,
            "conversation_id": conversation_id,
            "sender_id": sender_id,
            "client_msg_id": client_msg_id,
        }
        return (await self.session.execute(_BY_CLIENT_MSG_ID, params)).scalar_one_or_none()

    async def insert_next(
        self, message: Message, *, read_by: tuple[SenderKind, uuid.UUID] | None
    ) -> int | None:
        """Store `message`, the next of its (locked) conversation, and in the same statement
        move the conversation's last seq to it and, with `read_by`, that participant's read
        position up to it: one round trip where the unit of work takes three. Returns the read
        position (None: no such participant). `message` must have every column set; it stays
        transient (the caller attaches it to the session)."""
        message.workspace_id = self.workspace_id
        params = {_NEW + c.key: getattr(message, c.key) for c in _MESSAGES.columns}
        if read_by is None:
            await self.session.execute(_INSERT_NEXT, params)
            return None
        params["reader_kind"], params["reader_id"] = read_by
        return (await self.session.execute(_INSERT_NEXT_READ, params)).scalar_one()

    async def by_seq(self, conversation_id: uuid.UUID, seq: int) -> Message | None:
        stmt = self.select().where(Message.conversation_id == conversation_id, Message.seq == seq)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def after(
        self, conversation_id: uuid.UUID, after_seq: int, *, until_seq: int | None, limit: int
    ) -> Sequence[Message]:
        params = {
            "workspace_id": self.workspace_id,
            "conversation_id": conversation_id,
            "after_seq": after_seq,
            "until_seq": _NO_SEQ_ABOVE if until_seq is None else until_seq,
            "limit": limit,
        }
        return (await self.session.execute(_MESSAGES_AFTER, params)).scalars().all()

    async def contact_texts_before(
        self, conversation_id: uuid.UUID, before_seq: int, limit: int
    ) -> list[str]:
        """The customer's earlier messages, oldest first (the answer path's history)."""
        stmt = (
            self.select(Message.text)
            .where(
                Message.conversation_id == conversation_id,
                Message.seq < before_seq,
                Message.sender_kind == SenderKind.CONTACT,
                Message.text != "",
            )
            .order_by(Message.seq.desc())
            .limit(limit)
        )
        return list(reversed((await self.session.execute(stmt)).scalars().all()))


# The hot path's statements, built once: building and keying a statement costs more CPU than
# its round trip. Each is scoped like `ScopedRepository.select()`, by a `workspace_id`
# parameter that the repository always passes.

_MESSAGES = cast(Table, Message.__table__)
_NO_SEQ_ABOVE = 2**31 - 1  # the largest `integer`


def _by_id(model: Any) -> Select[Any]:
    return select(model).where(
        model.workspace_id == bindparam("workspace_id"), model.id == bindparam("id")
    )


async def _get(repository: ScopedRepository[M], stmt: Select[Any], ident: uuid.UUID) -> M | None:
    params = {"workspace_id": repository.workspace_id, "id": ident}
    row: M | None = (await repository.session.execute(stmt, params)).scalar_one_or_none()
    return row


_CHANNEL_BY_ID = _by_id(Channel)
_CONTACT_BY_ID = _by_id(Contact)
_CONVERSATION_BY_ID = _by_id(Conversation)

# A chat window's first question, before its workspace is known (see the module's doc).
_CHANNEL_BY_TOKEN = select(Channel).where(Channel.widget_token == bindparam("token"))

_CONVERSATIONS_OF_CONTACT = (
    select(Conversation)
    .where(
        Conversation.workspace_id == bindparam("workspace_id"),
        Conversation.contact_id == bindparam("contact_id"),
    )
    .order_by(Conversation.created_at.desc())
    .limit(bindparam("limit"))
)

_OPEN_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.workspace_id == bindparam("workspace_id"),
        Conversation.contact_id == bindparam("contact_id"),
        Conversation.channel_id == bindparam("channel_id"),
        Conversation.state != ConversationState.RESOLVED,
    )
    .order_by(Conversation.created_at.desc())
    .limit(1)
)

_MESSAGES_AFTER = (
    select(Message)
    .where(
        Message.workspace_id == bindparam("workspace_id"),
        Message.conversation_id == bindparam("conversation_id"),
        Message.seq > bindparam("after_seq"),
        Message.seq <= bindparam("until_seq"),
    )
    .order_by(Message.seq)
    .limit(bindparam("limit"))
)

# The same rule as WebhookRepository.subscribed_to, as a column.
_MESSAGE_WEBHOOKS = exists().where(
    Webhook.workspace_id == bindparam("workspace_id"),
    Webhook.active,
    Webhook.events.overlap(["message.created", ALL]),
)

_LOCK_FOR_MESSAGE = (
    select(Conversation, _MESSAGE_WEBHOOKS)
    .where(
        Conversation.workspace_id == bindparam("workspace_id"),
        Conversation.id == bindparam("id"),
    )
    .with_for_update(of=Conversation)
)

_BY_CLIENT_MSG_ID = select(Message).where(
    Message.workspace_id == bindparam("workspace_id"),
    Message.conversation_id == bindparam("conversation_id"),
    Message.sender_id == bindparam("sender_id"),
    Message.client_msg_id == bindparam("client_msg_id"),
)

# Its parameters are the new row's columns, prefixed so that no UPDATE of the statement takes
# a parameter named like one of its table's columns for a column to SET.
_NEW = "new_"

_MOVE_LAST_SEQ = (
    update(Conversation)
    .where(
        Conversation.workspace_id == bindparam(_NEW + "workspace_id"),
        Conversation.id == bindparam(_NEW + "conversation_id"),
    )
    .values(
        last_seq=bindparam(_NEW + "seq"),
        last_message_at=bindparam(_NEW + "created_at"),
        updated_at=bindparam(_NEW + "created_at"),
    )
    .cte("moved")
)

_READER_READS_NEW = (
    update(Participant)
    .where(
        Participant.workspace_id == bindparam(_NEW + "workspace_id"),
        Participant.conversation_id == bindparam(_NEW + "conversation_id"),
        Participant.kind == bindparam("reader_kind", type_=Participant.kind.type),
        Participant.member_id == bindparam("reader_id"),
    )
    .values(last_read_seq=func.greatest(Participant.last_read_seq, bindparam(_NEW + "seq")))
    .returning(Participant.last_read_seq)
    .cte("reader")
)

_INSERT_NEXT = (
    insert(_MESSAGES)
    .values({c.key: bindparam(_NEW + c.key, type_=c.type) for c in _MESSAGES.columns})
    .add_cte(_MOVE_LAST_SEQ)
)

_INSERT_NEXT_READ = _INSERT_NEXT.add_cte(_READER_READS_NEW).returning(
    select(_READER_READS_NEW.c.last_read_seq).scalar_subquery()
)


class ParticipantRepository(ScopedRepository[Participant]):
    model = Participant

    async def of_conversation(self, conversation_id: uuid.UUID) -> Sequence[Participant]:
        stmt = self.select().where(Participant.conversation_id == conversation_id)
        return await self.list(stmt.order_by(Participant.joined_at))

    async def find(
        self, conversation_id: uuid.UUID, kind: SenderKind, member_id: uuid.UUID
    ) -> Participant | None:
        stmt = self.select().where(
            Participant.conversation_id == conversation_id,
            Participant.kind == kind,
            Participant.member_id == member_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def read_up_to(
        self, conversation_id: uuid.UUID, kind: SenderKind, member_id: uuid.UUID, seq: int
    ) -> int | None:
        """Move a participant's read position forward to `seq` (never back); returns where it
        stands, or None when they are not a participant."""
        stmt = (
            update(Participant)
            .where(
                Participant.workspace_id == self.workspace_id,
                Participant.conversation_id == conversation_id,
                Participant.kind == kind,
                Participant.member_id == member_id,
            )
            .values(last_read_seq=func.greatest(Participant.last_read_seq, seq))
            .returning(Participant.last_read_seq)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()


class AttachmentRepository(ScopedRepository[Attachment]):
    model = Attachment

    async def many(self, ids: Sequence[uuid.UUID]) -> Sequence[Attachment]:
        return await self.list(
            self.select().where(Attachment.id.in_(ids)).options(defer(Attachment.data))
        )

    async def shown_to_contact(self, attachment_id: uuid.UUID, contact_id: uuid.UUID) -> bool:
        """Whether the file was sent in one of the contact's conversations (by anyone)."""
        stmt = (
            select(Message.id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.workspace_id == self.workspace_id,
                Conversation.contact_id == contact_id,
                Message.attachments.contains([{"id": str(attachment_id)}]),
            )
            .limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None
