"""The candidate query on both of its plans: the exact scan of a small workspace and the indexed
one of a large workspace (HNSW with iterative scan, GIN-prefiltered keywords) find the same
units, and neither ever returns a unit of an archived, unpublished or other workspace's entry,
even while the indexing job that would remove it has not run yet."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid

import numpy as np
import pytest
from sqlalchemy import text, update

import knowdesk.db.models  # noqa: F401 - every table, for the foreign keys
from knowdesk.db.session import dispose_engine, transaction
from knowdesk.kb.models import Entry, EntryKind, EntryStatus, EntryVersion, IndexStatus
from knowdesk.retrieval.index import UnitSpec, sync_entry_units
from knowdesk.retrieval.models import EMBEDDING_DIM
from knowdesk.retrieval.search import (
    EXACT_BELOW,
    FoundUnit,
    QueryVector,
    find_units,
    keyword_query,
    uses_indexes,
)
from tests.conftest import Tenant
from tests.kb.helpers import make_collection

WORDS = [f"{a}{b}" for a in "bcdfgklmnprstvz" for b in ("ara", "eno", "ilu", "oka", "umi")]


def passage(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, int(rng.integers(8, 20)))) + "."


async def add_document(
    workspace_id: uuid.UUID,
    collection_id: uuid.UUID,
    passages: list[str],
    vectors: np.ndarray,
    *,
    status: EntryStatus = EntryStatus.PUBLISHED,
    published_version: int | None = 1,
) -> uuid.UUID:
    """A document entry with its passages indexed as version 1 (rows as the indexer writes
    them), whatever its status now says."""
    async with transaction() as session:
        entry = Entry(
            id=uuid.uuid4(),
            workspace_id=workspace_id,
            collection_id=collection_id,
            kind=EntryKind.DOCUMENT,
            external_id=f"doc-{uuid.uuid4().hex[:8]}.md",
            title="Manual",
            status=status,
            current_version=1,
            published_version=published_version,
            indexed_version=1,
            index_status=IndexStatus.DONE,
            tags=[],
            keywords=[],
        )
        session.add(entry)
        session.add(
            EntryVersion(
                workspace_id=workspace_id,
                entry_id=entry.id,
                number=1,
                content={"title": entry.title, "filename": entry.external_id, "blocks": []},
                content_hash="",
                note="test",
            )
        )
        await session.flush()
        specs = [
            UnitSpec("chunk", i, p, hashlib.sha256(p.encode()).hexdigest())
            for i, p in enumerate(passages)
        ]
        await sync_entry_units(
            session,
            workspace_id=workspace_id,
            collection_id=collection_id,
            entry_id=entry.id,
            entry_version=1,
            specs=specs,
        )
        ids = (
            await session.execute(
                text("select id from search_units where entry_id = :e order by ordinal"),
                {"e": entry.id},
            )
        ).scalars()
        for unit_id, vector in zip(ids, vectors, strict=True):
            await session.execute(
                text("update search_units set embedding = cast(:v as vector) where id = :id"),
                {"id": unit_id, "v": "[" + ",".join(f"{x:.6g}" for x in vector) + "]"},
            )
        return entry.id


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


async def search_both_ways(
    workspace_id: uuid.UUID, question: str, vector: np.ndarray, **kwargs: object
) -> tuple[list[FoundUnit], list[FoundUnit]]:
    async with transaction() as session:
        query = await keyword_query(session, workspace_id, question)
        assert not uses_indexes(query)  # a small workspace: scanned exactly
        exact = await find_units(session, workspace_id, query, vector, **kwargs)  # type: ignore[arg-type]
    async with transaction() as session:
        indexed_query = dataclasses.replace(query, units=EXACT_BELOW)
        assert uses_indexes(indexed_query)
        indexed = await find_units(session, workspace_id, indexed_query, vector, **kwargs)  # type: ignore[arg-type]
    return exact, indexed


@pytest.fixture
async def corpus(tenant: Tenant, other_tenant: Tenant) -> dict[str, object]:
    rng = np.random.default_rng(3)
    ws, other_ws = uuid.UUID(tenant.workspace_id), uuid.UUID(other_tenant.workspace_id)
    manuals = uuid.UUID(make_collection(tenant.client, "Manuals"))
    notes = uuid.UUID(make_collection(tenant.client, "Notes"))
    theirs = uuid.UUID(make_collection(other_tenant.client, "Theirs"))
    texts = [[passage(rng) for _ in range(5)] for _ in range(24)]
    vectors = unit_vectors(rng, 24 * 5).reshape(24, 5, EMBEDDING_DIM)
    entries = []
    try:
        for i in range(20):
            collection = notes if i % 4 == 0 else manuals
            entries.append(await add_document(ws, collection, texts[i], vectors[i]))
        # Indexed, then archived: the job that removes its units has not run yet.
        archived = await add_document(ws, manuals, texts[20], vectors[20])
        async with transaction() as session:
            await session.execute(
                update(Entry).where(Entry.id == archived).values(status=EntryStatus.ARCHIVED)
            )
        # Units of a version that is not (or no longer) the published one.
        unpublished = await add_document(
            ws, manuals, texts[21], vectors[21], status=EntryStatus.DRAFT, published_version=None
        )
        # The same text in another workspace.
        foreign = await add_document(other_ws, theirs, texts[22], vectors[22])
    finally:
        await dispose_engine()
    return {
        "ws": ws,
        "notes": notes,
        "texts": texts,
        "vectors": vectors,
        "live": entries,
        "hidden": {archived, unpublished, foreign},
        "notes_entries": {entries[i] for i in range(0, 20, 4)},
    }


async def test_the_indexed_plan_finds_what_the_exact_scan_finds(corpus: dict[str, object]) -> None:
    texts, vectors = corpus["texts"], corpus["vectors"]
    assert isinstance(texts, list) and isinstance(vectors, np.ndarray)
    ws = corpus["ws"]
    assert isinstance(ws, uuid.UUID)
    try:
        for doc in (3, 7, 20, 21, 22):
            question = " ".join(texts[doc][2].split()[:6])
            exact, indexed = await search_both_ways(ws, question, vectors[doc][2], top_k=10)
            assert exact and {u.unit_id for u in indexed} == {u.unit_id for u in exact}
            by_id = {u.unit_id: u.score for u in exact}
            for unit in indexed:
                assert unit.score.keyword == pytest.approx(by_id[unit.unit_id].keyword)
                assert unit.score.dense == pytest.approx(by_id[unit.unit_id].dense)
    finally:
        await dispose_engine()


async def test_no_plan_returns_archived_unpublished_or_foreign_units(
    corpus: dict[str, object],
) -> None:
    texts, vectors, hidden = corpus["texts"], corpus["vectors"], corpus["hidden"]
    assert isinstance(texts, list) and isinstance(vectors, np.ndarray)
    assert isinstance(hidden, set)
    ws, notes = corpus["ws"], corpus["notes"]
    assert isinstance(ws, uuid.UUID) and isinstance(notes, uuid.UUID)
    try:
        for doc in (20, 21, 22):  # the hidden entries' own words and vectors
            question = " ".join(texts[doc][0].split()[:8])
            for found in await search_both_ways(ws, question, vectors[doc][0]):
                assert found and not {u.entry_id for u in found} & hidden
            for found in await search_both_ways(
                ws, question, vectors[doc][0], collection_ids=[notes]
            ):
                assert found and {u.entry_id for u in found} <= corpus["notes_entries"]  # type: ignore[operator]
    finally:
        await dispose_engine()


def test_keyword_prefilter_keeps_the_rarest_terms_within_the_postings_budget() -> None:
    query = QueryVector(
        {1: 5.0, 2: 1.0, 3: 3.0, 4: 0.5},
        ceiling=20.0,
        units=100_000,
        doc_freqs={1: 40, 2: 30_000, 3: 900, 4: 60_000},
    )
    assert query.rare_dims(postings=1_000) == [1, 3]
    assert query.rare_dims(postings=100_000) == [1, 3, 2, 4]
    # However common, the rarest term is always read.
    common = QueryVector({2: 1.0, 4: 0.5}, 3.3, units=100_000, doc_freqs={2: 30_000, 4: 60_000})
    assert common.rare_dims(postings=1_000) == [2]
