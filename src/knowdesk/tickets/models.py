"""Tickets: what the bot could not solve at once, tracked until it is solved.

A ticket belongs to a requester (a chat contact), may link conversations, and carries a thread
of public replies (the customer sees them) and internal notes (never shown to the customer).
Every change is written to its history (`ticket_events`). `version` goes up by one with every
act that changes the ticket; writers send the version they read and a stale one is refused
(409), so no update is lost.

Around tickets: routing rules (in order), per-team assignment strategies and agents' skills,
service-level policies per priority with business-hours calendars, and the labelled examples
from which each workspace's intent classifier is trained.
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
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.chat import models as chat_models  # noqa: F401 - teams, contacts, conversations
from knowdesk.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped, utcnow
from knowdesk.tickets.priority import Priority
from knowdesk.tickets.routing import Strategy


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class TicketStatus(enum.StrEnum):
    """new → open → (pending | on_hold) → solved → closed; solved reopens on a reply."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer: the SLA clock pauses
    ON_HOLD = "on_hold"  # waiting on a third party: the clock runs
    SOLVED = "solved"
    CLOSED = "closed"  # final: a later message makes a follow-up ticket


class AuthorKind(enum.StrEnum):
    AGENT = "agent"
    CONTACT = "contact"
    SYSTEM = "system"


def _fk(table: str, ondelete: str = "CASCADE", *, index: bool = False) -> Any:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{table}.id", ondelete=ondelete), index=index
    )


class Ticket(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_tickets_queue", "workspace_id", "status", "team_id", "assignee_id"),
        Index("ix_tickets_requester", "workspace_id", "requester_id", "status"),
    )

    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[uuid.UUID | None] = _fk("contacts", "SET NULL")
    status: Mapped[TicketStatus] = mapped_column(
        _enum(TicketStatus, "ticket_status"), default=TicketStatus.NEW
    )
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "ticket_priority"), default=Priority.NORMAL
    )
    category: Mapped[str | None] = mapped_column(String(100))
    # What the classifier thought (kept when a person corrects `category`: the correction is
    # the example the next training learns from).
    predicted_category: Mapped[str | None] = mapped_column(String(100))
    prediction_confidence: Mapped[float | None] = mapped_column(Float)
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    team_id: Mapped[uuid.UUID | None] = _fk("teams", "SET NULL")
    assignee_id: Mapped[uuid.UUID | None] = _fk("users", "SET NULL")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    channel: Mapped[str] = mapped_column(String(30), default="web")
    language: Mapped[str] = mapped_column(String(8), default="en")
    source: Mapped[str] = mapped_column(String(50), default="agent")  # why it was made
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Threads e-mail replies into this ticket (in Message-ID / Reply-To).
    thread_token: Mapped[str] = mapped_column(String(32), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Service level: the policy, the clock (see sla.SlaClock) and what has fired.
    sla_policy_id: Mapped[uuid.UUID | None] = _fk("ticket_sla_policies", "SET NULL")
    sla_elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    sla_running_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    solved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # The service bumps `version` once per act (not per flush); SQLAlchemy still refuses an
    # UPDATE whose row no longer has the version it read.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class TicketConversation(IdMixin, WorkspaceScoped, Base):
    """A conversation linked to a ticket (one conversation feeds at most one ticket)."""

    __tablename__ = "ticket_conversations"
    __table_args__ = (UniqueConstraint("conversation_id"),)

    ticket_id: Mapped[uuid.UUID] = _fk("tickets", index=True)
    conversation_id: Mapped[uuid.UUID] = _fk("conversations")
    linked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class TicketComment(IdMixin, WorkspaceScoped, Base):
    """A public reply (the customer sees it) or an internal note (agents only)."""

    __tablename__ = "ticket_comments"
    __table_args__ = (
        Index("ix_ticket_comments_ticket", "ticket_id", "created_at"),
        UniqueConstraint("workspace_id", "email_message_id"),
    )

    ticket_id: Mapped[uuid.UUID] = _fk("tickets")
    public: Mapped[bool] = mapped_column(Boolean)
    author_kind: Mapped[AuthorKind] = mapped_column(_enum(AuthorKind, "ticket_author_kind"))
    author_user_id: Mapped[uuid.UUID | None] = _fk("users", "SET NULL")
    author_contact_id: Mapped[uuid.UUID | None] = _fk("contacts", "SET NULL")
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(30), default="web")
    # The Message-ID of an e-mail that brought this reply, so a re-delivered mail is ignored.
    email_message_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class TicketAttachment(IdMixin, WorkspaceScoped, Base):
    """A file on a ticket; on an internal note it is internal too."""

    __tablename__ = "ticket_attachments"

    ticket_id: Mapped[uuid.UUID] = _fk("tickets", index=True)
    comment_id: Mapped[uuid.UUID | None] = _fk("ticket_comments")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class TicketEvent(IdMixin, WorkspaceScoped, Base):
    """One entry of a ticket's history: who did what, with the fields before and after."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "at"),)

    ticket_id: Mapped[uuid.UUID] = _fk("tickets")
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    actor: Mapped[str] = mapped_column(String(200))  # user:…, api_key:…, contact:…, system, rule:…
    kind: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class RoutingRule(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """Conditions → team, assignee, priority, tags; applied in `position` order."""

    __tablename__ = "ticket_routing_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    team_id: Mapped[uuid.UUID | None] = _fk("teams", "RESTRICT")
    assignee_id: Mapped[uuid.UUID | None] = _fk("users", "RESTRICT")
    priority: Mapped[Priority | None] = mapped_column(_enum(Priority, "ticket_priority"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    stop: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamSettings(IdMixin, WorkspaceScoped, Base):
    """How a team's tickets are assigned, and where they go when they escalate."""

    __tablename__ = "ticket_team_settings"
    __table_args__ = (UniqueConstraint("team_id"),)

    team_id: Mapped[uuid.UUID] = _fk("teams")
    strategy: Mapped[Strategy] = mapped_column(
        _enum(Strategy, "ticket_assignment"), default=Strategy.ROUND_ROBIN
    )
    max_open_per_agent: Mapped[int | None] = mapped_column(Integer)
    escalation_team_id: Mapped[uuid.UUID | None] = _fk("teams", "SET NULL")
    last_assigned_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class AgentSkills(IdMixin, WorkspaceScoped, Base):
    __tablename__ = "ticket_agent_skills"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = _fk("users")
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)


class BusinessCalendar(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """Opening hours and holidays that SLA targets count in (see sla.Calendar)."""

    __tablename__ = "ticket_calendars"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONB)


class SlaPolicy(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """Targets for tickets of one priority, in business seconds of `calendar` (None: 24/7)."""

    __tablename__ = "ticket_sla_policies"
    __table_args__ = (UniqueConstraint("workspace_id", "priority"),)

    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "ticket_priority"))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    warn_before_seconds: Mapped[int] = mapped_column(Integer, default=0)
    calendar_id: Mapped[uuid.UUID | None] = _fk("ticket_calendars", "RESTRICT")
    escalation_team_id: Mapped[uuid.UUID | None] = _fk("teams", "SET NULL")


class TicketCategory(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """A category (intent) tickets are filed under: its team, and whether a chat message of
    this intent becomes a ticket by itself (refund, complaint, bug report, …)."""

    __tablename__ = "ticket_categories"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[uuid.UUID | None] = _fk("teams", "SET NULL")
    creates_ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)


class IntentExample(IdMixin, WorkspaceScoped, Base):
    """A labelled message the classifier learns from: written by a person or an agent's fix."""

    __tablename__ = "ticket_intent_examples"
    __table_args__ = (Index("ix_ticket_intent_examples_ws", "workspace_id", "category"),)

    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(100))  # a category's name, or "oos"
    source: Mapped[str] = mapped_column(String(20), default="manual")  # manual | correction
    ticket_id: Mapped[uuid.UUID | None] = _fk("tickets", "SET NULL")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class IntentModel(IdMixin, WorkspaceScoped, Base):
    """The workspace's trained classifier (IntentClassifier.to_bytes), replaced on retraining."""

    __tablename__ = "ticket_intent_models"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    data: Mapped[bytes] = mapped_column(LargeBinary)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    example_count: Mapped[int] = mapped_column(Integer)
    uses_embeddings: Mapped[bool] = mapped_column(Boolean)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TicketSettings(IdMixin, WorkspaceScoped, Base):
    """Per-workspace ticket settings, and the counter that numbers its tickets."""

    __tablename__ = "ticket_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    next_number: Mapped[int] = mapped_column(Integer, default=1)
    # Below this confidence a prediction is not trusted: the ticket waits for triage.
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # The contact attribute that names the customer's tier (vip, gold, …).
    tier_attribute: Mapped[str] = mapped_column(String(100), default="tier")
    # A repeat report by the same customer within this many days joins their open ticket.
    duplicate_window_days: Mapped[int] = mapped_column(Integer, default=14)
    # Sentence embeddings in the classifier (better on paraphrases, slower to train).
    classifier_embeddings: Mapped[bool] = mapped_column(Boolean, default=True)
    # Team for tickets that no rule and no category routes.
    default_team_id: Mapped[uuid.UUID | None] = _fk("teams", "SET NULL")
    # E-mail: customers get replies and notices from this address (None: no e-mail).
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True)
