"""Chat's shapes: REST bodies, and the WebSocket frames of docs/protocol.md."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from knowdesk.chat.hours import BusinessHours
from knowdesk.chat.models import AgentStatus, ConversationState, Routing, SenderKind

MAX_TEXT = 4000  # characters in one message
MAX_ATTACHMENTS = 5
MAX_BUTTONS = 10

ClientMsgId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


# -- teams and agents ----------------------------------------------------------------------


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    routing: Routing = Routing.ROUND_ROBIN
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)


class TeamUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    routing: Routing | None = None
    member_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)


class TeamRead(BaseModel):
    id: uuid.UUID
    name: str
    routing: Routing
    member_ids: list[uuid.UUID]


class PresenceIn(BaseModel):
    status: AgentStatus
    capacity: int | None = Field(default=None, ge=0, le=100)


class AgentRead(BaseModel):
    user_id: uuid.UUID
    name: str
    status: AgentStatus
    online: bool = Field(description="Chose `online` and was seen recently: routing may pick them.")
    capacity: int
    active: int = Field(description="Conversations assigned to them and not resolved.")
    last_seen_at: datetime | None


# -- channels ------------------------------------------------------------------------------


class ChannelBase(BaseModel):
    team_id: uuid.UUID | None = Field(default=None, description="Who takes hand-offs.")
    bot_enabled: bool = True
    collection_ids: list[uuid.UUID] | None = Field(
        default=None, description="What the bot may answer from (default: every collection)."
    )
    welcome_message: str = Field(default="", max_length=MAX_TEXT)
    queued_message: str = Field(
        default="", max_length=MAX_TEXT, description="Told on hand-off while nobody is free."
    )
    closed_message: str = Field(
        default="", max_length=MAX_TEXT, description="Told on hand-off outside business hours."
    )
    business_hours: BusinessHours | None = Field(
        default=None, description="Weekly schedule and time zone; none means always open."
    )
    messages_per_minute: int = Field(
        default=30, ge=1, le=600, description="Per customer, across all their connections."
    )


class ChannelCreate(ChannelBase):
    name: str = Field(min_length=1, max_length=200)


class ChannelUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    team_id: uuid.UUID | None = None
    bot_enabled: bool | None = None
    collection_ids: list[uuid.UUID] | None = None
    welcome_message: str | None = Field(default=None, max_length=MAX_TEXT)
    queued_message: str | None = Field(default=None, max_length=MAX_TEXT)
    closed_message: str | None = Field(default=None, max_length=MAX_TEXT)
    business_hours: BusinessHours | None = None
    messages_per_minute: int | None = Field(default=None, ge=1, le=600)


class ChannelRead(ChannelBase):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    widget_token: str = Field(description="Public: put it in the chat window's page.")
    created_at: datetime


class ChannelSecrets(ChannelRead):
    identity_secret: str = Field(
        description="Private: the company's server signs customer ids with it."
    )


class WidgetChannel(BaseModel):
    """What a chat window may know about its channel."""

    id: uuid.UUID
    name: str
    welcome_message: str
    open_now: bool


# -- contacts ------------------------------------------------------------------------------


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    external_id: str | None
    name: str
    email: str
    attributes: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime | None


class ContactUpsert(BaseModel):
    """A customer as the company's server knows them (found or made by `external_id`)."""

    external_id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    attributes: dict[str, Any] | None = None


class ContactUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    attributes: dict[str, Any] | None = None


class IdentityIn(BaseModel):
    """A logged-in customer, vouched for by the company's server (see docs/protocol.md)."""

    external_id: str = Field(min_length=1, max_length=200)
    signature: str = Field(min_length=1, max_length=128, description="hex HMAC-SHA256")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    attributes: dict[str, Any] | None = None


# -- conversations and messages ------------------------------------------------------------


class Button(BaseModel):
    """A quick reply: shown as a button; pressing it sends `value` (or `label`) as text."""

    label: str = Field(min_length=1, max_length=200)
    value: str | None = Field(default=None, max_length=MAX_TEXT)


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    content_type: str
    size: int


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    seq: int
    client_msg_id: str | None
    sender_kind: SenderKind
    sender_id: uuid.UUID | None
    sender_name: str
    text: str = Field(description="Exactly as sent: always render as text, never as HTML.")
    buttons: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    meta: dict[str, Any] = Field(
        description="Bot replies: decision, sources, suggestions, confidence. System: event."
    )
    rating: str | None
    created_at: datetime


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    state: ConversationState
    assignee_id: uuid.UUID | None
    team_id: uuid.UUID | None
    tags: list[str]
    last_seq: int
    last_message_at: datetime | None
    queued_at: datetime | None
    assigned_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime


class ParticipantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: SenderKind
    member_id: uuid.UUID
    last_read_seq: int
    joined_at: datetime
    left_at: datetime | None


class ConversationDetail(ConversationRead):
    contact: ContactRead
    participants: list[ParticipantRead]


class MessageCreate(BaseModel):
    client_msg_id: ClientMsgId | None = Field(
        default=None, description="Your id for this message: a retry with it is stored once."
    )
    text: str = Field(default="", description=f"Up to {MAX_TEXT} characters.")
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_BUTTONS)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class WidgetMessageCreate(BaseModel):
    client_msg_id: ClientMsgId
    text: str = Field(default="", description=f"Up to {MAX_TEXT} characters.")
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class SendResult(BaseModel):
    message: MessageRead
    duplicate: bool = Field(description="True when this client_msg_id was already stored.")


class ConversationUpdate(BaseModel):
    tags: list[Tag] | None = Field(default=None, max_length=50)
    team_id: uuid.UUID | None = None


class AssignIn(BaseModel):
    user_id: uuid.UUID | None = Field(default=None, description="Default: yourself.")


class ReadIn(BaseModel):
    seq: int = Field(ge=0)


class TypingIn(BaseModel):
    typing: bool = True


class RatingIn(BaseModel):
    rating: Literal["helpful", "not_helpful"]


class WidgetSessionIn(BaseModel):
    identity: IdentityIn | None = None
    contact_token: str | None = Field(default=None, max_length=2000)


class WidgetSessionOut(BaseModel):
    contact_id: uuid.UUID
    contact_token: str = Field(description="Send it back to stay the same contact.")
    channel: WidgetChannel
    conversations: list[ConversationRead]


# -- WebSocket frames the client sends -----------------------------------------------------


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=64, description="Echoed in the reply.")


class AuthFrame(_Frame):
    type: Literal["auth"]
    widget_token: str | None = Field(default=None, max_length=200)
    identity: IdentityIn | None = None
    contact_token: str | None = Field(default=None, max_length=2000)
    token: str | None = Field(default=None, max_length=4000, description="An agent's session.")
    workspace: str | None = Field(default=None, max_length=100)


class OpenFrame(_Frame):
    type: Literal["open"]
    after_seq: int = Field(default=0, ge=0, description="Messages already shown, if any.")


class SendFrame(_Frame):
    type: Literal["send"]
    conversation_id: uuid.UUID
    client_msg_id: ClientMsgId
    text: str = ""
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_BUTTONS)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class ResumeFrame(_Frame):
    type: Literal["resume"]
    conversation_id: uuid.UUID
    after_seq: int = Field(default=0, ge=0)


class LeaveFrame(_Frame):
    type: Literal["leave"]
    conversation_id: uuid.UUID


class TypingFrame(_Frame):
    type: Literal["typing"]
    conversation_id: uuid.UUID
    typing: bool = True


class ReadFrame(_Frame):
    type: Literal["read"]
    conversation_id: uuid.UUID
    seq: int = Field(ge=0)


class RateFrame(_Frame):
    type: Literal["rate"]
    conversation_id: uuid.UUID
    seq: int = Field(ge=1)
    rating: Literal["helpful", "not_helpful"]


class PresenceFrame(_Frame):
    type: Literal["presence"]
    status: AgentStatus
    capacity: int | None = Field(default=None, ge=0, le=100)


class PingFrame(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    AuthFrame
    | OpenFrame
    | SendFrame
    | ResumeFrame
    | LeaveFrame
    | TypingFrame
    | ReadFrame
    | RateFrame
    | PresenceFrame
    | PingFrame,
    Field(discriminator="type"),
]
