"""A knowdesk server of its own for tests that need other settings than the shared one.

It gets its own data folder, hence its own embedded PostgreSQL: the shared server's worker
would otherwise run these tests' jobs with the default settings (back-off, SMTP server).
The test process reaches the same database to call services as other domains do.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from knowdesk.config import Settings
from knowdesk.db.server import sqlalchemy_url
from tests.conftest import free_port, start_server, stop_server, wait_healthy

T = TypeVar("T")


@dataclass
class OwnServer:
    url: str
    env: dict[str, str]
    settings: Settings

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one committed transaction on this server's database."""

        async def main() -> T:
            engine = create_async_engine(sqlalchemy_url(self.settings))
            try:
                async with (
                    async_sessionmaker(engine, expire_on_commit=False)() as session,
                    session.begin(),
                ):
                    return await work(session)
            finally:
                await engine.dispose()

        return asyncio.run(main())


def stop_postgres(pgdata: Path, timeout: float = 20) -> None:
    """Stop the embedded PostgreSQL in `pgdata`. Its own clean-up runs at the exit of the last
    process that uses it, but a server stopped by SIGTERM exits without running it. SIGINT is
    PostgreSQL's fast shutdown."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@contextmanager
def own_server(log_name: str, env: dict[str, str]) -> Iterator[OwnServer]:
    data = tempfile.mkdtemp(prefix="knowdesk-test-own-")
    env = {**env, "KNOWDESK_DATA": data}
    port = free_port()
    process = start_server(port, log_name, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield OwnServer(url, env, Settings(KNOWDESK_DATA=data))
    finally:
        stop_server(process)
        stop_postgres(Path(data) / "pg")
        shutil.rmtree(data, ignore_errors=True)
