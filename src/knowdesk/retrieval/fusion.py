"""Fuse keyword (BM25) and dense (cosine) scores of indexed units into ranked entries.

The method was picked by measurement (bench/retrieval_research.py):

1. Each modality is put on the knowledge base's own scale: a standard score against the
   distribution of scores the KB's questions get against all its units (`ScoreScale`, measured
   by calibration). BM25 is first divided by the query's ceiling, sum(idf) * (k1 + 1), so that
   it reads as "how much of the query's idf mass matched" whatever the query's length. A KB-level
   scale (unlike a per-query one) keeps scores comparable across queries, which is what lets
   calibrated thresholds mean the same thing for every question.
2. A unit's fused score is `dense * z_dense + (1 - dense) * z_keyword`.
3. An entry's score is its best question-field unit (the question or one of its similar
   questions) plus `answer_field` times its best answer-field unit when that is above the KB's
   average. Matching the question is the strongest evidence; a matching answer on top of it
   breaks ties between near-identical questions. Entries with no question field (document
   passages) score by their best answer-field unit alone.

The database returns the units of every entry that has a unit among the top-K of either index,
with both scores computed for each; everything here is pure and in memory.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Field = Literal["question", "answer"]
Source = Literal["faq", "document"]


@dataclass(frozen=True)
class UnitRef:
    """What fusion needs to know about an indexed unit besides its scores."""

    entry_id: str
    field: Field
    source: Source = "faq"


def unit_ref(entry_id: str, kind: str) -> UnitRef:
    """Fusion's view of an index unit kind: question | similar | answer | chunk."""
    field: Field = "question" if kind in ("question", "similar") else "answer"
    return UnitRef(entry_id, field, "document" if kind == "chunk" else "faq")


@dataclass(frozen=True)
class UnitScore:
    """One indexed unit's raw scores for the current query."""

    entry_id: str
    field: Field
    keyword: float  # BM25: inner product of the unit's sparse vector with the query's
    dense: float  # cosine similarity of the unit's and the query's embeddings
    source: Source = "faq"
    unit_id: str = ""  # the index row, so an answer can cite the passage that matched


@dataclass(frozen=True)
class ScoreScale:
    """Mean and spread of each modality's scores in one knowledge base (see calibration)."""

    dense_mean: float
    dense_std: float
    keyword_mean: float
    keyword_std: float


@dataclass(frozen=True)
class FusionWeights:
    # Measured on zh-bq and en-stackfaq (bench/retrieval_research.py): dense 0.7-0.9 is a
    # plateau on both; question + 0.5 * answer beats the best unit alone (0.910 vs 0.857 top-1
    # on en-stackfaq) and anything in 0.25-1.0 does about as well.
    dense: float = 0.8
    answer_field: float = 0.5


DEFAULT_WEIGHTS = FusionWeights()


@dataclass(frozen=True)
class Candidate:
    """A knowledge-base entry ranked for a query, with the evidence behind its score."""

    entry_id: str
    score: float
    source: Source
    question_score: float | None  # best fused score among question-field units
    answer_score: float | None  # best fused score among answer-field units
    keyword: float  # best keyword score as a share of the query's ceiling, in [0, 1)
    dense: float  # best cosine among the entry's units
    best_unit_id: str = ""  # the unit with the highest fused score: what a grounded reply cites


def keyword_ceiling(query_idf_sum: float, k1: float) -> float:
    """Highest BM25 a unit could reach for this query: every term matched, tf saturated."""
    return query_idf_sum * (k1 + 1.0)


def fuse(
    units: Iterable[UnitScore],
    *,
    keyword_ceiling: float,
    scale: ScoreScale,
    weights: FusionWeights = DEFAULT_WEIGHTS,
) -> list[Candidate]:
    """Rank the entries behind `units`, best first (ties by entry id, for stable output)."""
    best_field: dict[tuple[str, Field], float] = {}
    best_unit: dict[str, tuple[float, str]] = {}
    best_keyword: dict[str, float] = {}
    best_dense: dict[str, float] = {}
    sources: dict[str, Source] = {}
    for unit in units:
        keyword_share = unit.keyword / keyword_ceiling if keyword_ceiling > 0 else 0.0
        fused = weights.dense * _standard(unit.dense, scale.dense_mean, scale.dense_std) + (
            1.0 - weights.dense
        ) * _standard(keyword_share, scale.keyword_mean, scale.keyword_std)
        key = (unit.entry_id, unit.field)
        best_field[key] = max(fused, best_field.get(key, fused))
        if unit.entry_id not in best_unit or fused > best_unit[unit.entry_id][0]:
            best_unit[unit.entry_id] = (fused, unit.unit_id)
        best_keyword[unit.entry_id] = max(keyword_share, best_keyword.get(unit.entry_id, 0.0))
        best_dense[unit.entry_id] = max(unit.dense, best_dense.get(unit.entry_id, unit.dense))
        sources[unit.entry_id] = unit.source
    candidates = []
    for entry_id, source in sources.items():
        question = best_field.get((entry_id, "question"))
        answer = best_field.get((entry_id, "answer"))
        candidates.append(
            Candidate(
                entry_id=entry_id,
                score=_entry_score(question, answer, weights.answer_field),
                source=source,
                question_score=question,
                answer_score=answer,
                keyword=best_keyword[entry_id],
                dense=best_dense[entry_id],
                best_unit_id=best_unit[entry_id][1],
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.entry_id))
    return candidates


def _standard(value: float, mean: float, std: float) -> float:
    return (value - mean) / std if std > 0 else value - mean


def _entry_score(question: float | None, answer: float | None, answer_weight: float) -> float:
    if question is None:
        return answer if answer is not None else float("-inf")
    if answer is None:
        return question
    return question + answer_weight * max(answer, 0.0)


def rank_entries(
    units: Sequence[UnitRef],
    dense: npt.NDArray[np.floating],
    keyword: npt.NDArray[np.floating],
    *,
    keyword_ceiling: float,
    scale: ScoreScale,
    weights: FusionWeights = DEFAULT_WEIGHTS,
    top_k: int = 50,
    hidden: Collection[int] = (),
) -> list[Candidate]:
    """In-memory twin of the database search, for one query over a whole knowledge base.

    `dense` and `keyword` hold the query's raw scores against every unit. As in the database:
    take the `top_k` units of each index, then score every unit of the entries they belong to.
    `hidden` units are treated as absent (calibration holds questions out this way). Unit ids
    in the result are positions in `units`, as strings.
    """
    visible = np.ones(len(units), dtype=bool)
    visible[list(hidden)] = False
    entries: set[str] = set()
    # A unit sharing no term with the query has keyword score 0: it is no keyword hit.
    for scores, floor in ((dense, -np.inf), (keyword, 0.0)):
        masked = np.where(visible & (scores > floor), scores, -np.inf)
        k = min(top_k, len(units))
        best = np.argpartition(-masked, k - 1)[:k]
        entries.update(units[i].entry_id for i in best if masked[i] > -np.inf)
    hits = [
        UnitScore(
            unit.entry_id, unit.field, float(keyword[i]), float(dense[i]), unit.source, str(i)
        )
        for i, unit in enumerate(units)
        if visible[i] and unit.entry_id in entries
    ]
    return fuse(hits, keyword_ceiling=keyword_ceiling, scale=scale, weights=weights)
