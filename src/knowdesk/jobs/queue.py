from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

import procrastinate
import psycopg_pool
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.config import Settings
from knowdesk.db.server import plain_database_url

log = logging.getLogger(__name__)

# Modules that define tasks; a worker imports them so that it knows every task by name.
TASK_MODULES = [
    "knowdesk.kb.tasks",
    "knowdesk.retrieval.tasks",
    "knowdesk.tickets.tasks",
    "knowdesk.webhooks.tasks",
    "knowdesk.mail.tasks",
]

queue = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=TASK_MODULES)

_pool: psycopg_pool.AsyncConnectionPool | None = None


async def open_queue(settings: Settings) -> None:
    """Connect the queue to the database (once per process)."""
    global _pool
    if _pool is not None:
        return
    _pool = psycopg_pool.AsyncConnectionPool(
        conninfo=plain_database_url(settings),
        open=False,
        min_size=1,
        max_size=4,
        check=psycopg_pool.AsyncConnectionPool.check_connection,
    )
    await _pool.open(wait=True)
    await queue.open_async(_pool)


async def close_queue() -> None:
    global _pool
    if _pool is None:
        return
    await queue.close_async()
    await _pool.close()
    _pool = None


async def defer(
    session: AsyncSession, task: Any, *, schedule_at: datetime | None = None, **kwargs: Any
) -> int:
    """Enqueue `task` inside the session's transaction, so the job exists only if the work
    that asked for it is committed, and a worker never runs it before that work is visible.
    With `schedule_at` (aware), the job waits until then (timers that survive restarts)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    configured = task.configure(connection=raw.driver_connection, schedule_at=schedule_at)
    job_id: int = await configured.defer_async(**kwargs)
    return job_id


async def run_worker(*, concurrency: int = 2, install_signal_handlers: bool = False) -> None:
    await queue.run_worker_async(
        concurrency=concurrency,
        install_signal_handlers=install_signal_handlers,
        wait=True,
        delete_jobs="successful",
    )


def start_worker_task(*, concurrency: int = 2) -> asyncio.Task[None]:
    """A worker inside the current event loop, for the single-process set-up."""
    return asyncio.create_task(run_worker(concurrency=concurrency), name="knowdesk-worker")


async def stop_worker_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
