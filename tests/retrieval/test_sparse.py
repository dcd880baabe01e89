import math

import pytest

from knowdesk.retrieval.sparse import (
    SPARSE_DIM,
    BM25Params,
    CorpusStats,
    document_weights,
    hashed_counts,
    idf,
    needs_reweighting,
    query_weights,
    sparse_dot,
    term_index,
    to_sparsevec_literal,
)

DOCS = [["a", "b", "a"], ["b", "c"], ["c"]]


def _stats() -> CorpusStats:
    stats = CorpusStats()
    for doc in DOCS:
        stats.add(hashed_counts(doc), len(doc))
    return stats


def test_bm25_inner_product_matches_hand_computed_score() -> None:
    stats = _stats()
    assert stats.avgdl == 2.0
    # idf(a) = ln(1 + (3 - 1 + 0.5) / (1 + 0.5)); tf-saturation of "a" in doc 1 (tf 2, |d| 3):
    # 2 * 2.2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 2)) = 4.4 / 3.65
    expected = math.log(1 + 2.5 / 1.5) * 4.4 / 3.65
    doc = document_weights(hashed_counts(DOCS[0]), length=3, avgdl=stats.avgdl)
    query = query_weights(hashed_counts(["a", "zzz"]), stats)
    assert sparse_dot(query, doc) == pytest.approx(expected, rel=1e-9)
    assert sparse_dot(query, doc) == pytest.approx(1.18237, abs=1e-5)
    # "zzz" is in no unit, so the query vector carries one dimension only.
    assert list(query) == [term_index("a")]


def test_longer_document_with_same_tf_weighs_less() -> None:
    short = document_weights({7: 1}, length=2, avgdl=4.0)
    long = document_weights({7: 1}, length=8, avgdl=4.0)
    assert short[7] > long[7]
    assert document_weights({7: 1}, length=4, avgdl=4.0, params=BM25Params(b=0.0))[7] == 1.0


def test_idf_drops_with_document_frequency_and_stays_positive() -> None:
    assert idf(1, 100) > idf(10, 100) > idf(100, 100) > 0


def test_removing_a_unit_restores_statistics() -> None:
    stats = _stats()
    extra = hashed_counts(["a", "d"])
    stats.add(extra, 2)
    stats.remove(extra, 2)
    assert stats == _stats()


def test_term_index_is_stable_and_in_range() -> None:
    assert term_index("还款") == term_index("还款")
    assert 0 <= term_index("refund") < SPARSE_DIM
    assert term_index("refund") != term_index("refunds")


def test_sparsevec_literal_is_one_based_sorted_and_drops_zeros() -> None:
    literal = to_sparsevec_literal({3: 0.5, 0: 1.25, 9: 0.0})
    assert literal == "{1:1.25,4:0.5}/1048576"
    assert to_sparsevec_literal({}) == "{}/1048576"


def test_reweighting_is_needed_only_past_the_tolerance() -> None:
    assert not needs_reweighting(10.0, 11.5)
    assert needs_reweighting(10.0, 13.0)
    assert needs_reweighting(0.0, 5.0)


def test_excluded_units_are_left_out_of_the_idf() -> None:
    stats = _stats()
    without_first = query_weights(hashed_counts(["b"]), stats, excluded=[hashed_counts(DOCS[0])])
    # As if only docs 2 and 3 were indexed: df(b) = 1 of N = 2.
    assert without_first == {term_index("b"): pytest.approx(idf(1, 2))}
    assert query_weights(hashed_counts(["a"]), stats, excluded=[hashed_counts(DOCS[0])]) == {}
