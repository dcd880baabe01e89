"""The one answer path every channel uses: search, fuse, decide, compose.

`direct` replies with the reviewed FAQ answer; `grounded` with the best passage(s) and their
citations (or, with an LLM configured, a generated answer that may cite only those passages,
and a hand-off when the model finds no answer in them); `clarify` offers up to three close
candidates; `handoff` says a person should take over. The thresholds come from the workspace's
own calibration; a workspace that has none yet never answers on its own and only offers choices.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.config import get_settings
from knowdesk.errors import InvalidInputError
from knowdesk.retrieval import workspace_calibration
from knowdesk.retrieval.embedding import default_embedder
from knowdesk.retrieval.fusion import DEFAULT_WEIGHTS, Candidate, ScoreScale, fuse
from knowdesk.retrieval.llm import LLM, generate_grounded
from knowdesk.retrieval.llm_settings import workspace_llm
from knowdesk.retrieval.policy import Thresholds, decide
from knowdesk.retrieval.schemas import AnswerResult, Decision, RankedEntry, Source, Suggestion
from knowdesk.retrieval.search import FoundUnit, find_units, keyword_query
from knowdesk.text.tokenize import detect_language

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000

# Before calibration: scores on no known scale, so never answer, only offer what was found.
_UNCALIBRATED = workspace_calibration.StoredCalibration(
    scale=ScoreScale(0.8, 0.05, 0.1, 0.1),
    thresholds=Thresholds(float("inf"), 0.0, float("-inf"), 0.5, 1.0),
    report=workspace_calibration.CalibrationReport(0, 0, 1.0, 0, 0.0),
)

_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|它|这个|那个|呢|and |what about|how about|and the|what if|also)|"
    r"(呢[？?]?$|多少钱[？?]?$|\bit\b|\bthat\b|\bthis one\b)",
    re.IGNORECASE,
)

_CLARIFY_TEXT = {"zh": "您想问的是下面哪一个？", "en": "Did you mean one of these?"}


def _printable(raw: str) -> str:
    """Printable text only, white space folded."""
    text = "".join(ch if unicodedata.category(ch)[0] not in ("C",) else " " for ch in raw)
    return re.sub(r"\s+", " ", text).strip()


def clean_question(raw: str) -> str:
    """Printable text only, white space folded; refuse what holds no question at all."""
    text = _printable(raw)
    if not text:
        raise InvalidInputError("The question is empty.")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInputError(f"The question is longer than {MAX_QUESTION_CHARS} characters.")
    return text


def _has_words(text: str) -> bool:
    return any(unicodedata.category(ch)[0] == "L" for ch in text)


def with_earlier_turn(earlier: str, question: str) -> str:
    """The question after the end of the turn before it, as long as a question may be (an
    earlier turn can be a long message the customer pasted)."""
    room = MAX_QUESTION_CHARS - len(question) - 1
    before = _printable(earlier)[-room:] if room > 0 else ""
    return f"{before} {question}".strip()


def looks_like_follow_up(question: str) -> bool:
    short = len(question) <= 8 if detect_language(question) == "zh" else len(question.split()) <= 5
    return short or bool(_FOLLOW_UP.search(question))


@dataclass(frozen=True)
class _Attempt:
    question: str
    candidates: list[Candidate]
    units: dict[str, FoundUnit]
    decision: Decision
    entry_ids: tuple[str, ...]
    confidence: float


_RANK = {Decision.DIRECT: 3, Decision.GROUNDED: 3, Decision.CLARIFY: 2, Decision.HANDOFF: 1}


async def _attempt(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    question: str,
    calibration: workspace_calibration.StoredCalibration,
    collection_ids: Sequence[uuid.UUID] | None,
) -> _Attempt:
    query = await keyword_query(session, workspace_id, question)
    embedder = default_embedder(get_settings().embedding_threads)
    vector = (await asyncio.to_thread(embedder.embed_queries, [question]))[0]
    found = await find_units(session, workspace_id, query, vector, collection_ids=collection_ids)
    candidates = fuse(
        [f.score for f in found],
        keyword_ceiling=query.ceiling,
        scale=calibration.scale,
        weights=DEFAULT_WEIGHTS,
    )
    decided = decide(candidates, calibration.thresholds)
    return _Attempt(
        question=question,
        candidates=candidates,
        units={str(f.unit_id): f for f in found},
        decision=Decision(decided.kind),
        entry_ids=decided.entry_ids,
        confidence=decided.confidence,
    )


def _better(a: _Attempt, b: _Attempt) -> _Attempt:
    if _RANK[b.decision] != _RANK[a.decision]:
        return b if _RANK[b.decision] > _RANK[a.decision] else a
    return b if b.confidence > a.confidence else a


def _source(unit: FoundUnit, score: float) -> Source:
    return Source(
        entry_id=unit.entry_id,
        unit_id=unit.unit_id,
        collection_id=unit.collection_id,
        kind=unit.kind,
        title=unit.title,
        text=unit.text,
        heading_path=unit.heading_path,
        page=unit.page,
        score=round(score, 4),
    )


def _entry_units(attempt: _Attempt, entry_id: str) -> list[FoundUnit]:
    return [u for u in attempt.units.values() if str(u.entry_id) == entry_id]


def _candidate(attempt: _Attempt, entry_id: str) -> Candidate:
    return next(c for c in attempt.candidates if c.entry_id == entry_id)


def _compose(attempt: _Attempt, language: str) -> tuple[str | None, list[Source], list[Suggestion]]:
    if attempt.decision == Decision.DIRECT:
        entry_id = attempt.entry_ids[0]
        units = _entry_units(attempt, entry_id)
        answer = next(u for u in units if u.kind == "answer")
        best = attempt.units.get(_candidate(attempt, entry_id).best_unit_id or "", answer)
        score = _candidate(attempt, entry_id).score
        sources = [_source(answer, score)] + ([_source(best, score)] if best is not answer else [])
        return answer.text, sources, []
    if attempt.decision == Decision.GROUNDED:
        sources = []
        for entry_id in attempt.entry_ids:
            cand = _candidate(attempt, entry_id)
            unit = attempt.units.get(cand.best_unit_id or "")
            if unit is not None:
                sources.append(_source(unit, cand.score))
        return sources[0].text if sources else None, sources, []
    if attempt.decision == Decision.CLARIFY:
        suggestions = []
        for entry_id in attempt.entry_ids:
            units = _entry_units(attempt, entry_id)
            question = next((u.text for u in units if u.kind == "question"), None)
            if question is None:
                unit = units[0]
                question = " / ".join([unit.title, *unit.heading_path[-1:]])
            suggestions.append(Suggestion(entry_id=uuid.UUID(entry_id), question=question))
        return _CLARIFY_TEXT[language], [], suggestions
    return None, [], []


async def answer_question(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    question: str,
    *,
    history: Sequence[str] = (),
    collection_ids: Sequence[uuid.UUID] | None = None,
    explain: bool = False,
) -> AnswerResult:
    """Answer one customer question from the workspace's published knowledge; `explain` adds
    the ten best-ranked entries to the result."""
    text = clean_question(question)
    language = detect_language(text)
    if not _has_words(text):
        return AnswerResult(
            decision=Decision.HANDOFF,
            answer=None,
            confidence=0.0,
            resolved_question=text,
            language=language,
            scores={"reason_no_words": 1.0},
            ranking=[] if explain else None,
        )
    calibration = await workspace_calibration.stored(session, workspace_id) or _UNCALIBRATED
    attempt = await _attempt(session, workspace_id, text, calibration, collection_ids)
    earlier = [h for h in history if h.strip()]
    if earlier and attempt.decision not in (Decision.DIRECT, Decision.GROUNDED):
        if looks_like_follow_up(text):
            combined = with_earlier_turn(earlier[-1], text)
            attempt = _better(
                attempt,
                await _attempt(session, workspace_id, combined, calibration, collection_ids),
            )
    reply = _Reply(attempt.decision, *_compose(attempt, language))
    llm = await workspace_llm(session, workspace_id, get_settings())
    if reply.decision == Decision.GROUNDED and reply.sources and llm is not None:
        reply = await _generated(llm, reply, attempt.question, language)
    top = attempt.candidates[0] if attempt.candidates else None
    thresholds = calibration.thresholds
    return AnswerResult(
        decision=reply.decision,
        answer=reply.answer,
        sources=reply.sources,
        suggestions=reply.suggestions,
        confidence=round(attempt.confidence, 4) if top else 0.0,
        resolved_question=attempt.question,
        language=language,
        scores={
            "top": round(top.score, 4) if top else 0.0,
            "keyword": round(top.keyword, 4) if top else 0.0,
            "dense": round(top.dense, 4) if top else 0.0,
            "answer_threshold": _finite(thresholds.answer),
            "clarify_threshold": _finite(thresholds.clarify),
            "min_margin": round(thresholds.min_margin, 4),
            "calibrated": 0.0 if calibration is _UNCALIBRATED else 1.0,
            **({"generated": 1.0} if reply.generated else {}),
            **({"reason_llm_refused": 1.0} if reply.refused else {}),
        },
        ranking=_ranking(attempt.candidates) if explain else None,
    )


@dataclass(frozen=True)
class _Reply:
    decision: Decision
    answer: str | None
    sources: list[Source]
    suggestions: list[Suggestion]
    generated: bool = False
    refused: bool = False  # the model found no answer in the passages


def _passage(source: Source) -> str:
    where = " / ".join([source.title, *source.heading_path])
    return f"{where}\n{source.text}"


async def _generated(llm: LLM, extractive: _Reply, question: str, language: str) -> _Reply:
    """The model's answer from the grounded reply's passages (numbered as its sources); a
    hand-off when the model says they hold no answer (it read them, the search only scored
    them); when the model fails, the extractive reply as it was."""
    passages = [_passage(s) for s in extractive.sources]
    generation = await generate_grounded(llm, question, passages, language)
    if generation.outcome == "answered":
        return dataclasses.replace(extractive, answer=generation.text, generated=True)
    if generation.outcome == "refused":
        return _Reply(Decision.HANDOFF, None, [], [], refused=True)
    log.warning("LLM generation failed, answering from the passages: %s", generation.reason)
    return extractive


def _ranking(candidates: Sequence[Candidate], size: int = 10) -> list[RankedEntry]:
    return [
        RankedEntry(
            entry_id=uuid.UUID(c.entry_id),
            score=round(c.score, 4),
            keyword=round(c.keyword, 4),
            dense=round(c.dense, 4),
        )
        for c in candidates[:size]
    ]


def _finite(value: float) -> float:
    return (
        round(value, 4)
        if value not in (float("inf"), float("-inf"))
        else 1e9 * (1 if value > 0 else -1)
    )
