"""What analytics reads and returns: metrics tables, knowledge gaps, drafts, feedback and
personalised suggestions.

Every table of the metrics report is a list of flat rows, so each one exports to CSV as is.
Durations are in seconds; rates and shares are fractions in [0, 1], None when nothing was
there to divide.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class DurationStats(BaseModel):
    count: int = 0
    mean_seconds: float | None = None
    median_seconds: float | None = None
    p90_seconds: float | None = None


class Summary(BaseModel):
    conversations: int = Field(
        description="Conversations started in the period in which the customer wrote at least once."
    )
    deflected: int = Field(description="Of those: answered by the bot, never handed to a person.")
    deflection_rate: float | None
    handed_off: int
    handoff_rate: float | None
    resolved: int
    bot_replies: int
    direct: int
    grounded: int
    clarify: int
    handoff: int = Field(description="Hand-offs the bot decided (it had no answer, or failed).")
    helpful: int
    not_helpful: int
    csat: float | None = Field(description="helpful / (helpful + not helpful) ratings of replies.")
    chat_first_response: DurationStats
    chat_resolution: DurationStats
    tickets_created: int
    tickets_solved: int
    ticket_first_response: DurationStats
    ticket_resolution: DurationStats
    sla_response_met: int
    sla_response_breached: int
    sla_resolution_met: int
    sla_resolution_breached: int
    sla_attainment: float | None = Field(
        description="Targets met / targets decided (met or breached), response and resolution."
    )
    backlog: int = Field(description="Tickets open at the end of the period.")


class SummaryRow(BaseModel):
    metric: str
    value: float | int | None


class SeriesRow(BaseModel):
    bucket: date
    conversations: int
    deflected: int
    handed_off: int
    helpful: int
    not_helpful: int
    tickets_created: int
    tickets_solved: int
    backlog: int


class DecisionRow(BaseModel):
    decision: str
    count: int
    share: float | None


class HandoffReasonRow(BaseModel):
    reason: str
    count: int


class BreakdownRow(BaseModel):
    """One channel's or team's conversations."""

    id: uuid.UUID | None
    name: str
    conversations: int
    deflected: int
    deflection_rate: float | None
    handed_off: int
    handoff_rate: float | None
    helpful: int
    not_helpful: int
    csat: float | None
    median_first_response_seconds: float | None


class CategoryRow(BaseModel):
    category: str
    tickets_created: int
    tickets_solved: int
    open_now: int
    median_resolution_seconds: float | None
    sla_met: int
    sla_breached: int


class AgentRow(BaseModel):
    user_id: uuid.UUID
    name: str
    conversations_assigned: int
    conversations_resolved: int
    chat_messages: int
    median_first_response_seconds: float | None
    tickets_open: int
    tickets_solved: int
    ticket_replies: int


class BacklogRow(BaseModel):
    status: str
    priority: str
    count: int


class MetricsFilters(BaseModel):
    start: date
    end: date = Field(description="Last day of the period (inclusive).")
    interval: Interval
    tz: str
    channel_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    category: str | None = None


class MetricsReport(BaseModel):
    filters: MetricsFilters
    summary: Summary
    series: list[SeriesRow]
    decisions: list[DecisionRow]
    handoff_reasons: list[HandoffReasonRow]
    channels: list[BreakdownRow]
    teams: list[BreakdownRow]
    categories: list[CategoryRow]
    agents: list[AgentRow]
    backlog: list[BacklogRow]


# -- knowledge gaps ---------------------------------------------------------------------------


class GapQuestion(BaseModel):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    text: str
    asked_at: datetime
    signals: list[str] = Field(description="handoff | unhelpful | low_confidence | asked_person")
    agent_answer: str | None = Field(description="How a person answered it, if one did.")


class GapTopic(BaseModel):
    key: uuid.UUID = Field(description="The representative question's message id.")
    label: str
    keywords: list[str]
    representative: str
    language: str
    count: int
    conversations: int
    first_asked: datetime
    last_asked: datetime
    series: list[int] = Field(description="Questions per bucket of the report.")
    growth: float = Field(description="(later half + 1) / (earlier half + 1) of the period.")
    rising: bool
    answered_by_agents: int
    question_ids: list[uuid.UUID]
    questions: list[GapQuestion] = Field(description="Up to 20 of the topic's questions.")
    drafted_entry_ids: list[uuid.UUID]


class GapReport(BaseModel):
    buckets: list[date]
    questions: int = Field(
        description="Questions the bot failed in the period (the newest "
        "2,000 at most) that were clustered."
    )
    truncated: bool = Field(description="More questions failed than one report clusters.")
    pending: int = Field(description="Questions not yet embedded: they join the next report.")
    topics: list[GapTopic]


class GapDraftIn(BaseModel):
    message_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    collection_id: uuid.UUID
    question: str | None = Field(default=None, min_length=1, max_length=1000)
    answer: str | None = Field(default=None, min_length=1, max_length=20000)


class ConversationDraftIn(BaseModel):
    conversation_id: uuid.UUID
    collection_id: uuid.UUID


class TicketDraftIn(BaseModel):
    ticket_id: uuid.UUID
    collection_id: uuid.UUID


class DraftRead(BaseModel):
    entry_id: uuid.UUID
    status: str
    question: str
    similar: list[str]
    answer: str
    sources: int = Field(description="Questions, conversations or tickets it was drafted from.")


# -- feedback ---------------------------------------------------------------------------------


class FeedbackIn(BaseModel):
    message_id: uuid.UUID = Field(description="The customer's message that asked the question.")
    entry_id: uuid.UUID = Field(description="The FAQ entry that answers it.")


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    entry_id: uuid.UUID
    message_id: uuid.UUID
    question: str
    source: str
    status: str
    proposed_version: int | None
    created_at: datetime


class FeedbackApplyIn(BaseModel):
    entry_ids: list[uuid.UUID] | None = Field(
        default=None, description="Only these entries' candidates (default: every pending one)."
    )


class ProposedEntry(BaseModel):
    entry_id: uuid.UUID
    version: int
    status: str
    questions: list[str]


class FeedbackApplyResult(BaseModel):
    proposed: list[ProposedEntry]
    known: int = Field(description="Candidates the entry already held.")


# -- personalisation --------------------------------------------------------------------------


class PersonalisationSettings(BaseModel):
    enabled: bool = Field(
        default=True,
        description="Use contacts' attributes and history for suggestions and answers.",
    )
    product_attributes: list[str] = Field(
        default_factory=lambda: ["product", "products"],
        max_length=20,
        description="Contact attributes that name the customer's product(s).",
    )


class SuggestedArticle(BaseModel):
    entry_id: uuid.UUID
    collection_id: uuid.UUID
    title: str
    reasons: list[str] = Field(description="page | history | product | popular")
    score: float


class RecentQuestion(BaseModel):
    conversation_id: uuid.UUID
    text: str
    asked_at: datetime


class OpenTicket(BaseModel):
    id: uuid.UUID
    number: int
    subject: str
    status: str
    updated_at: datetime


class ContactContext(BaseModel):
    contact_id: uuid.UUID
    name: str
    email: str
    attributes: dict[str, object]
    personalised: bool
    products: list[str]
    preferred_collection_ids: list[uuid.UUID]
    recent_questions: list[RecentQuestion]
    open_tickets: list[OpenTicket]
    suggestions: list[SuggestedArticle]
