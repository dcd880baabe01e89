"""What analytics keeps besides the events it reads: question vectors, drafts' origins, feedback.

Metrics read conversations, messages and tickets as they are stored; nothing here duplicates
them. These tables hold only what cannot be recomputed cheaply (a question's embedding) or what
people decided (which questions became a draft, which similar questions were proposed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.chat import models as chat_models  # noqa: F401 - messages, conversations
from knowdesk.db.base import Base, IdMixin, WorkspaceScoped, utcnow
from knowdesk.kb import models as kb_models  # noqa: F401 - entries
from knowdesk.retrieval.models import EMBEDDING_DIM
from knowdesk.tickets import models as tickets_models  # noqa: F401 - tickets


def _fk(table: str) -> Any:
    return mapped_column(UUID(as_uuid=True), ForeignKey(f"{table}.id", ondelete="CASCADE"))


class QuestionVector(WorkspaceScoped, Base):
    """A customer question's embedding, so that gap clustering embeds each question once."""

    __tablename__ = "analytics_question_vectors"

    message_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(80))
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIM))


class DraftSource(IdMixin, WorkspaceScoped, Base):
    """Where a drafted FAQ entry came from: one row per gap question, conversation or ticket.

    `source_key` ("message:<id>", "conversation:<id>", "ticket:<id>") is unique per workspace,
    so nothing becomes a draft twice, even when two people press the button at once.
    """

    __tablename__ = "analytics_draft_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "source_key"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_entries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # gap | conversation | ticket
    source_key: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[uuid.UUID | None] = _fk("chat_messages")
    conversation_id: Mapped[uuid.UUID | None] = _fk("conversations")
    ticket_id: Mapped[uuid.UUID | None] = _fk("tickets")
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class FeedbackCandidate(IdMixin, WorkspaceScoped, Base):
    """A customer's question that real traffic showed an entry answers: a candidate similar
    question for that entry. It reaches customers only through the entry's review.

    source: `agent` (an agent said so), `helpful` (the customer rated the entry's answer
    helpful), `choice` (the customer picked the entry among the bot's suggestions).
    status: pending → proposed (in a new version of the entry) | dismissed | known (the entry
    already holds the question).
    """

    __tablename__ = "analytics_feedback"
    __table_args__ = (UniqueConstraint("message_id", "entry_id"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_entries.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_messages.id", ondelete="CASCADE")
    )
    question: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    proposed_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
