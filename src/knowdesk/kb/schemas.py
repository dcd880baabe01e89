from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowdesk.kb.models import CategoryKind, EntryKind, EntryStatus, IndexStatus

MAX_QUESTION = 1000
MAX_ANSWER = 20000


class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class CollectionUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CollectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    created_at: datetime


class CategoryCreate(BaseModel):
    kind: CategoryKind = CategoryKind.PRODUCT
    name: str = Field(min_length=1, max_length=200)
    parent_id: uuid.UUID | None = None
    keywords: list[str] = Field(
        default_factory=list, max_length=100, description="Words that suggest this category."
    )


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: CategoryKind
    name: str
    parent_id: uuid.UUID | None
    keywords: list[str]


class FaqContent(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    similar: list[str] = Field(default_factory=list, max_length=200)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER)


class EntryMeta(BaseModel):
    """Descriptive fields shared by FAQ entries and documents."""

    category_id: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    owner_id: uuid.UUID | None = Field(default=None, description="Default: the creator.")
    review_by: date | None = Field(default=None, description="When the content must be rechecked.")


class FaqCreate(FaqContent, EntryMeta):
    collection_id: uuid.UUID
    external_id: str | None = Field(default=None, max_length=200)
    publish: bool = Field(
        default=False, description="Publish at once (reviewers and owners only); else a draft."
    )


class EntryUpdate(BaseModel):
    """A change to an entry. Any field left out keeps its value. Content changes make a version."""

    expected_version: int = Field(
        description="The version you edited; a newer one makes this a 409 conflict "
        "(no lost update)."
    )
    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION)
    similar: list[str] | None = Field(default=None, max_length=200)
    answer: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER)
    title: str | None = Field(default=None, min_length=1, max_length=500)
    category_id: uuid.UUID | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    owner_id: uuid.UUID | None = None
    review_by: date | None = None
    note: str = Field(default="", max_length=2000, description="What changed, for the history.")


class ReviewDecision(BaseModel):
    comment: str = Field(default="", max_length=5000)


class RollbackIn(BaseModel):
    version: int = Field(ge=1)
    publish: bool = False


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    collection_id: uuid.UUID
    kind: EntryKind
    external_id: str | None
    title: str
    status: EntryStatus
    owner_id: uuid.UUID | None
    review_by: date | None
    category_id: uuid.UUID | None
    question_type: str
    tags: list[str]
    keywords: list[str]
    language: str
    current_version: int
    published_version: int | None = Field(description="The version customers see, if any.")
    index_status: IndexStatus
    index_error: str | None
    created_at: datetime
    updated_at: datetime


class EntryDetail(EntryRead):
    content: dict[str, Any] = Field(description="The newest version's content.")
    published_content: dict[str, Any] | None = None


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    author_id: uuid.UUID | None
    note: str
    created_at: datetime
    content_hash: str


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    decision: str
    reviewer_id: uuid.UUID | None
    comment: str
    created_at: datetime


class HistoryRead(BaseModel):
    versions: list[VersionRead]
    reviews: list[ReviewRead]


class DiffRead(BaseModel):
    from_version: int
    to_version: int
    diff: str = Field(description="Unified diff of the two versions' content, line by line.")


class RowErrorRead(BaseModel):
    filename: str
    row: int | None = None
    message: str


class ImportResult(BaseModel):
    filename: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowErrorRead] = Field(default_factory=list)
    entry_ids: list[uuid.UUID] = Field(default_factory=list)


class UploadResult(BaseModel):
    files: list[ImportResult]


ExportFormat = Literal["jsonl", "csv", "xlsx"]


class IndexedUnitRead(BaseModel):
    """A searchable unit of an entry's published version, as the index holds it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    ordinal: int
    text: str
    heading_path: list[str]
    page: int | None
    content_hash: str
    entry_version: int
    embedded: bool
