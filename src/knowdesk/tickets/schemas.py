"""API shapes of tickets, routing rules, SLA policies, calendars, categories and examples."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from knowdesk.tickets.models import AuthorKind, TicketStatus
from knowdesk.tickets.priority import Priority
from knowdesk.tickets.routing import Operator, Strategy, valid_field
from knowdesk.tickets.sla import Calendar, CalendarError

MAX_SUBJECT = 300
MAX_BODY = 50_000
Tag = Annotated[str, Field(min_length=1, max_length=100)]
Tags = Annotated[list[Tag], Field(max_length=50)]


# -- tickets ------------------------------------------------------------------------------------


class RequesterIn(BaseModel):
    """A customer named by e-mail: found among the workspace's contacts, or added."""

    email: EmailStr
    name: str = Field(default="", max_length=200)


class TicketCreate(BaseModel):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    description: str = Field(default="", max_length=MAX_BODY)
    requester_id: uuid.UUID | None = None
    requester: RequesterIn | None = None
    category: str | None = Field(default=None, max_length=100)
    priority: Priority | None = Field(default=None, description="Unset: assessed from the text.")
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: Tags = Field(default_factory=list)
    due_at: datetime | None = None
    channel: str = Field(default="web", max_length=30)
    conversation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _one_requester(self) -> TicketCreate:
        if self.requester_id and self.requester:
            raise ValueError("give requester_id or requester, not both")
        return self


class TicketUpdate(BaseModel):
    """Fields to change; `version` is the one you read (a stale one is refused with 409)."""

    version: int = Field(ge=1)
    subject: str | None = Field(default=None, min_length=1, max_length=MAX_SUBJECT)
    description: str | None = Field(default=None, max_length=MAX_BODY)
    status: TicketStatus | None = None
    priority: Priority | None = None
    category: str | None = Field(default=None, max_length=100)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    tags: Tags | None = None
    due_at: datetime | None = None


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    subject: str
    description: str
    requester_id: uuid.UUID | None
    status: TicketStatus
    priority: Priority
    category: str | None
    predicted_category: str | None
    prediction_confidence: float | None
    needs_triage: bool
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    tags: list[str]
    channel: str
    language: str
    source: str
    due_at: datetime | None
    version: int
    sla_policy_id: uuid.UUID | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalation_level: int
    solved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    public: bool
    comment_id: uuid.UUID | None
    created_at: datetime


class CommentCreate(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY)
    public: bool = Field(description="True: a reply the customer sees; false: an internal note.")
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    status: TicketStatus | None = Field(
        default=None, description="Also move the ticket to this status (e.g. pending)."
    )
    version: int | None = Field(default=None, ge=1, description="Required with `status`.")


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    public: bool
    author_kind: AuthorKind
    author_user_id: uuid.UUID | None
    author_contact_id: uuid.UUID | None
    author_name: str
    body: str
    channel: str
    created_at: datetime
    attachments: list[AttachmentRead] = Field(default_factory=list)


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor: str
    kind: str
    data: dict[str, Any]


class TicketDetail(TicketRead):
    conversation_ids: list[uuid.UUID]
    comments: list[CommentRead]


class MergeIn(BaseModel):
    into_ticket_id: uuid.UUID
    version: int = Field(ge=1, description="Version of the ticket being merged away.")


class EscalateIn(BaseModel):
    version: int = Field(ge=1)
    reason: str = Field(default="by hand", min_length=1, max_length=500)


class FromConversationIn(BaseModel):
    conversation_id: uuid.UUID
    reason: str = Field(default="agent", max_length=50)


# -- the customer's view ------------------------------------------------------------------------


class CustomerTicketRead(BaseModel):
    """What a customer may see of their ticket: no internal fields, no notes."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    subject: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime


class CustomerCommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    author_kind: AuthorKind
    author_name: str
    body: str
    created_at: datetime
    attachments: list[AttachmentRead] = Field(default_factory=list)


class CustomerTicketDetail(CustomerTicketRead):
    comments: list[CustomerCommentRead]


class CustomerReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class CustomerTicketCreate(BaseModel):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    description: str = Field(min_length=1, max_length=MAX_BODY)


# -- routing rules ------------------------------------------------------------------------------


def _field_name(value: str) -> str:
    if not valid_field(value):
        raise ValueError(
            f"unknown field {value!r}: use category, channel, language, priority, team, intent, "
            "subject, tags or contact.<attribute>"
        )
    return value


class ConditionIn(BaseModel):
    field: Annotated[str, AfterValidator(_field_name)] = Field(max_length=120)
    op: Operator = "eq"
    value: Any = None

    @model_validator(mode="after")
    def _value_fits(self) -> ConditionIn:
        if self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list")
        elif self.op in ("gte", "lte"):
            if isinstance(self.value, bool) or not isinstance(self.value, int | float):
                raise ValueError(f"{self.op} needs a number")
        elif self.op != "exists" and not isinstance(self.value, str | int | float | bool):
            raise ValueError(f"{self.op} needs a single value")
        return self


class RuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: Priority | None = None
    tags: Tags = Field(default_factory=list)
    stop: bool = False
    enabled: bool = True
    position: int | None = Field(default=None, ge=0, description="Unset: last.")

    @model_validator(mode="after")
    def _does_something(self) -> RuleIn:
        if not (self.team_id or self.assignee_id or self.priority or self.tags or self.stop):
            raise ValueError("a rule needs an action: team_id, assignee_id, priority or tags")
        return self


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    position: int
    enabled: bool
    conditions: list[dict[str, Any]]
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    priority: Priority | None
    tags: list[str]
    stop: bool


class RuleOrder(BaseModel):
    rule_ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)


class RoutePreviewIn(BaseModel):
    facts: dict[str, Any]


class RoutePreviewOut(BaseModel):
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    priority: Priority | None
    tags: list[str]
    matched: list[str]


# -- teams and agents ---------------------------------------------------------------------------


class TeamSettingsIn(BaseModel):
    strategy: Strategy = Strategy.ROUND_ROBIN
    max_open_per_agent: int | None = Field(default=None, ge=1, le=10_000)
    escalation_team_id: uuid.UUID | None = None


class TeamSettingsRead(TeamSettingsIn):
    model_config = ConfigDict(from_attributes=True)

    team_id: uuid.UUID


class SkillsIn(BaseModel):
    skills: Tags


class SkillsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    skills: list[str]


# -- SLA ----------------------------------------------------------------------------------------


def _schedule(value: dict[str, Any]) -> dict[str, Any]:
    try:
        Calendar.from_schedule(value)
    except CalendarError as exc:
        raise ValueError(str(exc)) from exc
    return value


class CalendarIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    weekly: dict[str, list[tuple[str, str]]] = Field(
        description='{"mon": [["09:00", "18:00"]], …}; days left out are closed.'
    )
    holidays: list[date] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _works(self) -> CalendarIn:
        _schedule(self.schedule())
        return self

    def schedule(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "weekly": {day: [list(r) for r in ranges] for day, ranges in self.weekly.items()},
            "holidays": [d.isoformat() for d in self.holidays],
        }


class CalendarRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    schedule: dict[str, Any]


class SlaPolicyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    priority: Priority
    first_response_seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    resolution_seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    warn_before_seconds: int = Field(default=0, ge=0, le=366 * 86400)
    calendar_id: uuid.UUID | None = None
    escalation_team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _has_target(self) -> SlaPolicyIn:
        if self.first_response_seconds is None and self.resolution_seconds is None:
            raise ValueError("a policy needs first_response_seconds or resolution_seconds")
        return self


class SlaPolicyRead(SlaPolicyIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


# -- classification -----------------------------------------------------------------------------


def _not_oos(value: str) -> str:
    if value.strip().lower() == "oos":
        raise ValueError('"oos" labels out-of-scope examples; it is not a category')
    return value.strip()


class CategoryIn(BaseModel):
    name: Annotated[str, AfterValidator(_not_oos)] = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    team_id: uuid.UUID | None = None
    creates_ticket: bool = False
    skills: Tags = Field(default_factory=list)


class CategoryRead(CategoryIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class ExampleIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    category: str = Field(min_length=1, max_length=100, description='A category, or "oos".')


class ExamplesIn(BaseModel):
    examples: list[ExampleIn] = Field(min_length=1, max_length=10_000)


class ExampleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    text: str
    category: str
    source: str
    ticket_id: uuid.UUID | None
    created_at: datetime


class ClassifierStatus(BaseModel):
    trained: bool
    trained_at: datetime | None = None
    example_count: int = 0
    categories: list[str] = Field(default_factory=list)
    uses_embeddings: bool = False
    pending_examples: int = Field(description="Examples added since the model was trained.")


class ClassifyIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_BODY)
    tier: str | None = Field(default=None, max_length=100)


class ClassifyOut(BaseModel):
    category: str | None
    confidence: float | None
    out_of_scope: bool
    suggested_category: str | None
    team_id: uuid.UUID | None
    priority: Priority
    priority_reasons: list[str]


# -- settings -----------------------------------------------------------------------------------


class SettingsIn(BaseModel):
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    tier_attribute: str | None = Field(default=None, min_length=1, max_length=100)
    duplicate_window_days: int | None = Field(default=None, ge=0, le=365)
    classifier_embeddings: bool | None = None
    default_team_id: uuid.UUID | None = None
    notify_email: bool | None = None


class SettingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    min_confidence: float
    tier_attribute: str
    duplicate_window_days: int
    classifier_embeddings: bool
    default_team_id: uuid.UUID | None
    notify_email: bool


class InboundEmailIn(BaseModel):
    """A raw RFC 5322 message (as an MTA or mail fetcher hands it over)."""

    raw: str = Field(min_length=1, max_length=30_000_000)
