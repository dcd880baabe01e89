"""Knowledge-base content: collections, entries (FAQ and documents), versions, reviews, files.

An entry's *published* version is what customers can reach; editing creates a newer version that
goes through review while the published one stays live. Search units (what retrieval indexes)
are derived from the published version only, by the indexing job.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class EntryKind(enum.StrEnum):
    FAQ = "faq"
    DOCUMENT = "document"


class EntryStatus(enum.StrEnum):
    """Where the newest version stands. draft → in_review → published → archived."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class IndexStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    FAILED = "failed"
    DONE = "done"


class CategoryKind(enum.StrEnum):
    PRODUCT = "product"
    QUESTION_TYPE = "question_type"


class Collection(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "kb_collections"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Category(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """A node of the workspace's taxonomy: a product line, or a question type."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "name"),)

    kind: Mapped[CategoryKind] = mapped_column(_enum(CategoryKind, "category_kind"))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_categories.id", ondelete="SET NULL")
    )
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)


class Entry(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "kb_entries"
    __table_args__ = (
        UniqueConstraint("workspace_id", "collection_id", "kind", "external_id"),
        Index("ix_kb_entries_status", "workspace_id", "status"),
        Index("ix_kb_entries_review_by", "workspace_id", "review_by"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_collections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[EntryStatus] = mapped_column(_enum(EntryStatus, "entry_status"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    review_by: Mapped[date | None] = mapped_column(Date)
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_categories.id", ondelete="SET NULL")
    )
    question_type: Mapped[str] = mapped_column(String(40), default="other")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer)
    index_status: Mapped[IndexStatus] = mapped_column(
        _enum(IndexStatus, "index_status"), default=IndexStatus.DONE
    )
    index_error: Mapped[str | None] = mapped_column(Text)
    indexed_version: Mapped[int | None] = mapped_column(Integer)


class EntryVersion(IdMixin, WorkspaceScoped, Base):
    """A full snapshot of an entry's content after one edit. Never changed once written.

    FAQ content: {"title", "question", "similar": [...], "answer"}. Document content: {"title",
    "filename", "file_sha256", "blocks": [{"kind", "text", "heading_path", "page"}]}.
    Descriptive fields (category, tags, owner, review-by date) live on the entry and are audited.
    """

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_entries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class Review(IdMixin, WorkspaceScoped, Base):
    __tablename__ = "kb_reviews"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_entries.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(20))  # approved | rejected
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class StoredFile(IdMixin, WorkspaceScoped, Base):
    """An uploaded original, kept so a document can be re-parsed; deduplicated by content."""

    __tablename__ = "kb_files"
    __table_args__ = (UniqueConstraint("workspace_id", "sha256"),)

    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )
