"""What to do with a customer question, given its ranked candidates and the KB's thresholds.

- `direct`: the top candidate is an FAQ entry and the confidence clears the answer threshold:
  reply with its reviewed answer.
- `grounded`: the same, but the top candidate is a document passage: reply from passages, citing
  the ones close to the top (at most `max_choices`).
- `clarify`: not confident enough to answer, but the top score is within what the KB's own
  questions reach: offer the top candidate and those close to it (at most `max_choices`).
- `handoff`: the question looks covered by nothing: pass it to a person.

Confidence is the top fused score plus `margin_weight` times its lead over the runner-up: a high
score that several entries share is a reason to ask, not to answer. Thresholds come from
`calibration.calibrate`, never from constants, because score levels differ between knowledge
bases and embedding models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from knowdesk.retrieval.fusion import Candidate

DecisionKind = Literal["direct", "grounded", "clarify", "handoff"]


@dataclass(frozen=True)
class Thresholds:
    """Per-knowledge-base decision thresholds, in fused-score units."""

    answer: float  # minimum confidence to answer
    min_margin: float  # minimum lead over the runner-up to answer: a near tie is a question
    clarify: float  # minimum top score to offer choices rather than hand off
    clarify_band: float  # how far below the top a candidate may score and still be offered
    margin_weight: float  # weight of the top candidate's lead in the confidence


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    entry_ids: tuple[str, ...]
    confidence: float


def margin(candidates: Sequence[Candidate]) -> float:
    """Lead of the top candidate over the runner-up (0 when there is no runner-up to compare)."""
    if len(candidates) < 2:
        return 0.0
    return candidates[0].score - candidates[1].score


def confidence(candidates: Sequence[Candidate], margin_weight: float) -> float:
    if not candidates:
        return float("-inf")
    return candidates[0].score + margin_weight * margin(candidates)


def decide(
    candidates: Sequence[Candidate], thresholds: Thresholds, *, max_choices: int = 3
) -> Decision:
    """Decide for `candidates` ranked best first (as `fusion.fuse` returns them)."""
    conf = confidence(candidates, thresholds.margin_weight)
    if not candidates or candidates[0].score < thresholds.clarify:
        return Decision("handoff", (), conf)
    top = candidates[0]
    close = [c for c in candidates if c.score >= top.score - thresholds.clarify_band]
    if conf >= thresholds.answer and margin(candidates) >= thresholds.min_margin:
        if top.source == "faq":
            return Decision("direct", (top.entry_id,), conf)
        passages = [c.entry_id for c in close if c.source == "document"][:max_choices]
        return Decision("grounded", tuple(passages), conf)
    return Decision("clarify", tuple(c.entry_id for c in close[:max_choices]), conf)
