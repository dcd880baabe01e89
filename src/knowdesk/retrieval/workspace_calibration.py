"""Calibrate one workspace's knowledge base from the index it holds (a background job).

The KB's own questions are asked against it with their entry hidden (and, where an entry has
other ways to be found, with only the question hidden): see `calibration`. Documents have no
questions, so each sampled passage's first sentence is asked with its whole document hidden,
which tells what score a wrong passage reaches. Work is done in blocks of pseudo-queries, so the
memory used stays small however many units the workspace has.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.retrieval.calibration import DEFAULT_BUDGET, CalibrationReport, fit_thresholds
from knowdesk.retrieval.embedding import Embedder
from knowdesk.retrieval.fusion import (
    DEFAULT_WEIGHTS,
    ScoreScale,
    UnitRef,
    keyword_ceiling,
    rank_entries,
    unit_ref,
)
from knowdesk.retrieval.models import Calibration, CorpusTotals, SearchUnit, TermFrequency
from knowdesk.retrieval.policy import Thresholds
from knowdesk.retrieval.sparse import (
    SPARSE_DIM,
    BM25Params,
    CorpusStats,
    hashed_counts,
    query_weights,
)
from knowdesk.text.tokenize import index_terms

MAX_QUESTIONS = 1500
MAX_PASSAGES = 300
BLOCK = 64
_FIRST_SENTENCE = re.compile(r"^(.{8,120}?[。！？.!?])")


@dataclass(frozen=True)
class StoredCalibration:
    scale: ScoreScale
    thresholds: Thresholds
    report: CalibrationReport

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": dataclasses.asdict(self.scale),
            "thresholds": {k: _finite(v) for k, v in dataclasses.asdict(self.thresholds).items()},
            "report": dataclasses.asdict(self.report),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredCalibration:
        return cls(
            ScoreScale(**data["scale"]),
            Thresholds(**{k: _infinite(v) for k, v in data["thresholds"].items()}),
            CalibrationReport(**data["report"]),
        )


def _finite(value: float) -> float | str:
    return value if np.isfinite(value) else ("inf" if value > 0 else "-inf")


def _infinite(value: float | str) -> float:
    return float(value)


@dataclass
class _Units:
    ids: list[uuid.UUID]
    refs: list[UnitRef]
    kinds: list[str]
    texts: list[str]
    hashes: list[str]
    dims: list[frozenset[int]]
    sparse: sp.csr_matrix
    passages: np.ndarray
    questions: dict[int, np.ndarray]


async def _load_units(session: AsyncSession, workspace_id: uuid.UUID) -> _Units:
    rows = (
        await session.execute(
            select(
                SearchUnit.id,
                SearchUnit.entry_id,
                SearchUnit.kind,
                SearchUnit.text,
                SearchUnit.content_hash,
                SearchUnit.term_dims,
                SearchUnit.sparse,
                SearchUnit.embedding,
                SearchUnit.query_embedding,
            ).where(SearchUnit.workspace_id == workspace_id, SearchUnit.embedding.is_not(None))
        )
    ).all()
    indptr: list[int] = [0]
    indices: list[int] = []
    values: list[float] = []
    for r in rows:
        indices.extend(int(i) for i in r.sparse.indices())
        values.extend(float(v) for v in r.sparse.values())
        indptr.append(len(indices))
    matrix = sp.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(rows), SPARSE_DIM),
    )
    return _Units(
        ids=[r.id for r in rows],
        refs=[unit_ref(str(r.entry_id), r.kind) for r in rows],
        kinds=[r.kind for r in rows],
        texts=[r.text for r in rows],
        hashes=[r.content_hash for r in rows],
        dims=[frozenset(r.term_dims) for r in rows],
        sparse=matrix,
        passages=np.asarray([np.asarray(r.embedding, dtype=np.float32) for r in rows]).reshape(
            len(rows), -1
        ),
        questions={
            i: np.asarray(r.query_embedding, dtype=np.float32)
            for i, r in enumerate(rows)
            if r.query_embedding is not None
        },
    )


@dataclass(frozen=True)
class _Pseudo:
    text: str
    hidden: frozenset[int]
    expected_entry: str | None
    vector_of: int | None  # unit whose stored query embedding to use; None: embed `text`


def _pseudo_queries(units: _Units, rng: np.random.Generator) -> list[_Pseudo]:
    by_entry: dict[str, list[int]] = defaultdict(list)
    for i, ref in enumerate(units.refs):
        by_entry[ref.entry_id].append(i)
    questions = list(units.questions)
    if len(questions) > MAX_QUESTIONS:
        questions = sorted(rng.choice(questions, MAX_QUESTIONS, replace=False).tolist())
    out = []
    for i in questions:
        entry = units.refs[i].entry_id
        siblings = by_entry[entry]
        out.append(_Pseudo(units.texts[i], frozenset(siblings), None, i))
        # Hiding a question also hides units of the same text (an answer repeating it).
        alone = frozenset(j for j in siblings if units.hashes[j] == units.hashes[i])
        if len(alone) < len(siblings):
            out.append(_Pseudo(units.texts[i], alone, entry, i))
    passages = [i for i, kind in enumerate(units.kinds) if kind == "chunk"]
    if len(passages) > MAX_PASSAGES:
        passages = sorted(rng.choice(passages, MAX_PASSAGES, replace=False).tolist())
    for i in passages:
        match = _FIRST_SENTENCE.match(units.texts[i].strip())
        if match:
            hidden = frozenset(by_entry[units.refs[i].entry_id])
            out.append(_Pseudo(match.group(1), hidden, None, None))
    return out


def compute(units: _Units, stats: CorpusStats, embedder: Embedder) -> StoredCalibration | None:
    """Pure CPU work of a calibration (run in a thread)."""
    rng = np.random.default_rng(0)
    queries = _pseudo_queries(units, rng)
    if not queries or len(units.ids) < 2:
        return None
    to_embed = [q.text for q in queries if q.vector_of is None]
    embedded = iter(embedder.embed_queries(to_embed)) if to_embed else iter(())
    vectors = np.asarray(
        [
            units.questions[q.vector_of] if q.vector_of is not None else next(embedded)
            for q in queries
        ],
        dtype=np.float32,
    )
    k1 = BM25Params().k1
    rows_dense, rows_keyword, ceilings = [], [], []
    for start in range(0, len(queries), BLOCK):
        block = queries[start : start + BLOCK]
        dense = vectors[start : start + BLOCK] @ units.passages.T
        q_rows, q_ceilings = [], []
        for q in block:
            weights = query_weights(
                hashed_counts(index_terms(q.text)),
                stats,
                excluded=[units.dims[j] for j in q.hidden],
            )
            q_rows.append(weights)
            q_ceilings.append(keyword_ceiling(sum(weights.values()), k1))
        qmat = sp.csr_matrix(
            (
                [v for w in q_rows for v in w.values()],
                [d for w in q_rows for d in w],
                np.cumsum([0] + [len(w) for w in q_rows]),
            ),
            shape=(len(block), SPARSE_DIM),
            dtype=np.float32,
        )
        keyword = (qmat @ units.sparse.T).toarray()
        rows_dense.append(dense)
        rows_keyword.append(keyword)
        ceilings.extend(q_ceilings)
    dense_all = np.vstack(rows_dense)
    keyword_all = np.vstack(rows_keyword)
    scale = _scale(queries, dense_all, keyword_all, np.asarray(ceilings))
    rankings = []
    for row, q in enumerate(queries):
        ranked = rank_entries(
            units.refs,
            dense_all[row],
            keyword_all[row],
            keyword_ceiling=ceilings[row],
            scale=scale,
            weights=DEFAULT_WEIGHTS,
            hidden=q.hidden,
        )
        rankings.append((q.expected_entry, ranked))
    thresholds, report = fit_thresholds(rankings, DEFAULT_BUDGET)
    return StoredCalibration(scale, thresholds, report)


def _scale(
    queries: Sequence[_Pseudo], dense: np.ndarray, keyword: np.ndarray, ceilings: np.ndarray
) -> ScoreScale:
    visible = np.ones(dense.shape, dtype=bool)
    for row, q in enumerate(queries):
        visible[row, list(q.hidden)] = False
    shares = keyword / np.maximum(ceilings[:, None], 1e-12)
    d, k = dense[visible], shares[visible]
    if d.size == 0:
        return ScoreScale(0.0, 1.0, 0.0, 1.0)
    return ScoreScale(
        float(d.mean()), float(d.std()) or 1.0, float(k.mean()), float(k.std()) or 1.0
    )


async def load_inputs(session: AsyncSession, workspace_id: uuid.UUID) -> tuple[_Units, CorpusStats]:
    units = await _load_units(session, workspace_id)
    totals = await session.get(CorpusTotals, workspace_id)
    df = await session.execute(
        select(TermFrequency.dim, TermFrequency.df).where(
            TermFrequency.workspace_id == workspace_id
        )
    )
    stats = CorpusStats(
        n_docs=totals.units if totals else 0,
        total_length=totals.total_length if totals else 0,
        doc_freqs={r.dim: r.df for r in df},
    )
    return units, stats


async def store(
    session: AsyncSession, workspace_id: uuid.UUID, result: StoredCalibration, units: int
) -> None:
    values = {"workspace_id": workspace_id, "data": result.to_json(), "units": units}
    await session.execute(
        insert(Calibration)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[Calibration.workspace_id],
            set_={"data": values["data"], "units": units, "computed_at": _now()},
        )
    )


async def stored(session: AsyncSession, workspace_id: uuid.UUID) -> StoredCalibration | None:
    row = await session.get(Calibration, workspace_id)
    return StoredCalibration.from_json(row.data) if row else None


def _now() -> Any:
    from sqlalchemy import func

    return func.now()
