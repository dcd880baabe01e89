"""Reading the search index: candidate units for a question, with both scores, in one query.

Only units of an entry's *published* version that is not archived are ever returned: the join
on the entry enforces it even while an indexing job is still catching up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pgvector import SparseVector
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.retrieval.fusion import UnitScore, keyword_ceiling, unit_ref
from knowdesk.retrieval.models import CorpusTotals, TermFrequency
from knowdesk.retrieval.sparse import (
    SPARSE_DIM,
    BM25Params,
    CorpusStats,
    hashed_counts,
    query_weights,
)
from knowdesk.text.tokenize import index_terms

TOP_K = 50


@dataclass(frozen=True)
class QueryVector:
    """A question's keyword side: idf weights and the highest BM25 any unit could reach."""

    weights: dict[int, float]
    ceiling: float


@dataclass(frozen=True)
class FoundUnit:
    score: UnitScore
    unit_id: uuid.UUID
    entry_id: uuid.UUID
    collection_id: uuid.UUID
    kind: str
    text: str
    heading_path: list[str]
    page: int | None
    title: str


async def keyword_query(
    session: AsyncSession, workspace_id: uuid.UUID, question: str
) -> QueryVector:
    counts = hashed_counts(index_terms(question))
    if not counts:
        return QueryVector({}, 0.0)
    totals = await session.get(CorpusTotals, workspace_id)
    rows = await session.execute(
        select(TermFrequency.dim, TermFrequency.df).where(
            TermFrequency.workspace_id == workspace_id, TermFrequency.dim.in_(list(counts))
        )
    )
    stats = CorpusStats(
        n_docs=totals.units if totals else 0,
        total_length=totals.total_length if totals else 0,
        doc_freqs={r.dim: r.df for r in rows},
    )
    weights = query_weights(counts, stats)
    return QueryVector(weights, keyword_ceiling(sum(weights.values()), BM25Params().k1))


CANDIDATES = text(
    """
    with params as (
        select cast(:q as sparsevec) as q, cast(:v as vector) as v
    ),
    live as (
        select u.id, u.entry_id, u.collection_id, u.kind, u.text, u.heading_path, u.page,
               u.sparse, u.embedding, e.title
        from search_units u
        join kb_entries e on e.id = u.entry_id and e.workspace_id = u.workspace_id
        where u.workspace_id = :ws
          and e.published_version is not null
          and e.status <> 'archived'
          and u.entry_version = e.published_version
          and (cast(:collections as uuid[]) is null or u.collection_id = any(:collections))
    ),
    by_keyword as (
        select id, entry_id, kind from live
        where (sparse <#> (select q from params)) < 0
        order by sparse <#> (select q from params) limit :k
    ),
    by_meaning as (
        select id, entry_id, kind from live
        where embedding is not null
        order by embedding <=> (select v from params) limit :k
    ),
    hits as (select * from by_keyword union select * from by_meaning)
    select l.id, l.entry_id, l.collection_id, l.kind, l.text, l.heading_path, l.page, l.title,
           -(l.sparse <#> (select q from params)) as keyword,
           1 - (l.embedding <=> (select v from params)) as dense
    from live l
    where (l.kind <> 'chunk'
           and l.entry_id in (select entry_id from hits where kind <> 'chunk'))
       or l.id in (select id from hits where kind = 'chunk')
    """
)


def candidate_parameters(
    workspace_id: uuid.UUID,
    query: QueryVector,
    vector: np.ndarray,
    collection_ids: Sequence[uuid.UUID] | None,
    top_k: int,
) -> dict[str, object]:
    """The bound parameters of `CANDIDATES` for one question."""
    return {
        "ws": workspace_id,
        "collections": list(collection_ids) if collection_ids else None,
        "q": SparseVector(query.weights, SPARSE_DIM).to_text(),
        "v": "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]",
        "k": top_k,
    }


async def find_units(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    query: QueryVector,
    vector: np.ndarray,
    *,
    collection_ids: Sequence[uuid.UUID] | None = None,
    top_k: int = TOP_K,
) -> list[FoundUnit]:
    """Units of every entry with a unit among the top `top_k` of either index (for documents:
    the hit passages themselves), each with its BM25 and cosine score for this question."""
    rows = await session.execute(
        CANDIDATES, candidate_parameters(workspace_id, query, vector, collection_ids, top_k)
    )
    found = []
    for r in rows:
        ref = unit_ref(str(r.entry_id), r.kind)
        dense = float(r.dense) if r.dense is not None else 0.0
        found.append(
            FoundUnit(
                score=UnitScore(
                    str(r.entry_id),
                    ref.field,
                    float(r.keyword or 0.0),
                    dense,
                    ref.source,
                    str(r.id),
                ),
                unit_id=r.id,
                entry_id=r.entry_id,
                collection_id=r.collection_id,
                kind=r.kind,
                text=r.text,
                heading_path=list(r.heading_path or []),
                page=r.page,
                title=r.title,
            )
        )
    return found
