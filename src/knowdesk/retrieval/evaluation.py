"""Measuring the answer path on an FAQ set: retrieval, answer policy, a BM25 baseline, latency.

An FAQ set is a folder with `kb.jsonl` (`{"id", "question", "similar", "answer"}` a line) and
`queries.jsonl` (`{"query", "faq_id"}` a line, `faq_id` null when nothing answers it). What is
reported, on the shape `knowdesk eval faq --json` writes:

- retrieval (answerable queries): top-1, MRR and recall@5 of the right entry in the answer
  path's ranking (its ten best entries: an entry ranked lower counts as not found);
- policy: shares of answerable queries answered correctly, answered wrongly, clarified and
  handed off, and the share of out-of-scope queries answered ("answered" is `direct` or
  `grounded`, and the entry cited first is the one answered with);
- baseline: the same retrieval figures for plain BM25 with one document per entry (question,
  similar questions and answer), the same tokenisation (`index_terms`) and BM25 parameters as
  the index, computed in process in the same run, so the figures read as a ratio;
- latency: p50 and p95 of the asks, in milliseconds.

Everything here is pure; talking to a server is the caller's business (`knowdesk.cli.eval`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from knowdesk.retrieval.schemas import AnswerResult, Decision
from knowdesk.retrieval.sparse import (
    SPARSE_DIM,
    BM25Params,
    CorpusStats,
    document_weights,
    hashed_counts,
    query_weights,
)
from knowdesk.text.tokenize import index_terms

KB_FILE = "kb.jsonl"
QUERIES_FILE = "queries.jsonl"


@dataclass(frozen=True)
class FaqQuery:
    text: str
    faq_id: str | None  # the entry (its id in kb.jsonl) that answers it; None: out of scope


@dataclass(frozen=True)
class FaqSet:
    name: str
    kb_path: Path
    entries: list[dict[str, Any]]
    queries: list[FaqQuery]

    @property
    def answerable(self) -> int:
        return sum(q.faq_id is not None for q in self.queries)


class FaqSetError(ValueError):
    """The folder is not an FAQ set (a file missing, a line unreadable, an unknown faq_id)."""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise FaqSetError(f"{path} not found")
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FaqSetError(f"{path}, line {number}: {exc}") from None
            if not isinstance(row, dict):
                raise FaqSetError(f"{path}, line {number}: not a JSON object")
            rows.append(row)
    return rows


def load_faq_set(folder: Path) -> FaqSet:
    entries = _read_jsonl(folder / KB_FILE)
    ids = {str(e.get("id")) for e in entries}
    queries = []
    for number, row in enumerate(_read_jsonl(folder / QUERIES_FILE), start=1):
        faq_id = row.get("faq_id")
        if not isinstance(row.get("query"), str) or (faq_id is not None and faq_id not in ids):
            where = f"{folder / QUERIES_FILE}, query {number}"
            raise FaqSetError(f"{where}: no query text, or an faq_id not in {KB_FILE}")
        queries.append(FaqQuery(row["query"], faq_id))
    return FaqSet(folder.name, folder / KB_FILE, entries, queries)


# -- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalFigures:
    top1: float
    mrr: float
    recall5: float


def retrieval_figures(ranks: Sequence[int | None]) -> RetrievalFigures:
    """From each answerable query's 1-based rank of the right entry (None: not found)."""
    if not ranks:
        return RetrievalFigures(0.0, 0.0, 0.0)
    n = len(ranks)
    return RetrievalFigures(
        top1=sum(r == 1 for r in ranks) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
        recall5=sum(r is not None and r <= 5 for r in ranks) / n,
    )


def rank_of(entry_id: str, ranked: Sequence[str]) -> int | None:
    return ranked.index(entry_id) + 1 if entry_id in ranked else None


@dataclass(frozen=True)
class PolicyFigures:
    answered_correct: float
    answered_wrong: float
    clarified: float
    handed_off: float
    oos_answered: float


@dataclass
class PolicyTally:
    """Counts of what the answer policy did, query by query."""

    correct: int = 0
    wrong: int = 0
    clarified: int = 0
    handed_off: int = 0
    answerable: int = 0
    oos: int = 0
    oos_answered: int = 0

    def add(self, expected: str | None, decision: Decision, answered_with: str | None) -> None:
        """`expected` and `answered_with` are entry ids; `answered_with` is the entry the
        answer cites first (None when there is none)."""
        answered = decision in (Decision.DIRECT, Decision.GROUNDED)
        if expected is None:
            self.oos += 1
            self.oos_answered += answered
            return
        self.answerable += 1
        if answered:
            if answered_with == expected:
                self.correct += 1
            else:
                self.wrong += 1
        elif decision == Decision.CLARIFY:
            self.clarified += 1
        else:
            self.handed_off += 1

    def figures(self) -> PolicyFigures:
        n, oos = max(self.answerable, 1), max(self.oos, 1)
        return PolicyFigures(
            answered_correct=self.correct / n,
            answered_wrong=self.wrong / n,
            clarified=self.clarified / n,
            handed_off=self.handed_off / n,
            oos_answered=self.oos_answered / oos,
        )


def answered_entry(result: AnswerResult) -> str | None:
    """The entry an answer was given from: the first source's (None without sources)."""
    return str(result.sources[0].entry_id) if result.sources else None


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


# -- the BM25 baseline -----------------------------------------------------------------------


def entry_document(entry: Mapping[str, Any]) -> str:
    """One entry as one BM25 document: question, similar questions and answer, each once."""
    parts = [entry["question"], *entry.get("similar", []), entry["answer"]]
    return "\n".join(dict.fromkeys(str(p) for p in parts if p))


def _csr(rows: Sequence[Mapping[int, float]]) -> sp.csr_matrix:
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((d for r in rows for d in r), dtype=np.int64, count=int(indptr[-1]))
    values = np.fromiter((w for r in rows for w in r.values()), dtype=np.float64, count=indptr[-1])
    return sp.csr_matrix((values, indices, indptr), shape=(len(rows), SPARSE_DIM))


def bm25_ranks(
    entries: Sequence[Mapping[str, Any]],
    queries: Iterable[FaqQuery],
    params: BM25Params | None = None,
) -> list[int | None]:
    """Rank of the right entry for each answerable query under plain BM25 (hashed terms, as
    the index stores them). Ties count against the right entry; a right entry that shares no
    term with the query is not found."""
    counts = [hashed_counts(index_terms(entry_document(e))) for e in entries]
    lengths = [sum(c.values()) for c in counts]
    stats = CorpusStats()
    for c, length in zip(counts, lengths, strict=True):
        stats.add(c, length)
    documents = _csr(
        [
            document_weights(c, length=n, avgdl=stats.avgdl, params=params or BM25Params())
            for c, n in zip(counts, lengths, strict=True)
        ]
    )
    number = {str(e["id"]): i for i, e in enumerate(entries)}
    answerable = [q for q in queries if q.faq_id is not None]
    weights = [query_weights(hashed_counts(index_terms(q.text)), stats) for q in answerable]
    scores = (_csr(weights) @ documents.T).toarray() if answerable else np.zeros((0, 0))
    ranks: list[int | None] = []
    for row, query in enumerate(answerable):
        assert query.faq_id is not None
        right = scores[row, number[query.faq_id]]
        ranks.append(int((scores[row] >= right).sum()) if right > 0 else None)
    return ranks


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaqReport:
    name: str
    retrieval: RetrievalFigures
    policy: PolicyFigures
    baseline: RetrievalFigures
    latency_p50_ms: float
    latency_p95_ms: float
    answerable: int
    out_of_scope: int

    def to_json(self) -> dict[str, Any]:
        """The data README's machine-readable shape, shares as fractions."""
        return {
            "retrieval": vars(self.retrieval),
            "policy": vars(self.policy),
            "baseline": vars(self.baseline),
            "latency_ms": {"p50": self.latency_p50_ms, "p95": self.latency_p95_ms},
        }

    def line(self) -> str:
        r, b, p = self.retrieval, self.baseline, self.policy
        return (
            f"{self.name}: top1 {r.top1:.3f} mrr {r.mrr:.3f} r@5 {r.recall5:.3f}"
            f" (bm25 {b.top1:.3f} / {b.mrr:.3f} / {b.recall5:.3f})"
            f" | answered correct {p.answered_correct:.3f} wrong {p.answered_wrong:.3f}"
            f" clarified {p.clarified:.3f} handed off {p.handed_off:.3f}"
            f" | oos answered {p.oos_answered:.3f}"
            f" | p50 {self.latency_p50_ms:.0f} ms p95 {self.latency_p95_ms:.0f} ms"
            f" | {self.answerable} answerable + {self.out_of_scope} out-of-scope queries"
        )
