"""Alembic environment: runs against the connection that `knowdesk.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from knowdesk.db.models import Base


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # The job queue's tables belong to procrastinate, which manages its own schema.
    return not (type_ == "table" and name is not None and name.startswith("procrastinate"))


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
