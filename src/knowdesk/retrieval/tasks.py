"""Background jobs of retrieval: recalibrate a workspace after its index changed."""

from __future__ import annotations

import asyncio
import logging
import uuid

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.config import get_settings
from knowdesk.db.session import transaction
from knowdesk.jobs.queue import queue
from knowdesk.retrieval import workspace_calibration
from knowdesk.retrieval.embedding import default_embedder

log = logging.getLogger(__name__)


@queue.task(name="retrieval.calibrate", queue="kb")
async def calibrate_workspace(workspace_id: str) -> None:
    ws = uuid.UUID(workspace_id)
    async with transaction() as session:
        units, stats = await workspace_calibration.load_inputs(session, ws)
    embedder = default_embedder(get_settings().embedding_threads)
    result = await asyncio.to_thread(workspace_calibration.compute, units, stats, embedder)
    if result is None:
        return
    async with transaction() as session:
        await workspace_calibration.store(session, ws, result, len(units.ids))
    log.info("calibrated workspace %s: %s", workspace_id, result.report)


async def request_calibration(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """Queue a recalibration unless one is already waiting (many edits, one calibration)."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    try:
        async with raw.transaction():  # a savepoint: a clash must not abort ours
            await calibrate_workspace.configure(
                connection=raw,
                queueing_lock=f"calibrate:{workspace_id}",
            ).defer_async(workspace_id=str(workspace_id))
    except AlreadyEnqueued:
        pass
