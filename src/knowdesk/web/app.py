"""The FastAPI application: routers, error handling, start-up and shut-down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from knowdesk import __version__
from knowdesk.chat.runtime import start_chat, stop_chat
from knowdesk.config import Settings, get_settings
from knowdesk.console.mount import mount_console
from knowdesk.db import migrate
from knowdesk.db.server import release_embedded
from knowdesk.db.session import dispose_engine, get_engine
from knowdesk.jobs.queue import close_queue, open_queue, start_worker_task, stop_worker_task
from knowdesk.web.errors import install_error_handlers
from knowdesk.web.routers import ROUTERS

log = logging.getLogger(__name__)

DESCRIPTION = """
knowdesk answers customers precisely from an enterprise knowledge base, in Chinese and English,
and hands what it cannot answer to people through chat and tickets.

**Authentication.** `POST /api/v1/auth/login` returns a session token; send it as
`Authorization: Bearer <token>`. Server-to-server callers use an API key
(`Authorization: Bearer kd_…` or `X-API-Key`). A person in several workspaces names one with
`X-Workspace`. Every call acts inside exactly one workspace and sees nothing of any other.

**Errors** have one shape: `{"error": {"code", "message", "details"}}`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    await asyncio.to_thread(migrate.upgrade, settings)
    get_engine(settings)
    await open_queue(settings)
    worker = start_worker_task() if settings.run_worker_in_process else None
    app.state.chat = await start_chat(settings)
    try:
        yield
    finally:
        await stop_chat(app.state.chat)
        if worker is not None:
            await stop_worker_task(worker)
        await close_queue()
        await dispose_engine()
        release_embedded()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="knowdesk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_console(app)

    @app.get("/healthz", tags=["meta"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
