"""Queries of knowledge-base tables, always inside the caller's workspace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from knowdesk.db.repository import ScopedRepository
from knowdesk.kb.models import (
    Category,
    CategoryKind,
    Collection,
    Entry,
    EntryKind,
    EntryStatus,
    EntryVersion,
    Review,
    StoredFile,
)


class CollectionRepository(ScopedRepository[Collection]):
    model = Collection

    async def by_name(self, name: str) -> Collection | None:
        stmt = self.select().where(Collection.name == name)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class CategoryRepository(ScopedRepository[Category]):
    model = Category

    async def products(self) -> Sequence[Category]:
        return await self.list(self.select().where(Category.kind == CategoryKind.PRODUCT))


class EntryRepository(ScopedRepository[Entry]):
    model = Entry

    async def get_for_update(self, ident: uuid.UUID) -> Entry | None:
        stmt = self.select().where(Entry.id == ident).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_external_id(
        self, collection_id: uuid.UUID, external_id: str, kind: EntryKind
    ) -> Entry | None:
        stmt = self.select().where(
            Entry.collection_id == collection_id,
            Entry.external_id == external_id,
            Entry.kind == kind,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def search(
        self,
        *,
        collection_id: uuid.UUID | None = None,
        kind: EntryKind | None = None,
        status: EntryStatus | None = None,
        stale_on: date | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Entry]:
        stmt = self.select()
        if collection_id:
            stmt = stmt.where(Entry.collection_id == collection_id)
        if kind:
            stmt = stmt.where(Entry.kind == kind)
        if status:
            stmt = stmt.where(Entry.status == status)
        if stale_on:
            stmt = stmt.where(Entry.review_by <= stale_on, Entry.status != EntryStatus.ARCHIVED)
        if text:
            stmt = stmt.where(Entry.title.ilike(f"%{_escape_like(text)}%", escape="\\"))
        order = Entry.review_by.asc() if stale_on else Entry.updated_at.desc()
        return await self.list(stmt.order_by(order, Entry.id).limit(limit).offset(offset))


class VersionRepository(ScopedRepository[EntryVersion]):
    model = EntryVersion

    async def get_number(self, entry_id: uuid.UUID, number: int) -> EntryVersion | None:
        stmt = self.select().where(EntryVersion.entry_id == entry_id, EntryVersion.number == number)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_entry(self, entry_id: uuid.UUID) -> Sequence[EntryVersion]:
        stmt = self.select().where(EntryVersion.entry_id == entry_id)
        return await self.list(stmt.order_by(EntryVersion.number))


class ReviewRepository(ScopedRepository[Review]):
    model = Review

    async def for_entry(self, entry_id: uuid.UUID) -> Sequence[Review]:
        stmt = self.select().where(Review.entry_id == entry_id)
        return await self.list(stmt.order_by(Review.created_at))


class FileRepository(ScopedRepository[StoredFile]):
    model = StoredFile

    async def has(self, sha256: str) -> bool:
        stmt = self.select(StoredFile.id).where(StoredFile.sha256 == sha256)
        return (await self.session.execute(stmt)).first() is not None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


__all__ = [
    "CategoryRepository",
    "CollectionRepository",
    "EntryRepository",
    "FileRepository",
    "ReviewRepository",
    "VersionRepository",
]
