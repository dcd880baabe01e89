"""The mail log: every mail knowdesk sent or received, with what became of it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Enum, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class MailDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class MailStatus(enum.StrEnum):
    QUEUED = "queued"  # outbound: waiting for its first attempt or a retry
    SENT = "sent"
    FAILED = "failed"  # outbound: given up
    HANDLED = "handled"  # inbound: a handler took it
    UNHANDLED = "unhandled"  # inbound: no handler took it


class MailMessage(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "mail_messages"
    __table_args__ = (
        # Also unscoped: the SMTP listener finds a reply's workspace by its token.
        Index("ix_mail_messages_reply_token", "reply_token"),
        Index("ix_mail_messages_message_id", "message_id"),
        # A gateway that retries must not make one mail arrive twice.
        Index(
            "uq_mail_messages_inbound_message_id",
            "workspace_id",
            "message_id",
            unique=True,
            postgresql_where=text("direction = 'inbound'"),
        ),
        Index("ix_mail_messages_created", "workspace_id", "created_at"),
    )

    direction: Mapped[MailDirection] = mapped_column(_enum(MailDirection, "mail_direction"))
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus, "mail_status"))
    message_id: Mapped[str | None] = mapped_column(String(500))
    sender: Mapped[str] = mapped_column(String(500))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(500)))
    reply_to: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    # Further headers the sender of an outgoing mail asked for.
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[str]] = mapped_column(ARRAY(String(500)), default=list)
    reply_token: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(80))
