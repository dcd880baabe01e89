"""A knowdesk server of its own for tests that need other settings than the shared one.

It gets its own data folder, hence its own embedded PostgreSQL: the shared server's worker
would otherwise run these tests' jobs with the default settings (back-off, SMTP server).
The test process reaches the same database to call services as other domains do.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
