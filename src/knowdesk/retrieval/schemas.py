"""What the answer path returns, to every channel (API, chat, widget, CLI)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field


class Decision(StrEnum):
    DIRECT = "direct"  # the reviewed FAQ answer
    GROUNDED = "grounded"  # passage(s) from documents, with citations
    CLARIFY = "clarify"  # several close candidates: let the customer choose
    HANDOFF = "handoff"  # not covered: a person takes over


class Source(BaseModel):
    entry_id: uuid.UUID
    unit_id: uuid.UUID
    collection_id: uuid.UUID
    kind: str = Field(description="question | similar | answer | chunk")
    title: str
    text: str
    heading_path: list[str] = Field(default_factory=list)
    page: int | None = None
    score: float


class Suggestion(BaseModel):
    entry_id: uuid.UUID
    question: str


class RankedEntry(BaseModel):
    """One entry of the search's ranking (shown only when asked to explain)."""

    entry_id: uuid.UUID
    score: float = Field(description="Fused score on the workspace's calibrated scale.")
    keyword: float = Field(description="Best keyword score, as a share of the query's ceiling.")
    dense: float = Field(description="Best cosine similarity among the entry's units.")


class AskIn(BaseModel):
    question: str = Field(
        description="The customer's question (1–2,000 characters after trimming)."
    )
    history: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Earlier customer turns of the same conversation, oldest first.",
    )
    collection_ids: list[uuid.UUID] | None = Field(
        default=None, description="Search only these collections (default: all)."
    )


class AnswerResult(BaseModel):
    decision: Decision
    answer: str | None = Field(description="Text to show the customer; None on hand-off.")
    sources: list[Source] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(
        default_factory=list, description="For clarify: up to three questions to choose from."
    )
    confidence: float = Field(
        description="Top score plus its lead over the runner-up, on the workspace's calibrated "
        "scale; answers need it above scores.answer_threshold."
    )
    resolved_question: str = Field(description="The question after resolving a follow-up.")
    language: str
    scores: dict[str, float] = Field(default_factory=dict, description="Why: the ranking figures.")
    ranking: list[RankedEntry] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Only with `?explain=true`: the ten best-ranked entries, best first, "
        "whatever the decision (for evaluation and debugging).",
    )


class CalibrationRead(BaseModel):
    """The workspace's learnt scale and thresholds, and how they were reached."""

    calibrated: bool
    units: int = 0
    computed_at: str | None = None
    data: dict[str, object] = Field(default_factory=dict)
