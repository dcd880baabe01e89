"""Live chat: channels, contacts, conversations, their messages and participants, and the people
who answer them (teams and agents' presence).

A conversation's messages are numbered by `seq`, allocated from `Conversation.last_seq` in the
transaction that stores the message, so every reader sees one gap-free order per conversation.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class ConversationState(enum.StrEnum):
    """bot → queued → assigned → resolved; an agent may hand an assigned conversation back."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class SenderKind(enum.StrEnum):
    CONTACT = "contact"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"  # state changes told to everyone: hand-off, an agent joined, resolved


class Routing(enum.StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"


class AgentStatus(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Team(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """People who answer hand-offs together. Tickets route to teams too."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    routing: Mapped[Routing] = mapped_column(_enum(Routing, "team_routing"))
    # Round robin resumes after the person who got the previous conversation.
    last_assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class TeamMember(IdMixin, WorkspaceScoped, Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class AgentState(IdMixin, WorkspaceScoped, Base):
    """A person's availability for chats in one workspace.

    `status` is what the agent chose; `last_seen_at` is refreshed while one of their sockets is
    open (or by REST presence calls). Routing counts an agent as online only when both agree, so
    a crashed node's agents drop out once their presence expires.
    """

    __tablename__ = "agent_states"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    status: Mapped[AgentStatus] = mapped_column(
        _enum(AgentStatus, "agent_status"), default=AgentStatus.OFFLINE
    )
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Channel(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """Where customers reach the company: a web or app chat window.

    `widget_token` is public (it sits in the page); `identity_secret` never leaves the company's
    server, which signs its logged-in customers' ids with it.
    """

    __tablename__ = "chat_channels"

    name: Mapped[str] = mapped_column(String(200))
    widget_token: Mapped[str] = mapped_column(String(64), unique=True)
    identity_secret: Mapped[str] = mapped_column(String(128))
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="SET NULL")
    )
    bot_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    collection_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    welcome_message: Mapped[str] = mapped_column(Text, default="")
    queued_message: Mapped[str] = mapped_column(Text, default="")
    closed_message: Mapped[str] = mapped_column(Text, default="")
    # {"timezone": "Asia/Shanghai", "weekly": {"mon": [["09:00", "18:00"]], …}}; None: always open.
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    messages_per_minute: Mapped[int] = mapped_column(Integer, default=30)


class Contact(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """A customer. `external_id` is the company's own user id, known once they sign in."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    external_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Conversation(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_state", "workspace_id", "state"),
        # The queue: what the routing sweep reads every few seconds on every node.
        Index(
            "ix_conversations_waiting",
            "workspace_id",
            "queued_at",
            postgresql_where=text("state = 'queued'"),
        ),
        Index("ix_conversations_assignee", "workspace_id", "assignee_id", "state"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_channels.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[ConversationState] = mapped_column(
        _enum(ConversationState, "conversation_state"), default=ConversationState.BOT
    )
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("teams.id", ondelete="SET NULL")
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    # The customer's language, from their latest message: notices are told in it.
    language: Mapped[str] = mapped_column(String(8), default="en")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(IdMixin, WorkspaceScoped, Base):
    """One message, never edited except for the customer's rating of a bot reply.

    `text` is stored exactly as sent (HTML included) and must always be rendered as text.
    `meta` holds what the bot knew (decision, sources, suggestions, confidence) or, for system
    messages, the event.
    """

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        # A client's retry is recognised by its own id; ids of different senders may collide.
        UniqueConstraint(
            "conversation_id", "sender_id", "client_msg_id", name="uq_chat_messages_client_msg"
        ),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    sender_kind: Mapped[SenderKind] = mapped_column(_enum(SenderKind, "chat_sender_kind"))
    sender_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    rating: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class Participant(IdMixin, WorkspaceScoped, Base):
    """Who takes part in a conversation, and how far each has read."""

    __tablename__ = "conversation_participants"
    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", "member_id", name="uq_participants_member"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SenderKind] = mapped_column(_enum(SenderKind, "chat_sender_kind"))
    # The contact's or the agent's id; the bot has the nil UUID (so the unique key holds).
    member_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Attachment(IdMixin, WorkspaceScoped, Base):
    """A file sent in a chat, uploaded before the message that carries it."""

    __tablename__ = "chat_attachments"

    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_channels.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("contacts.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
