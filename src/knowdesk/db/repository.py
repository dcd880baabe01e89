"""The one place where tenancy is enforced.

Every query for workspace-owned rows starts from `ScopedRepository.select()`, which filters on
the caller's workspace, and every new row gets the caller's workspace in `add()`. Endpoints and
services never build their own unscoped queries of such tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

__all__ = ["NotFoundError", "ScopedRepository"]

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.db.base import Base
from knowdesk.errors import NotFoundError

M = TypeVar("M", bound=Base)


class ScopedRepository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def select(self, *columns: Any) -> Select[Any]:
        model: Any = self.model
        stmt = select(*columns) if columns else select(model)
        return stmt.where(model.workspace_id == self.workspace_id)

    async def get(self, ident: uuid.UUID) -> M | None:
        model: Any = self.model
        return (
            await self.session.execute(self.select().where(model.id == ident))
        ).scalar_one_or_none()

    async def get_or_raise(self, ident: uuid.UUID) -> M:
        row = await self.get(ident)
        if row is None:
            raise NotFoundError(self.model.__name__, ident)
        return row

    async def list(self, stmt: Select[Any] | None = None) -> Sequence[M]:
        return (
            (await self.session.execute(stmt if stmt is not None else self.select()))
            .scalars()
            .all()
        )

    def add(self, row: M) -> M:
        row.workspace_id = self.workspace_id  # type: ignore[attr-defined]
        self.session.add(row)
        return row

    async def delete(self, row: M) -> None:
        await self.session.delete(row)
