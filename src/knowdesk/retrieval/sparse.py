"""BM25 as two sparse vectors whose inner product is the BM25 score (pgvector `sparsevec`).

    BM25(q, d) = sum over terms t of q:  idf(t) * tf(t,d)*(k1+1) / (tf(t,d) + k1*(1-b+b*|d|/avgdl))

The sum splits into a document factor (the tf-saturation fraction) and a query factor (idf), so
a unit's stored vector holds only the saturation weights and the query vector holds only idf
weights; `stored <#> query` in PostgreSQL (negated inner product) is then minus the BM25 score.

Why this split survives a growing corpus: idf depends on how many units contain a term, which
changes with every insert and delete, so it is computed on the query side from the workspace's
current statistics (`CorpusStats`) and never stored. The document factor depends only on the
unit itself and on avgdl; the unit keeps the avgdl it was weighted with (`avgdl_snapshot`) and is
re-weighted by a background job only when the workspace's avgdl has drifted past a tolerance
(`needs_reweighting`). Adding content therefore costs one new row, not a re-index.

Terms are hashed to 2**20 dimensions (the hashing trick, what pgvector's sparsevec HNSW index
supports). Document frequencies are kept per hashed dimension, so collisions affect tf and df in
the same way and the database never needs the term strings.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

SPARSE_DIM = 1 << 20


@dataclass(frozen=True)
class BM25Params:
    # Classic defaults (Robertson); the research script found no reason to move them.
    k1: float = 1.2
    b: float = 0.75


def term_index(term: str) -> int:
    """Stable 0-based dimension of `term` in [0, SPARSE_DIM) (blake2b, so the same everywhere)."""
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % SPARSE_DIM


def hashed_counts(terms: Iterable[str]) -> dict[int, int]:
    """Term frequencies keyed by hashed dimension."""
    return dict(Counter(term_index(term) for term in terms))


def document_weights(
    term_counts: Mapping[int, int],
    *,
    length: int,
    avgdl: float,
    params: BM25Params = BM25Params(),
) -> dict[int, float]:
    """BM25 tf-saturation weight of each dimension of one unit, given its length in terms."""
    norm = params.k1 * (1.0 - params.b + params.b * length / avgdl) if avgdl > 0 else params.k1
    return {
        dim: count * (params.k1 + 1.0) / (count + norm)
        for dim, count in term_counts.items()
        if count > 0
    }


def idf(doc_freq: int, n_docs: int) -> float:
    """Lucene's BM25 idf, never negative: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return math.log(1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


@dataclass
class CorpusStats:
    """Per-workspace keyword statistics: unit count, summed length, document frequency per dim."""

    n_docs: int = 0
    total_length: int = 0
    doc_freqs: dict[int, int] = field(default_factory=dict)

    @property
    def avgdl(self) -> float:
        return self.total_length / self.n_docs if self.n_docs else 0.0

    def add(self, term_counts: Mapping[int, int], length: int) -> None:
        self.n_docs += 1
        self.total_length += length
        for dim in term_counts:
            self.doc_freqs[dim] = self.doc_freqs.get(dim, 0) + 1

    def remove(self, term_counts: Mapping[int, int], length: int) -> None:
        self.n_docs -= 1
        self.total_length -= length
        for dim in term_counts:
            left = self.doc_freqs.get(dim, 0) - 1
            if left > 0:
                self.doc_freqs[dim] = left
            else:
                self.doc_freqs.pop(dim, None)


def query_weights(
    term_counts: Mapping[int, int],
    stats: CorpusStats,
    *,
    excluded: Sequence[Collection[int]] = (),
) -> dict[int, float]:
    """idf weight of each query dimension; dimensions no unit contains are dropped.

    A term repeated in the query counts once: customer questions repeat words for emphasis, not
    meaning. `excluded` units (each its set of dimensions, e.g. a stored `term_dims`) are treated
    as never indexed, which is how calibration asks a KB question against the KB without it.
    """
    n_docs = stats.n_docs - len(excluded)
    weights = {}
    for dim in term_counts:
        doc_freq = stats.doc_freqs.get(dim, 0) - sum(1 for unit in excluded if dim in unit)
        if doc_freq > 0:
            weights[dim] = idf(doc_freq, n_docs)
    return weights


def needs_reweighting(avgdl_snapshot: float, avgdl_now: float, tolerance: float = 0.2) -> bool:
    """Whether a unit weighted with `avgdl_snapshot` should be re-weighted for `avgdl_now`.

    With b = 0.75 a 20 % avgdl drift moves a typical unit's weights by a few per cent, well
    inside the noise of ranking; beyond that the background job rewrites the unit's vector.
    """
    if avgdl_snapshot <= 0:
        return True
    return abs(avgdl_now - avgdl_snapshot) / avgdl_snapshot > tolerance


def sparse_dot(left: Mapping[int, float], right: Mapping[int, float]) -> float:
    """Inner product of two sparse vectors, what `<#>` computes (negated) in PostgreSQL."""
    if len(left) > len(right):
        left, right = right, left
    return sum(weight * right.get(dim, 0.0) for dim, weight in left.items())


def to_sparsevec_literal(weights: Mapping[int, float], dim: int = SPARSE_DIM) -> str:
    """pgvector text form `{i:v,...}/dim`, indices 1-based and ascending, zeros omitted."""
    body = ",".join(
        f"{index + 1}:{weights[index]:.6g}" for index in sorted(weights) if weights[index] != 0
    )
    return f"{{{body}}}/{dim}"
