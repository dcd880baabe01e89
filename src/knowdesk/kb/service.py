"""Rules of the knowledge base: content, versions, the review workflow, imports and exports.

Every function works inside the caller's transaction and never commits. Whatever changes what
customers can see (publish, archive, an edit of live content through rollback) marks the entry
for re-indexing and defers the indexing job in the same transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.audit.service import record
from knowdesk.errors import ConflictError, InvalidInputError, PermissionDeniedError
from knowdesk.jobs.queue import defer
from knowdesk.kb import content as kb_content
from knowdesk.kb.classify import classify_question, suggest_category
from knowdesk.kb.faq_files import FaqFileError, FaqRecord, read_faq_file, write_faq_file
from knowdesk.kb.models import (
    Category,
    CategoryKind,
    Collection,
    Entry,
    EntryKind,
    EntryStatus,
    EntryVersion,
    IndexStatus,
    Review,
    StoredFile,
)
from knowdesk.kb.parsing import IngestError, parse_document
from knowdesk.kb.repository import (
    CategoryRepository,
    CollectionRepository,
    EntryRepository,
    FileRepository,
    ReviewRepository,
    VersionRepository,
)
from knowdesk.kb.schemas import EntryUpdate, ImportResult, RowErrorRead
from knowdesk.text.keywords import extract_keywords
from knowdesk.text.tokenize import detect_language

# A document's file name is its id in the collection (kb_entries.external_id, 200 characters).
MAX_DOCUMENT_NAME_CHARS = 200


@dataclass
class KB:
    """The knowledge base of one caller: repositories bound to its session and workspace."""

    session: AsyncSession
    principal: Principal

    def __post_init__(self) -> None:
        ws = self.principal.workspace_id
        self.collections = CollectionRepository(self.session, ws)
        self.categories = CategoryRepository(self.session, ws)
        self.entries = EntryRepository(self.session, ws)
        self.versions = VersionRepository(self.session, ws)
        self.reviews = ReviewRepository(self.session, ws)
        self.files = FileRepository(self.session, ws)

    def _audit(self, action: str, entry: Entry, **details: Any) -> None:
        record(
            self.session,
            self.principal,
            action,
            target_type="kb_entry",
            target_id=entry.id,
            **details,
        )

    def _require(self, permission: str) -> None:
        if not self.principal.can(permission):
            raise PermissionDeniedError(
                f"Your role ({self.principal.role}) may not do this ({permission})."
            )

    # -- collections and taxonomy ------------------------------------------------------------

    async def create_collection(self, *, name: str, description: str = "") -> Collection:
        if await self.collections.by_name(name):
            raise ConflictError(f"A collection named {name!r} already exists.")
        collection = self.collections.add(Collection(name=name, description=description))
        await self.session.flush()
        record(
            self.session,
            self.principal,
            "collection.create",
            target_type="kb_collection",
            target_id=collection.id,
            name=name,
        )
        return collection

    async def collection_named(self, name: str) -> Collection:
        """The collection called `name`, made if missing (imports name collections)."""
        return await self.collections.by_name(name) or await self.create_collection(name=name)

    async def create_category(
        self, *, kind: CategoryKind, name: str, parent_id: uuid.UUID | None, keywords: list[str]
    ) -> Category:
        if parent_id is not None:
            await self.categories.get_or_raise(parent_id)
        category = self.categories.add(
            Category(kind=kind, name=name, parent_id=parent_id, keywords=keywords)
        )
        await self.session.flush()
        return category

    async def _check_category(self, category_id: uuid.UUID | None) -> None:
        if category_id is not None:
            await self.categories.get_or_raise(category_id)

    # -- classification -----------------------------------------------------------------------

    async def _classify(self, entry: Entry, content: dict[str, Any]) -> None:
        """Keywords, language, question type and (when not chosen by a person) product line."""
        text = kb_content.searchable_text(content)
        entry.keywords = extract_keywords(text)
        entry.language = detect_language(text)
        focus = content.get("question") or content.get("title", "")
        entry.question_type = str(classify_question(focus + "\n" + text[:500]))
        if entry.category_id is None:
            products = await self.categories.products()
            taxonomy = {c.name: [c.name, *c.keywords] for c in products}
            chosen = suggest_category(text, taxonomy) if taxonomy else None
            entry.category_id = next((c.id for c in products if c.name == chosen), None)

    # -- versions -----------------------------------------------------------------------------

    def _add_version(self, entry: Entry, content: dict[str, Any], note: str) -> EntryVersion:
        version = self.versions.add(
            EntryVersion(
                entry_id=entry.id,
                number=entry.current_version,
                content=content,
                content_hash=kb_content.content_hash(content),
                author_id=self.principal.user_id,
                note=note,
            )
        )
        return version

    async def current_content(self, entry: Entry) -> dict[str, Any]:
        version = await self.versions.get_number(entry.id, entry.current_version)
        assert version is not None, "every entry has its current version"
        return version.content

    async def published_content(self, entry: Entry) -> dict[str, Any] | None:
        if entry.published_version is None or entry.status == EntryStatus.ARCHIVED:
            return None
        version = await self.versions.get_number(entry.id, entry.published_version)
        return version.content if version else None

    async def _new_entry(
        self,
        *,
        collection_id: uuid.UUID,
        kind: EntryKind,
        content: dict[str, Any],
        external_id: str | None,
        category_id: uuid.UUID | None = None,
        tags: Sequence[str] = (),
        owner_id: uuid.UUID | None = None,
        review_by: date | None = None,
        publish: bool = False,
    ) -> Entry:
        await self.collections.get_or_raise(collection_id)
        await self._check_category(category_id)
        if publish:
            self._require("kb.publish")
        entry = self.entries.add(
            Entry(
                id=uuid.uuid4(),
                collection_id=collection_id,
                kind=kind,
                external_id=external_id,
                title=content["title"][:500],
                status=EntryStatus.DRAFT,
                owner_id=owner_id or self.principal.user_id,
                review_by=review_by,
                category_id=category_id,
                tags=list(tags),
                current_version=1,
                index_status=IndexStatus.DONE,
            )
        )
        await self._classify(entry, content)
        await self.session.flush()
        self._add_version(entry, content, "created")
        self._audit("entry.create", entry, kind=kind.value, version=1)
        if publish:
            await self._publish(entry, comment="published on creation")
        return entry

    async def create_faq(
        self,
        *,
        collection_id: uuid.UUID,
        question: str,
        similar: list[str],
        answer: str,
        external_id: str | None = None,
        category_id: uuid.UUID | None = None,
        tags: Sequence[str] = (),
        owner_id: uuid.UUID | None = None,
        review_by: date | None = None,
        publish: bool = False,
    ) -> Entry:
        self._require("kb.write")
        if external_id and await self.entries.by_external_id(
            collection_id, external_id, EntryKind.FAQ
        ):
            raise ConflictError(f"An FAQ entry with id {external_id!r} already exists here.")
        content = kb_content.faq_content(question=question, similar=similar, answer=answer)
        return await self._new_entry(
            collection_id=collection_id,
            kind=EntryKind.FAQ,
            content=content,
            external_id=external_id,
            category_id=category_id,
            tags=tags,
            owner_id=owner_id,
            review_by=review_by,
            publish=publish,
        )

    async def entry_for_update(self, entry_id: uuid.UUID) -> Entry:
        entry = await self.entries.get_for_update(entry_id)
        if entry is None:
            await self.entries.get_or_raise(entry_id)
        assert entry is not None
        return entry

    async def _revise(self, entry: Entry, content: dict[str, Any], note: str) -> bool:
        """Make `content` the entry's newest version; False when it equals the current one."""
        if kb_content.content_hash(content) == kb_content.content_hash(
            await self.current_content(entry)
        ):
            return False
        entry.current_version += 1
        entry.title = content["title"][:500]
        if entry.status == EntryStatus.ARCHIVED:
            # As on restore: the archived version must not come back live with the draft.
            entry.published_version = None
        if entry.status in (EntryStatus.PUBLISHED, EntryStatus.IN_REVIEW, EntryStatus.ARCHIVED):
            # The published version stays live; the new one starts its own review.
            entry.status = EntryStatus.DRAFT
        await self._classify(entry, content)
        self._add_version(entry, content, note)
        self._audit("entry.edit", entry, version=entry.current_version, note=note)
        return True

    async def update_entry(self, entry_id: uuid.UUID, change: EntryUpdate) -> Entry:
        self._require("kb.write")
        entry = await self.entry_for_update(entry_id)
        if change.expected_version != entry.current_version:
            raise ConflictError(
                f"The entry is at version {entry.current_version}; you edited version "
                f"{change.expected_version}. Reload it and apply your change again."
            )
        current = await self.current_content(entry)
        if entry.kind == EntryKind.FAQ:
            content = kb_content.faq_content(
                question=change.question or current["question"],
                similar=current["similar"] if change.similar is None else change.similar,
                answer=change.answer or current["answer"],
            )
        else:
            if change.question or change.answer or change.similar is not None:
                raise InvalidInputError("A document's text changes by uploading a new file.")
            content = dict(current)
        if change.title:
            content["title"] = change.title
        await self._revise(entry, content, change.note)
        meta = change.model_dump(
            include={"category_id", "tags", "owner_id", "review_by"}, exclude_unset=True
        )
        if "category_id" in meta:
            await self._check_category(meta["category_id"])
        for field, value in meta.items():
            setattr(entry, field, value)
        if meta:
            self._audit("entry.meta", entry, **{k: str(v) for k, v in meta.items()})
        return entry

    # -- workflow -----------------------------------------------------------------------------

    async def submit_for_review(self, entry_id: uuid.UUID) -> Entry:
        self._require("kb.write")
        entry = await self.entry_for_update(entry_id)
        if entry.status != EntryStatus.DRAFT:
            raise ConflictError(f"Only a draft can be submitted for review (it is {entry.status}).")
        entry.status = EntryStatus.IN_REVIEW
        self._audit("entry.submit", entry, version=entry.current_version)
        return entry

    async def approve(self, entry_id: uuid.UUID, comment: str) -> Entry:
        self._require("kb.review")
        entry = await self.entry_for_update(entry_id)
        if entry.status != EntryStatus.IN_REVIEW:
            raise ConflictError(f"Only an entry in review can be approved (it is {entry.status}).")
        self._add_review(entry, "approved", comment)
        await self._publish(entry, comment=comment)
        return entry

    async def reject(self, entry_id: uuid.UUID, comment: str) -> Entry:
        self._require("kb.review")
        entry = await self.entry_for_update(entry_id)
        if entry.status != EntryStatus.IN_REVIEW:
            raise ConflictError(f"Only an entry in review can be rejected (it is {entry.status}).")
        if not comment.strip():
            raise InvalidInputError("Say why in a comment, so the author can fix it.")
        self._add_review(entry, "rejected", comment)
        entry.status = EntryStatus.DRAFT
        self._audit("entry.reject", entry, version=entry.current_version, comment=comment)
        return entry

    async def publish(self, entry_id: uuid.UUID, comment: str = "") -> Entry:
        """Publish the newest version directly (reviewers and owners; audited)."""
        self._require("kb.publish")
        entry = await self.entry_for_update(entry_id)
        if entry.status == EntryStatus.PUBLISHED:
            return entry
        await self._publish(entry, comment=comment)
        return entry

    async def archive(self, entry_id: uuid.UUID) -> Entry:
        self._require("kb.publish")
        entry = await self.entry_for_update(entry_id)
        if entry.status == EntryStatus.ARCHIVED:
            return entry
        entry.status = EntryStatus.ARCHIVED
        self._audit("entry.archive", entry)
        await self._queue_index(entry)
        return entry

    async def restore(self, entry_id: uuid.UUID) -> Entry:
        """An archived entry back to draft (it stays out of customers' reach until published)."""
        self._require("kb.write")
        entry = await self.entry_for_update(entry_id)
        if entry.status != EntryStatus.ARCHIVED:
            raise ConflictError(f"Only an archived entry can be restored (it is {entry.status}).")
        entry.status = EntryStatus.DRAFT
        entry.published_version = None
        self._audit("entry.restore", entry)
        return entry

    async def rollback(self, entry_id: uuid.UUID, *, version: int, publish: bool) -> Entry:
        """A new version with the content of an old one (history is never rewritten)."""
        self._require("kb.write")
        if publish:
            self._require("kb.publish")
        entry = await self.entry_for_update(entry_id)
        old = await self.versions.get_number(entry.id, version)
        if old is None:
            raise InvalidInputError(f"The entry has no version {version}.")
        await self._revise(entry, dict(old.content), f"rollback to version {version}")
        if publish and entry.status != EntryStatus.PUBLISHED:
            await self._publish(entry, comment=f"rollback to version {version}")
        return entry

    async def delete(self, entry_id: uuid.UUID) -> None:
        self._require("kb.write")
        entry = await self.entry_for_update(entry_id)
        self._audit("entry.delete", entry, title=entry.title)
        from knowdesk.retrieval.index import remove_entry_units

        await remove_entry_units(self.session, self.principal.workspace_id, entry.id)
        await self.entries.delete(entry)

    def _add_review(self, entry: Entry, decision: str, comment: str) -> None:
        self.reviews.add(
            Review(
                entry_id=entry.id,
                version=entry.current_version,
                decision=decision,
                reviewer_id=self.principal.user_id,
                comment=comment,
            )
        )

    async def _publish(self, entry: Entry, *, comment: str) -> None:
        entry.status = EntryStatus.PUBLISHED
        entry.published_version = entry.current_version
        self._audit("entry.publish", entry, version=entry.current_version, comment=comment)
        await self._queue_index(entry)

    async def _queue_index(self, entry: Entry) -> None:
        from knowdesk.kb.tasks import index_entry

        entry.index_status = IndexStatus.QUEUED
        entry.index_error = None
        await self.session.flush()
        await defer(
            self.session, index_entry, workspace_id=str(entry.workspace_id), entry_id=str(entry.id)
        )

    # -- history ------------------------------------------------------------------------------

    async def history(self, entry_id: uuid.UUID) -> tuple[Sequence[EntryVersion], Sequence[Review]]:
        entry = await self.entries.get_or_raise(entry_id)
        return await self.versions.for_entry(entry.id), await self.reviews.for_entry(entry.id)

    async def diff(self, entry_id: uuid.UUID, old: int, new: int) -> str:
        entry = await self.entries.get_or_raise(entry_id)
        a = await self.versions.get_number(entry.id, old)
        b = await self.versions.get_number(entry.id, new)
        if a is None or b is None:
            raise InvalidInputError(f"The entry has versions 1 to {entry.current_version}.")
        return kb_content.diff(a.content, b.content, old_label=f"v{old}", new_label=f"v{new}")

    # -- FAQ files ----------------------------------------------------------------------------

    async def import_faq_records(
        self, collection: Collection, filename: str, records: Sequence[FaqRecord], *, publish: bool
    ) -> ImportResult:
        """Create new entries, revise changed ones (matched by id), leave equal ones alone.

        Each record goes in a savepoint, so one bad record never leaves anything half-stored.
        """
        result = ImportResult(filename=filename)
        for row, rec in enumerate(records, start=1):
            try:
                async with self.session.begin_nested():
                    outcome, entry = await self._import_record(collection, rec, publish=publish)
            except (ConflictError, InvalidInputError) as exc:
                result.errors.append(RowErrorRead(filename=filename, row=row, message=exc.message))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.entry_ids.append(entry.id)
        return result

    async def _import_record(
        self, collection: Collection, rec: FaqRecord, *, publish: bool
    ) -> tuple[str, Entry]:
        category_id = await self._category_named(rec.category)
        existing = (
            await self.entries.by_external_id(collection.id, rec.external_id, EntryKind.FAQ)
            if rec.external_id
            else None
        )
        if existing is None:
            entry = await self.create_faq(
                collection_id=collection.id,
                question=rec.question,
                similar=list(rec.similar),
                answer=rec.answer,
                external_id=rec.external_id,
                category_id=category_id,
                tags=rec.tags,
                publish=publish,
            )
            return "created", entry
        entry = await self.entry_for_update(existing.id)
        content = kb_content.faq_content(
            question=rec.question, similar=list(rec.similar), answer=rec.answer
        )
        changed = await self._revise(entry, content, "import")
        if changed and publish:
            self._require("kb.publish")
            await self._publish(entry, comment="import")
        return ("updated" if changed else "unchanged"), entry

    async def _category_named(self, name: str | None) -> uuid.UUID | None:
        if not name:
            return None
        for category in await self.categories.products():
            if category.name == name:
                return category.id
        made = await self.create_category(
            kind=CategoryKind.PRODUCT, name=name, parent_id=None, keywords=[]
        )
        return made.id

    async def import_faq_file(
        self, collection: Collection, filename: str, data: bytes, *, publish: bool
    ) -> ImportResult:
        self._require("kb.write")
        try:
            parsed = await asyncio.to_thread(read_faq_file, filename, data)
        except FaqFileError as exc:
            return ImportResult(
                filename=filename, errors=[RowErrorRead(filename=filename, message=str(exc))]
            )
        result = await self.import_faq_records(
            collection, filename, parsed.records, publish=publish
        )
        file_errors = [
            RowErrorRead(filename=e.filename, row=e.row, message=e.message) for e in parsed.errors
        ]
        result.errors = sorted(file_errors + result.errors, key=lambda e: e.row or 0)
        return result

    async def export_faq(self, collection_id: uuid.UUID, fmt: str) -> bytes:
        """The newest content of every FAQ entry that is not archived, in an importable file."""
        await self.collections.get_or_raise(collection_id)
        entries = await self.entries.search(
            collection_id=collection_id, kind=EntryKind.FAQ, limit=1_000_000
        )
        names = {c.id: c.name for c in await self.categories.products()}
        records = []
        for entry in sorted(entries, key=lambda e: (e.external_id or "", str(e.id))):
            if entry.status == EntryStatus.ARCHIVED:
                continue
            content = await self.current_content(entry)
            records.append(
                FaqRecord(
                    question=content["question"],
                    answer=content["answer"],
                    external_id=entry.external_id or str(entry.id),
                    similar=tuple(content["similar"]),
                    category=names.get(entry.category_id) if entry.category_id else None,
                    tags=tuple(entry.tags),
                )
            )
        return write_faq_file(records, fmt)  # type: ignore[arg-type]

    # -- documents ----------------------------------------------------------------------------

    async def upload_document(
        self, collection: Collection, filename: str, data: bytes, *, max_bytes: int, publish: bool
    ) -> ImportResult:
        """Parse and store one document. A file whose name exists in the collection becomes a
        new version of that document; an unchanged file changes nothing."""
        self._require("kb.write")
        result = ImportResult(filename=filename)
        if len(filename) > MAX_DOCUMENT_NAME_CHARS:
            message = f"{filename}: the name is longer than {MAX_DOCUMENT_NAME_CHARS} characters"
            result.errors.append(RowErrorRead(filename=filename, message=message))
            return result
        try:
            parsed = await asyncio.to_thread(parse_document, filename, data, max_bytes=max_bytes)
        except IngestError as exc:
            result.errors.append(RowErrorRead(filename=filename, message=str(exc)))
            return result
        sha = hashlib.sha256(data).hexdigest()
        content = kb_content.document_content(parsed, file_sha256=sha)
        async with self.session.begin_nested():
            if not await self.files.has(sha):
                self.files.add(StoredFile(sha256=sha, filename=filename, size=len(data), data=data))
            existing = await self.entries.by_external_id(
                collection.id, filename, EntryKind.DOCUMENT
            )
            if existing is None:
                entry = await self._new_entry(
                    collection_id=collection.id,
                    kind=EntryKind.DOCUMENT,
                    content=content,
                    external_id=filename,
                    publish=publish,
                )
                result.created = 1
            else:
                entry = await self.entry_for_update(existing.id)
                changed = await self._revise(entry, content, "upload")
                if changed and publish:
                    self._require("kb.publish")
                    await self._publish(entry, comment="upload")
                result.updated, result.unchanged = (1, 0) if changed else (0, 1)
        result.entry_ids.append(entry.id)
        return result
