"""Writing the search index: replace an entry's units, keep the work of unchanged ones.

Units are matched by (kind, content hash): an unchanged passage keeps its row, and so its
embedding, however the rest of its document changed. Keyword statistics (df per term, unit count,
total length) move with every unit added or removed, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pgvector import SparseVector
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.retrieval.embedding import Embedder
from knowdesk.retrieval.models import CorpusTotals, SearchUnit, TermFrequency
from knowdesk.retrieval.sparse import SPARSE_DIM, document_weights, hashed_counts
from knowdesk.text.tokenize import detect_language, index_terms


@dataclass(frozen=True)
class UnitSpec:
    """A unit as the knowledge base wants it indexed."""

    kind: str
    ordinal: int
    text: str
    content_hash: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None


def indexed_text(text: str, heading_path: Sequence[str]) -> str:
    """What the keyword and dense indexes see: a chunk's section headings, then its text, so a
    passage under "连接 Wi-Fi" matches a Wi-Fi question even if its own words never say so."""
    return "\n".join([" / ".join(heading_path), text]) if heading_path else text


async def _corpus_for_update(session: AsyncSession, workspace_id: uuid.UUID) -> CorpusTotals:
    await session.execute(
        insert(CorpusTotals)
        .values(workspace_id=workspace_id, units=0, total_length=0)
        .on_conflict_do_nothing()
    )
    stmt = select(CorpusTotals).where(CorpusTotals.workspace_id == workspace_id).with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def _change_df(
    session: AsyncSession, workspace_id: uuid.UUID, dims: Sequence[int], delta: int
) -> None:
    if not dims:
        return
    # Sorted, so concurrent jobs lock term rows in the same order and cannot deadlock.
    counts: dict[int, int] = {}
    for dim in dims:
        counts[dim] = counts.get(dim, 0) + delta
    ordered = sorted(counts)
    await session.execute(
        text(
            "insert into search_term_df (workspace_id, dim, df) "
            "select :ws, d, c from unnest(cast(:dims as int[]), cast(:counts as int[])) as t(d, c) "
            "order by d "
            "on conflict (workspace_id, dim) do update set df = search_term_df.df + excluded.df"
        ),
        {"ws": workspace_id, "dims": ordered, "counts": [counts[d] for d in ordered]},
    )
    if delta < 0:
        await session.execute(
            delete(TermFrequency).where(
                TermFrequency.workspace_id == workspace_id,
                TermFrequency.dim.in_(ordered),
                TermFrequency.df <= 0,
            )
        )


async def _remove_units(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    units: Sequence[SearchUnit],
    corpus: CorpusTotals,
) -> None:
    if not units:
        return
    dims = [d for u in units for d in u.term_dims]
    await _change_df(session, workspace_id, dims, -1)
    corpus.units -= len(units)
    corpus.total_length -= sum(u.term_length for u in units)
    await session.execute(delete(SearchUnit).where(SearchUnit.id.in_([u.id for u in units])))


async def sync_entry_units(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    collection_id: uuid.UUID,
    entry_id: uuid.UUID,
    entry_version: int,
    specs: Sequence[UnitSpec],
) -> list[uuid.UUID]:
    """Make the entry's units exactly `specs`; returns the ids of units that need an embedding."""
    corpus = await _corpus_for_update(session, workspace_id)
    existing = (
        (
            await session.execute(
                select(SearchUnit).where(
                    SearchUnit.workspace_id == workspace_id, SearchUnit.entry_id == entry_id
                )
            )
        )
        .scalars()
        .all()
    )
    by_key: dict[tuple[str, str], list[SearchUnit]] = {}
    for unit in existing:
        by_key.setdefault((unit.kind, unit.content_hash), []).append(unit)

    kept: list[SearchUnit] = []
    new_specs: list[UnitSpec] = []
    for spec in specs:
        matches = by_key.get((spec.kind, spec.content_hash))
        if matches:
            unit = matches.pop()
            unit.ordinal, unit.heading_path, unit.page = (
                spec.ordinal,
                list(spec.heading_path),
                spec.page,
            )
            unit.entry_version, unit.collection_id = entry_version, collection_id
            kept.append(unit)
        else:
            new_specs.append(spec)
    await _remove_units(session, workspace_id, [u for us in by_key.values() for u in us], corpus)

    avgdl_guess = corpus.total_length / corpus.units if corpus.units else 0.0
    new_units: list[SearchUnit] = []
    for spec in new_specs:
        counts = hashed_counts(index_terms(indexed_text(spec.text, spec.heading_path)))
        length = sum(counts.values())
        corpus.units += 1
        corpus.total_length += length
        avgdl = avgdl_guess or corpus.total_length / corpus.units
        new_units.append(
            SearchUnit(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                collection_id=collection_id,
                entry_id=entry_id,
                entry_version=entry_version,
                kind=spec.kind,
                ordinal=spec.ordinal,
                text=spec.text,
                heading_path=list(spec.heading_path),
                page=spec.page,
                content_hash=spec.content_hash,
                language=detect_language(spec.text),
                sparse=SparseVector(
                    document_weights(counts, length=length, avgdl=avgdl), SPARSE_DIM
                ),
                term_dims=sorted(counts),
                term_length=length,
                avgdl_snapshot=avgdl,
            )
        )
    session.add_all(new_units)
    await _change_df(session, workspace_id, [d for u in new_units for d in u.term_dims], +1)
    await session.flush()
    return [u.id for u in new_units] + [u.id for u in kept if u.embedding is None]


async def remove_entry_units(
    session: AsyncSession, workspace_id: uuid.UUID, entry_id: uuid.UUID
) -> None:
    corpus = await _corpus_for_update(session, workspace_id)
    units = (
        (
            await session.execute(
                select(SearchUnit).where(
                    SearchUnit.workspace_id == workspace_id, SearchUnit.entry_id == entry_id
                )
            )
        )
        .scalars()
        .all()
    )
    await _remove_units(session, workspace_id, units, corpus)


QUESTION_KINDS = ("question", "similar")


@dataclass(frozen=True)
class PendingEmbedding:
    unit_id: uuid.UUID
    text: str
    is_question: bool


async def units_to_embed(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID]
) -> list[PendingEmbedding]:
    rows = await session.execute(
        select(SearchUnit.id, SearchUnit.text, SearchUnit.heading_path, SearchUnit.kind).where(
            SearchUnit.id.in_(unit_ids), SearchUnit.embedding.is_(None)
        )
    )
    return [
        PendingEmbedding(r.id, indexed_text(r.text, r.heading_path), r.kind in QUESTION_KINDS)
        for r in rows
    ]


def embed_pending(
    embedder: Embedder, pending: Sequence[PendingEmbedding]
) -> tuple[np.ndarray, dict[uuid.UUID, np.ndarray]]:
    """Passage vectors for every unit, and query vectors for the question units."""
    passages = np.asarray(embedder.embed_passages([p.text for p in pending]), dtype=np.float32)
    questions = [p for p in pending if p.is_question]
    vectors = np.asarray(embedder.embed_queries([p.text for p in questions]), dtype=np.float32)
    return passages, {p.unit_id: v for p, v in zip(questions, vectors, strict=True)}


async def store_embeddings(
    session: AsyncSession,
    pending: Sequence[PendingEmbedding],
    passages: np.ndarray,
    queries: dict[uuid.UUID, np.ndarray],
    model_name: str,
) -> None:
    for item, vector in zip(pending, passages, strict=True):
        query = queries.get(item.unit_id)
        await session.execute(
            update(SearchUnit)
            .where(SearchUnit.id == item.unit_id)
            .values(
                embedding=vector.tolist(),
                query_embedding=None if query is None else query.tolist(),
                embedding_model=model_name,
            )
        )


async def entry_units(
    session: AsyncSession, workspace_id: uuid.UUID, entry_id: uuid.UUID
) -> Sequence[SearchUnit]:
    stmt = (
        select(SearchUnit)
        .where(SearchUnit.workspace_id == workspace_id, SearchUnit.entry_id == entry_id)
        .order_by(SearchUnit.ordinal)
    )
    return (await session.execute(stmt)).scalars().all()
