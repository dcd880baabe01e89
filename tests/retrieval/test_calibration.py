import numpy as np
import numpy.typing as npt
import pytest

from knowdesk.retrieval.calibration import (
    Budget,
    Calibration,
    PseudoQuery,
    calibrate,
    fit_thresholds,
    pseudo_queries,
)
from knowdesk.retrieval.fusion import Candidate, UnitRef, rank_entries
from knowdesk.retrieval.policy import decide

# A synthetic KB: 12 entries, each a question and one similar question. A question scores high
# against its own entry's units and low (with noise) against the rest, in both indexes.
ENTRIES = [f"e{i}" for i in range(12)]
UNITS = [UnitRef(entry, "question") for entry in ENTRIES for _ in range(2)]
CEILING = 4.0


def _scores(
    rng: np.random.Generator, near: dict[str, float], base: float = 0.80, words: float = 0.2
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Dense and keyword rows: `near` entries get the given cosine, the rest sit at ~`base`."""
    dense = base + rng.normal(0, 0.01, len(UNITS))
    keyword = np.abs(rng.normal(words, words / 2, len(UNITS)))
    for i, unit in enumerate(UNITS):
        if unit.entry_id in near:
            dense[i] = near[unit.entry_id]
            keyword[i] = 2.5
    return dense, keyword


def _calibrated() -> tuple[np.random.Generator, Calibration]:
    rng = np.random.default_rng(7)
    queries = pseudo_queries(UNITS, [f"text {i}" for i in range(len(UNITS))])
    rows = [_scores(rng, {UNITS[q.unit].entry_id: 0.95}) for q in queries]
    calibration = calibrate(
        UNITS,
        queries,
        dense=np.array([d for d, _ in rows]),
        keyword=np.array([k for _, k in rows]),
        keyword_ceilings=np.full(len(queries), CEILING),
    )
    return rng, calibration


def test_pseudo_queries_hold_out_questions_and_hide_whole_entries() -> None:
    units = [
        UnitRef("alone", "question"),
        UnitRef("echo", "question"),
        UnitRef("echo", "answer"),
        UnitRef("rich", "question"),
        UnitRef("rich", "question"),
        UnitRef("rich", "answer"),
    ]
    texts = ["a?", "b?", "b?", "c?", "c, said otherwise?", "c."]
    queries = pseudo_queries(units, texts)
    assert PseudoQuery(0, frozenset({0}), None) in queries
    assert PseudoQuery(1, frozenset({1, 2}), None) in queries
    assert PseudoQuery(3, frozenset({3, 4, 5}), None) in queries
    assert PseudoQuery(3, frozenset({3}), "rich") in queries
    assert PseudoQuery(4, frozenset({4}), "rich") in queries
    # "alone" has nothing left once its question is held out, nor has "echo", whose answer
    # repeats the question; answers are never asked.
    assert len(queries) == 6


def test_calibration_separates_covered_uncovered_and_ambiguous_questions() -> None:
    rng, calibration = _calibrated()
    report, thresholds, scale = calibration.report, calibration.thresholds, calibration.scale
    assert report.absent_questions == 24 and report.held_out_questions == 24
    assert report.estimated_top1_error == 0.0
    assert report.answer_pass_rate == 0.1  # capped: an error-free estimate is not trusted whole
    assert thresholds.answer > thresholds.clarify

    def decision(near: dict[str, float], **level: float) -> tuple[str, tuple[str, ...]]:
        dense, keyword = _scores(rng, near, **level)
        ranked = rank_entries(UNITS, dense, keyword, keyword_ceiling=CEILING, scale=scale)
        result = decide(ranked, thresholds)
        return result.kind, result.entry_ids

    assert decision({"e3": 0.95}) == ("direct", ("e3",))
    kind, offered = decision({"e1": 0.93, "e2": 0.93})
    assert kind == "clarify" and set(offered[:2]) == {"e1", "e2"}
    # Off-topic: further from every unit than the KB's own questions are from other entries.
    assert decision({}, base=0.74, words=0.0)[0] == "handoff"


def test_a_kb_too_small_to_calibrate_never_answers_on_its_own() -> None:
    units = [UnitRef("only", "question")]
    queries = pseudo_queries(units, ["only?"])
    calibration = calibrate(
        units,
        queries,
        dense=np.array([[0.9]]),
        keyword=np.array([[1.0]]),
        keyword_ceilings=np.array([2.0]),
    )
    assert calibration.thresholds.answer == float("inf")
    assert calibration.report.wrong_top1_samples == 0


def _ranking(*entries_and_scores: tuple[str, float]) -> list[Candidate]:
    return [Candidate(e, s, "faq", s, None, 0.5, 0.9) for e, s in entries_and_scores]


def test_answer_pass_rate_follows_the_estimated_top1_error() -> None:
    held_out = [
        ("a", _ranking(("a", 5.0), ("b", 3.0))),
        ("a", _ranking(("a", 4.0), ("c", 3.5))),
        ("a", _ranking(("a", 6.0), ("b", 2.0))),
        ("a", _ranking(("b", 4.5), ("a", 4.4))),  # ranked wrongly: a wrong-answer sample
    ]
    absent: list[tuple[str | None, list[Candidate]]] = [
        (None, _ranking(("x", 2.0 + i / 10), ("y", 1.5))) for i in range(19)
    ]
    thresholds, report = fit_thresholds([*held_out, *absent], Budget(max_pass_rate=1.0))
    assert report.estimated_top1_error == 0.25
    assert report.wrong_top1_samples == 20
    assert report.answer_pass_rate == 0.2  # 0.05 budget / 0.25 error
    # Confidence = score + lead: the absent ones run 2.5, 2.7 ... 6.1, the held-out miss 4.6.
    # 20 % of these 20 may pass: the four highest, 6.1 down to 5.5.
    assert thresholds.answer == pytest.approx(5.5)
