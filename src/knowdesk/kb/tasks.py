"""Background jobs of the knowledge base: index an entry's published content.

The job runs in three short transactions rather than one long one: (1) mark the entry
processing, (2) rewrite its units and keyword statistics, (3) embed the new units in batches,
then mark it done. A failure records its reason on the entry; units already stored stay usable.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from knowdesk.config import get_settings
from knowdesk.db.session import transaction
from knowdesk.jobs.queue import queue
from knowdesk.kb.models import Entry, EntryStatus, EntryVersion, IndexStatus
from knowdesk.kb.units import entry_units
from knowdesk.retrieval import index
from knowdesk.retrieval.embedding import default_embedder
from knowdesk.retrieval.tasks import request_calibration

log = logging.getLogger(__name__)

EMBED_BATCH = 32


async def _set_status(
    workspace_id: uuid.UUID, entry_id: uuid.UUID, status: IndexStatus, error: str | None = None
) -> Entry | None:
    async with transaction() as session:
        entry = await session.get(Entry, entry_id)
        if entry is None or entry.workspace_id != workspace_id:
            return None
        entry.index_status, entry.index_error = status, error
        return entry


async def _rewrite_units(workspace_id: uuid.UUID, entry_id: uuid.UUID) -> list[uuid.UUID]:
    async with transaction() as session:
        entry = await session.get(Entry, entry_id, with_for_update=True)
        if entry is None:
            return []
        live = entry.published_version is not None and entry.status != EntryStatus.ARCHIVED
        if not live:
            await index.remove_entry_units(session, workspace_id, entry_id)
            entry.indexed_version = None
            return []
        version = (
            await session.execute(
                EntryVersion.__table__.select().where(
                    EntryVersion.entry_id == entry_id,
                    EntryVersion.number == entry.published_version,
                )
            )
        ).one()
        specs = await asyncio.to_thread(entry_units, version.content)
        needing = await index.sync_entry_units(
            session,
            workspace_id=workspace_id,
            collection_id=entry.collection_id,
            entry_id=entry_id,
            entry_version=version.number,
            specs=specs,
        )
        entry.indexed_version = version.number
        return needing


async def _embed(unit_ids: list[uuid.UUID]) -> None:
    embedder = default_embedder(get_settings().embedding_threads)
    for start in range(0, len(unit_ids), EMBED_BATCH):
        async with transaction() as session:
            todo = await index.units_to_embed(session, unit_ids[start : start + EMBED_BATCH])
            if not todo:
                continue
            passages, queries = await asyncio.to_thread(index.embed_pending, embedder, todo)
            await index.store_embeddings(session, todo, passages, queries, embedder.name)


@queue.task(name="kb.index_entry", queue="kb")
async def index_entry(workspace_id: str, entry_id: str) -> None:
    ws, eid = uuid.UUID(workspace_id), uuid.UUID(entry_id)
    if await _set_status(ws, eid, IndexStatus.PROCESSING) is None:
        return  # deleted before the job ran
    try:
        needing = await _rewrite_units(ws, eid)
        await _embed(needing)
    except Exception as exc:
        log.exception("indexing entry %s failed", entry_id)
        await _set_status(ws, eid, IndexStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return
    await _set_status(ws, eid, IndexStatus.DONE)
    async with transaction() as session:
        await request_calibration(session, ws)
