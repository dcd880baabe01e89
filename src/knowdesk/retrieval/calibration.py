"""Derive a knowledge base's decision thresholds from its own content.

No customer traffic is needed. The KB's questions (main and similar) are asked as if customers
asked them, against the KB with some units hidden (`pseudo_queries`):

- *absent*: the question's whole entry is hidden, so whatever comes first is wrong. These are
  in-domain questions the KB does not cover: the hardest kind of out-of-scope question, and the
  score a wrong top-1 reaches.
- *held out*: only that question's unit is hidden, and the entry can still be found through its
  other questions or its answer. These estimate how often the top-1 is wrong at all.

Every wrong top-1 (all *absent* ones, and *held out* ones ranked wrongly) gives one sample of the
confidence a wrong answer would have. The answer threshold is the quantile of those confidences
that lets through a share `alpha` of them, where `alpha * estimated_top1_error` equals the
wrong-answer budget: the expected wrong answers per question then stay within budget. With no
held-out questions (an FAQ without similar questions whose answers repeat the questions) the
top-1 error cannot be estimated and is taken as 1, the safe side.

Scores are fused on the scale this same content gives (`ScoreScale`), so the thresholds are
in the units `fusion.fuse` produces for this KB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowdesk.retrieval.fusion import (
    DEFAULT_WEIGHTS,
    Candidate,
    FusionWeights,
    ScoreScale,
    UnitRef,
    rank_entries,
)
from knowdesk.retrieval.policy import Thresholds, confidence, margin


@dataclass(frozen=True)
class PseudoQuery:
    """A KB question asked against the KB with `hidden` units removed."""

    unit: int  # index of the question-field unit whose text is asked
    hidden: frozenset[int]
    expected_entry: str | None  # the entry that can still answer; None when it is hidden whole


@dataclass(frozen=True)
class CalibrationReport:
    """How the thresholds were reached, to show beside them."""

    absent_questions: int
    held_out_questions: int
    estimated_top1_error: float  # among held-out questions; 1.0 when there were none
    wrong_top1_samples: int
    answer_pass_rate: float  # share of wrong-top-1 samples the answer threshold lets through


@dataclass(frozen=True)
class Calibration:
    scale: ScoreScale
    thresholds: Thresholds
    report: CalibrationReport


def pseudo_queries(
    units: Sequence[UnitRef],
    texts: Sequence[str],
    *,
    max_questions: int = 1500,
    seed: int = 0,
) -> list[PseudoQuery]:
    """Absent and held-out pseudo-queries for (a deterministic sample of) the KB's questions.

    `texts[i]` is unit i's text (or any stand-in that is equal exactly when the texts are, such
    as a content hash). Holding a question out also hides its entry's units of the same text: an
    FAQ whose answer repeats its question would otherwise find itself.
    """
    by_entry: dict[str, list[int]] = defaultdict(list)
    for index, unit in enumerate(units):
        by_entry[unit.entry_id].append(index)
    questions = [i for i, unit in enumerate(units) if unit.field == "question"]
    if len(questions) > max_questions:
        rng = np.random.default_rng(seed)
        questions = sorted(rng.choice(questions, size=max_questions, replace=False).tolist())
    out: list[PseudoQuery] = []
    for index in questions:
        entry_id = units[index].entry_id
        siblings = by_entry[entry_id]
        out.append(PseudoQuery(index, frozenset(siblings), None))
        held_out = frozenset(i for i in siblings if texts[i] == texts[index])
        if len(held_out) < len(siblings):
            out.append(PseudoQuery(index, held_out, entry_id))
    return out


def score_scale(
    dense: npt.NDArray[np.floating],
    keyword_share: npt.NDArray[np.floating],
    visible: npt.NDArray[np.bool_],
) -> ScoreScale:
    """Mean and spread of both modalities over the visible (question, unit) pairs."""
    d, k = dense[visible], keyword_share[visible]
    if d.size == 0:
        # Nothing to compare with (a one-unit KB): leave raw scores as they are.
        return ScoreScale(0.0, 1.0, 0.0, 1.0)
    return ScoreScale(float(d.mean()), float(d.std()), float(k.mean()), float(k.std()))


@dataclass(frozen=True)
class Budget:
    """How cautious the thresholds are; the defaults are what the research measured."""

    max_wrong_rate: float = 0.05  # expected wrong answers per question
    max_pass_rate: float = 0.1  # cap on the share of uncovered in-domain questions answered
    margin_weight: float = 1.0  # weight of the top candidate's lead in the confidence
    handoff_quantile: float = 0.1  # below this quantile of wrong top-1 scores: hand off
    tie_quantile: float = 0.25  # a lead below this quantile of wrong top-1 leads is a tie


DEFAULT_BUDGET = Budget()


def calibrate(
    units: Sequence[UnitRef],
    queries: Sequence[PseudoQuery],
    *,
    dense: npt.NDArray[np.floating],
    keyword: npt.NDArray[np.floating],
    keyword_ceilings: npt.NDArray[np.floating],
    weights: FusionWeights = DEFAULT_WEIGHTS,
    budget: Budget = DEFAULT_BUDGET,
    top_k: int = 50,
) -> Calibration:
    """Scale and thresholds for one KB from its pseudo-queries' raw scores, all in memory.

    Row i of `dense` / `keyword` holds the scores of `queries[i]`'s text against every unit
    (keyword computed with the hidden units left out of the statistics, as if never indexed);
    `keyword_ceilings[i]` is that query's keyword ceiling (`fusion.keyword_ceiling`). A KB too
    big for these matrices can do the same in steps: `score_scale` on a sample of pairs, the
    database's own top-k search per pseudo-query, then `fit_thresholds`.
    """
    if not queries:
        raise ValueError("calibration needs at least one pseudo-query")
    visible = np.ones(dense.shape, dtype=bool)
    for row, query in enumerate(queries):
        visible[row, list(query.hidden)] = False
    shares = keyword / np.maximum(np.asarray(keyword_ceilings)[:, None], 1e-12)
    scale = score_scale(dense, shares, visible)
    rankings = (
        (
            query.expected_entry,
            rank_entries(
                units,
                dense[row],
                keyword[row],
                keyword_ceiling=float(keyword_ceilings[row]),
                scale=scale,
                weights=weights,
                top_k=top_k,
                hidden=query.hidden,
            ),
        )
        for row, query in enumerate(queries)
    )
    thresholds, report = fit_thresholds(rankings, budget)
    return Calibration(scale, thresholds, report)


def fit_thresholds(
    rankings: Iterable[tuple[str | None, Sequence[Candidate]]],
    budget: Budget = DEFAULT_BUDGET,
) -> tuple[Thresholds, CalibrationReport]:
    """Thresholds from pseudo-queries' ranked candidates: (entry that should win, ranking).

    The expected entry is None for *absent* pseudo-queries, whose top-1 is wrong by
    construction.
    """
    wrong_confidences: list[float] = []
    wrong_scores: list[float] = []
    wrong_margins: list[float] = []
    held_out = held_out_wrong = absent = 0
    for expected, ranked in rankings:
        if not ranked:
            continue
        if expected is None:
            absent += 1
        else:
            held_out += 1
            if ranked[0].entry_id == expected:
                continue
            held_out_wrong += 1
        wrong_confidences.append(confidence(ranked, budget.margin_weight))
        wrong_scores.append(ranked[0].score)
        wrong_margins.append(margin(ranked))

    top1_error = held_out_wrong / held_out if held_out else 1.0
    pass_rate = min(
        budget.max_pass_rate, budget.max_wrong_rate / max(top1_error, budget.max_wrong_rate)
    )
    report = CalibrationReport(
        absent_questions=absent,
        held_out_questions=held_out,
        estimated_top1_error=top1_error,
        wrong_top1_samples=len(wrong_confidences),
        answer_pass_rate=pass_rate,
    )
    if not wrong_confidences:
        # Nothing to learn from (a one-entry KB): never answer on our own, always offer.
        return Thresholds(float("inf"), 0.0, float("-inf"), 0.0, budget.margin_weight), report
    # "higher": with few samples the threshold sits on an observed wrong score, never between.
    answer = float(np.quantile(wrong_confidences, 1.0 - pass_rate, method="higher"))
    min_margin = float(np.quantile(wrong_margins, budget.tie_quantile))
    clarify = float(np.quantile(wrong_scores, budget.handoff_quantile, method="lower"))
    # Wrong top-1s usually lead by little; a runner-up within their typical lead is a real
    # alternative worth offering.
    band = float(np.quantile(wrong_margins, 0.9))
    return Thresholds(answer, min_margin, clarify, band, budget.margin_weight), report
