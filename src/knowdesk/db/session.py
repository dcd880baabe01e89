"""Engines and sessions. One async engine per process; the request or job owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from knowdesk.config import Settings, get_settings
from knowdesk.db.server import sqlalchemy_url

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def get_engine(settings: Settings | None = None) -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        url = sqlalchemy_url(settings or get_settings())
        _engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


def sync_engine(settings: Settings | None = None) -> Engine:
    """A short-lived synchronous engine, for migrations and command-line tools."""
    return create_engine(sqlalchemy_url(settings or get_settings()))


def session_factory() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends without error, else rolled back."""
    async with session_factory()() as session, session.begin():
        yield session


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None
