"""Bring the database schema up to date: pgvector, the job queue's tables, then our migrations.

Runs at every start. An advisory lock makes nodes that start together take turns.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from procrastinate.schema import SchemaManager
from sqlalchemy import text
from sqlalchemy.engine import Connection

from knowdesk.config import Settings, get_settings
from knowdesk.db.session import sync_engine

_MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x6B6E6F77  # "know": any constant shared by all knowdesk nodes


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _ensure_queue_schema(connection: Connection) -> None:
    if connection.execute(text("select to_regclass('procrastinate_jobs')")).scalar() is None:
        # Straight to the driver: the schema holds '%' signs that must not read as parameters.
        connection.connection.cursor().execute(SchemaManager.get_schema())


def upgrade(settings: Settings | None = None) -> None:
    engine = sync_engine(settings or get_settings())
    try:
        with engine.begin() as connection:
            connection.execute(text("select pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            connection.execute(text("create extension if not exists vector"))
            _ensure_queue_schema(connection)
            command.upgrade(alembic_config(connection), "heads")
    finally:
        engine.dispose()


def make_revision(
    message: str, settings: Settings | None = None, rev_id: str | None = None
) -> None:
    """Write a new migration from the difference between the models and the database."""
    engine = sync_engine(settings or get_settings())
    try:
        with engine.begin() as connection:
            connection.execute(text("create extension if not exists vector"))
            command.revision(
                alembic_config(connection), message=message, autogenerate=True, rev_id=rev_id
            )
    finally:
        engine.dispose()
