from knowdesk.retrieval.fusion import Candidate, Source
from knowdesk.retrieval.policy import Thresholds, confidence, decide

THRESHOLDS = Thresholds(
    answer=6.0, min_margin=0.2, clarify=2.0, clarify_band=1.0, margin_weight=1.0
)


def _candidates(*scores: float, source: Source = "faq") -> list[Candidate]:
    return [
        Candidate(f"e{i}", score, source, score, None, keyword=0.5, dense=0.9)
        for i, score in enumerate(scores)
    ]


def test_confident_lead_answers_directly() -> None:
    decision = decide(_candidates(5.0, 3.5), THRESHOLDS)
    assert decision.kind == "direct"
    assert decision.entry_ids == ("e0",)
    assert decision.confidence == 6.5


def test_high_score_shared_by_several_entries_asks_instead() -> None:
    decision = decide(_candidates(5.8, 5.7, 5.6, 5.5, 1.0), THRESHOLDS)
    assert decision.kind == "clarify"
    assert decision.entry_ids == ("e0", "e1", "e2")  # at most three choices


def test_document_passages_are_answered_grounded_with_close_citations() -> None:
    decision = decide(_candidates(7.0, 6.5, 3.0, source="document"), THRESHOLDS)
    assert decision.kind == "grounded"
    assert decision.entry_ids == ("e0", "e1")


def test_low_scores_and_no_candidates_hand_off() -> None:
    assert decide(_candidates(1.9, 0.5), THRESHOLDS).kind == "handoff"
    assert decide([], THRESHOLDS).kind == "handoff"


def test_single_candidate_gets_no_margin_bonus() -> None:
    assert confidence(_candidates(5.5), 1.0) == 5.5
    assert decide(_candidates(5.5), THRESHOLDS).kind == "clarify"
