from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from knowdesk.mail.models import MailDirection, MailStatus


class SmtpSettings(BaseModel):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=25, ge=1, le=65535)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(
        default=None, max_length=255, description="Left out: keep the stored password."
    )
    starttls: bool = False


class WorkspaceMailSettings(BaseModel):
    """A workspace's own sender and SMTP server; each unset part uses the server's settings."""

    from_address: str | None = Field(
        default=None, max_length=320, description='Sender, e.g. "Acme Support <help@acme.com>".'
    )
    reply_address: str | None = Field(
        default=None,
        max_length=320,
        description="Receives replies as <local>+<token>@<domain>. Unset: the sender's address.",
    )
    smtp: SmtpSettings | None = None


class SmtpSettingsRead(BaseModel):
    host: str
    port: int
    username: str | None
    starttls: bool
    has_password: bool


class WorkspaceMailSettingsRead(BaseModel):
    from_address: str | None
    reply_address: str | None
    smtp: SmtpSettingsRead | None


class TestMailIn(BaseModel):
    to: str = Field(min_length=3, max_length=320)


class MailRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    direction: MailDirection
    status: MailStatus
    message_id: str | None
    sender: str
    recipients: list[str]
    reply_to: str | None
    subject: str
    in_reply_to: str | None
    references: list[str]
    reply_token: str | None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str | None
    handled_by: str | None
    created_at: datetime


class MailDetail(MailRead):
    text: str
    html: str | None
    headers: dict[str, str]


class InboundResult(BaseModel):
    mail: MailRead
    duplicate: bool = Field(
        description="The same Message-ID was received before: its handlers did not run again."
    )
