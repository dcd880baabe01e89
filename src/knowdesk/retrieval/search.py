"""Reading the search index: candidate units for a question, with both scores, in one query.

Only units of an entry's *published* version that is not archived are ever returned: the join
on the entry enforces it even while an indexing job is still catching up.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pgvector import SparseVector
from sqlalchemy import TextClause, select, text
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


# A workspace with fewer units than this is searched exactly, by scanning every live unit
# (a few milliseconds). Larger ones go through the indexes: HNSW for meaning, and for keywords
# only the units that share one of the question's rarer terms (GIN on `term_dims`).
EXACT_BELOW = 20_000
# How many units, summed over the question's rarest terms' document frequencies, the keyword
# side reads from its GIN index in a large workspace (at least the rarest term's, however many).
KEYWORD_POSTINGS = 5_000
# HNSW candidate list; with the iterative scan, the walk goes on until `top_k` units that pass
# the workspace, publication and collection filters are found (or max_scan_tuples is reached).
HNSW_EF_SEARCH = 100


@dataclass(frozen=True)
class QueryVector:
    """A question's keyword side: idf weights, the highest BM25 any unit could reach, and what
    the search needs to pick its plan (the workspace's unit count, each term's df)."""

    weights: dict[int, float]
    ceiling: float
    units: int = 0
    doc_freqs: dict[int, int] = field(default_factory=dict)

    def rare_dims(self, postings: int = KEYWORD_POSTINGS) -> list[int]:
        """The question's rarest dimensions whose units add up to at most `postings` (always
        the rarest one): a unit sharing none of them matches only the question's common terms,
        so it cannot rank high on keywords, and the dense side still finds it by meaning."""
        chosen: list[int] = []
        total = 0
        for dim in sorted(self.weights, key=lambda d: (self.doc_freqs.get(d, 0), d)):
            total += self.doc_freqs.get(dim, 0)
            if chosen and total > postings:
                break
            chosen.append(dim)
        return chosen


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
    return QueryVector(
        weights,
        keyword_ceiling(sum(weights.values()), BM25Params().k1),
        units=stats.n_docs,
        doc_freqs={d: stats.doc_freqs[d] for d in weights},
    )


# Only units of an entry's published, non-archived version, in the chosen collections. The
# entry is checked here, not only by the indexer, because archiving takes effect before the
# indexing job has removed the entry's units.
_LIVE = """
    u.workspace_id = :ws
    and (cast(:collections as uuid[]) is null or u.collection_id = any(:collections))
    and exists (
        select 1 from kb_entries e
        where e.id = u.entry_id and e.workspace_id = :ws
          and e.published_version = u.entry_version and e.status <> 'archived'
    )
"""

# Every live unit scanned: exact on both sides (small workspaces).
_EXACT_HITS = f"""
    live as materialized (
        select u.id, u.entry_id, u.kind, u.sparse, u.embedding
        from search_units u
        where {_LIVE}
    ),
    by_keyword as (
        select id, entry_id, kind from live
        where (sparse <#> cast(:q as sparsevec)) < 0
        order by sparse <#> cast(:q as sparsevec) limit :k
    ),
    by_meaning as (
        select id, entry_id, kind from live
        where embedding is not null
        order by embedding <=> cast(:v as vector) limit :k
    )
"""

# Through the indexes (large workspaces): the filters sit in the same scan as the ORDER BY, so
# HNSW's iterative scan keeps walking until it has `k` live units; keywords are scored only on
# the units the GIN index finds for the question's rarest terms.
_INDEXED_HITS = f"""
    by_keyword as (
        select u.id, u.entry_id, u.kind from search_units u
        where u.term_dims && cast(:rare as int[])
          and (u.sparse <#> cast(:q as sparsevec)) < 0
          and {_LIVE}
        order by u.sparse <#> cast(:q as sparsevec) limit :k
    ),
    by_meaning as (
        select u.id, u.entry_id, u.kind from search_units u
        where u.embedding is not null and {_LIVE}
        order by u.embedding <=> cast(:v as vector) limit :k
    )
"""

# Every unit of an entry with a hit (for documents: the hit passages themselves), with both
# scores, and the publication check again on the rows returned.
_UNITS_OF_HITS = """
    hits as (select * from by_keyword union select * from by_meaning),
    picked as (
        select id from hits where kind = 'chunk'
        union
        select u.id from search_units u
        where u.workspace_id = :ws and u.kind <> 'chunk'
          and u.entry_id in (select entry_id from hits where kind <> 'chunk')
    )
    select u.id, u.entry_id, u.collection_id, u.kind, u.text, u.heading_path, u.page, e.title,
           -(u.sparse <#> cast(:q as sparsevec)) as keyword,
           1 - (u.embedding <=> cast(:v as vector)) as dense
    from picked p
    join search_units u on u.id = p.id
    join kb_entries e on e.id = u.entry_id and e.workspace_id = u.workspace_id
    where u.workspace_id = :ws
      and (cast(:collections as uuid[]) is null or u.collection_id = any(:collections))
      and e.published_version = u.entry_version and e.status <> 'archived'
"""

EXACT_CANDIDATES = text("with " + _EXACT_HITS + "," + _UNITS_OF_HITS)
INDEXED_CANDIDATES = text("with " + _INDEXED_HITS + "," + _UNITS_OF_HITS)
_HNSW_SETTINGS = text(
    "select set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    "set_config('hnsw.ef_search', :ef, true)"
)


def uses_indexes(query: QueryVector) -> bool:
    return query.units >= EXACT_BELOW


def candidates_statement(query: QueryVector) -> TextClause:
    return INDEXED_CANDIDATES if uses_indexes(query) else EXACT_CANDIDATES


async def prepare(session: AsyncSession, query: QueryVector, top_k: int) -> None:
    """Settings of the transaction for the candidate query (HNSW's, when it is used)."""
    if uses_indexes(query):
        await session.execute(_HNSW_SETTINGS, {"ef": str(max(HNSW_EF_SEARCH, top_k))})


def candidate_parameters(
    workspace_id: uuid.UUID,
    query: QueryVector,
    vector: np.ndarray,
    collection_ids: Sequence[uuid.UUID] | None,
    top_k: int,
) -> dict[str, object]:
    """The bound parameters of `EXACT_CANDIDATES` or `INDEXED_CANDIDATES` for one question."""
    parameters: dict[str, object] = {
        "ws": workspace_id,
        "collections": list(collection_ids) if collection_ids else None,
        "q": SparseVector(query.weights, SPARSE_DIM).to_text(),
        "v": "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]",
        "k": top_k,
    }
    if uses_indexes(query):
        parameters["rare"] = query.rare_dims()
    return parameters


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
    await prepare(session, query, top_k)
    rows = await session.execute(
        candidates_statement(query),
        candidate_parameters(workspace_id, query, vector, collection_ids, top_k),
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
