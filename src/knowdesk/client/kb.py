"""The knowledge base: collections, FAQ entries, documents, the review workflow and history."""

from __future__ import annotations

import mimetypes
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import Any

from knowdesk.client.errors import KnowdeskAPIError
from knowdesk.client.http import ApiSession, Id
from knowdesk.kb.models import CategoryKind, EntryKind, EntryStatus, IndexStatus
from knowdesk.kb.schemas import (
    CategoryRead,
    CollectionRead,
    DiffRead,
    EntryDetail,
    EntryRead,
    ExportFormat,
    HistoryRead,
    ImportResult,
    IndexedUnitRead,
    UploadResult,
)

# Files that hold FAQ entries go to the FAQ importer; everything else is a document. Old .xls
# workbooks go there too, because the FAQ importer explains how to convert them.
FAQ_EXTENSIONS = frozenset({".jsonl", ".json", ".csv", ".xlsx", ".xls"})

# A path to read, or a (filename, content) pair already in memory.
FileInput = str | os.PathLike[str] | tuple[str, bytes]

# While waiting for indexing, stop probing a round after this many entries that are still
# waiting: the queue runs jobs roughly in the order they were deferred, so entries further down
# the list are very likely waiting too, and asking for each of them would only load the server.
_PROBES_PER_ROUND = 4

_FINISHED = frozenset({IndexStatus.DONE, IndexStatus.FAILED})


def is_faq_file(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in FAQ_EXTENSIONS


@dataclass(frozen=True)
class IndexProgress:
    """How far the indexing of a set of entries has come."""

    total: int
    done: int
    failed: int

    @property
    def finished(self) -> int:
        return self.done + self.failed


def _named_file(item: FileInput) -> tuple[str, bytes]:
    if isinstance(item, tuple):
        return item
    path = Path(item)
    return path.name, path.read_bytes()


def _multipart(files: Sequence[tuple[str, bytes]]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (name, data, mimetypes.guess_type(name)[0] or "application/octet-stream"))
        for name, data in files
    ]


def _batches(
    files: Sequence[FileInput], batch_size: int
) -> Iterator[tuple[bool, list[tuple[str, bytes]]]]:
    """Consecutive files of one kind (FAQ or document), at most `batch_size` a request; files
    are read only when their batch is due, so a large import never sits in memory at once."""
    batch: list[tuple[str, bytes]] = []
    batch_is_faq = False
    for item in files:
        name, data = _named_file(item)
        faq = is_faq_file(name)
        if batch and (faq != batch_is_faq or len(batch) == batch_size):
            yield batch_is_faq, batch
            batch = []
        batch_is_faq = faq
        batch.append((name, data))
    if batch:
        yield batch_is_faq, batch


def _query(**params: Any) -> dict[str, Any]:
    return {k: str(v) for k, v in params.items() if v is not None}


class KnowledgeBaseAPI:
    """`client.kb`: everything under `/api/v1/kb`."""

    def __init__(self, api: ApiSession) -> None:
        self._api = api

    # -- collections and categories -----------------------------------------------------------

    def list_collections(self) -> list[CollectionRead]:
        return self._api.call(list[CollectionRead], "GET", "/api/v1/kb/collections")

    def get_collection(self, collection_id: Id) -> CollectionRead:
        return self._api.call(CollectionRead, "GET", f"/api/v1/kb/collections/{collection_id}")

    def create_collection(self, name: str, description: str = "") -> CollectionRead:
        body = {"name": name, "description": description}
        return self._api.call(CollectionRead, "POST", "/api/v1/kb/collections", json=body)

    def find_collection(self, name: str) -> CollectionRead | None:
        """The collection called `name`, or None."""
        return next((c for c in self.list_collections() if c.name == name), None)

    def ensure_collection(self, name: str) -> CollectionRead:
        """The collection called `name`, created when missing."""
        found = self.find_collection(name)
        if found is not None:
            return found
        try:
            return self.create_collection(name)
        except KnowdeskAPIError as exc:
            # Someone else created it between the look-up and the create.
            found = self.find_collection(name) if exc.status == 409 else None
            if found is None:
                raise
            return found

    def list_categories(self) -> list[CategoryRead]:
        return self._api.call(list[CategoryRead], "GET", "/api/v1/kb/categories")

    def create_category(
        self,
        name: str,
        *,
        kind: CategoryKind = CategoryKind.PRODUCT,
        parent_id: Id | None = None,
        keywords: Sequence[str] = (),
    ) -> CategoryRead:
        body = {
            "name": name,
            "kind": kind.value,
            "parent_id": str(parent_id) if parent_id else None,
            "keywords": list(keywords),
        }
        return self._api.call(CategoryRead, "POST", "/api/v1/kb/categories", json=body)

    # -- entries ------------------------------------------------------------------------------

    def list_entries(
        self,
        *,
        collection_id: Id | None = None,
        kind: EntryKind | None = None,
        status: EntryStatus | None = None,
        q: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[EntryRead]:
        """Entries, newest first, filtered; `q` matches words of the title; `limit` ≤ 1000."""
        params = _query(
            collection_id=collection_id, kind=kind, status=status, q=q, limit=limit, offset=offset
        )
        return self._api.call(list[EntryRead], "GET", "/api/v1/kb/entries", params=params)

    def get_entry(self, entry_id: Id) -> EntryDetail:
        """One entry with its newest content, its published content and its index status."""
        return self._api.call(EntryDetail, "GET", f"/api/v1/kb/entries/{entry_id}")

    def create_faq(
        self,
        collection_id: Id,
        *,
        question: str,
        answer: str,
        similar: Sequence[str] = (),
        external_id: str | None = None,
        category_id: Id | None = None,
        tags: Sequence[str] = (),
        review_by: date | None = None,
        publish: bool = False,
    ) -> EntryDetail:
        """A new FAQ entry: a draft, or published at once (reviewers and owners)."""
        body = {
            "collection_id": str(collection_id),
            "question": question,
            "answer": answer,
            "similar": list(similar),
            "external_id": external_id,
            "category_id": str(category_id) if category_id else None,
            "tags": list(tags),
            "review_by": review_by.isoformat() if review_by else None,
            "publish": publish,
        }
        return self._api.call(EntryDetail, "POST", "/api/v1/kb/faq", json=body)

    def update_entry(
        self,
        entry_id: Id,
        *,
        expected_version: int,
        question: str | None = None,
        similar: Sequence[str] | None = None,
        answer: str | None = None,
        title: str | None = None,
        category_id: Id | None = None,
        tags: Sequence[str] | None = None,
        review_by: date | None = None,
        note: str = "",
    ) -> EntryDetail:
        """Edit an entry; a field left as None keeps its value. A content change makes a new
        version; `expected_version` is the version you edited (a newer one is a 409 conflict)."""
        changes: dict[str, Any] = {
            "question": question,
            "similar": None if similar is None else list(similar),
            "answer": answer,
            "title": title,
            "category_id": str(category_id) if category_id else None,
            "tags": None if tags is None else list(tags),
            "review_by": review_by.isoformat() if review_by else None,
        }
        body = {
            "expected_version": expected_version,
            "note": note,
            **{k: v for k, v in changes.items() if v is not None},
        }
        return self._api.call(EntryDetail, "PATCH", f"/api/v1/kb/entries/{entry_id}", json=body)

    def delete_entry(self, entry_id: Id) -> None:
        """Delete an entry with its whole history (archive it to keep the history)."""
        self._api.request("DELETE", f"/api/v1/kb/entries/{entry_id}")

    def indexed_units(self, entry_id: Id) -> list[IndexedUnitRead]:
        """What the search index holds for the entry's published version."""
        return self._api.call(list[IndexedUnitRead], "GET", f"/api/v1/kb/entries/{entry_id}/units")

    # -- the review workflow ------------------------------------------------------------------

    def _act(self, entry_id: Id, action: str, body: dict[str, Any] | None = None) -> EntryDetail:
        return self._api.call(
            EntryDetail, "POST", f"/api/v1/kb/entries/{entry_id}/{action}", json=body
        )

    def submit(self, entry_id: Id) -> EntryDetail:
        """Send a draft to review."""
        return self._act(entry_id, "submit")

    def approve(self, entry_id: Id, comment: str = "") -> EntryDetail:
        """Approve an entry in review, which publishes it (reviewers and owners)."""
        return self._act(entry_id, "approve", {"comment": comment})

    def reject(self, entry_id: Id, comment: str) -> EntryDetail:
        """Send an entry in review back to draft; the comment says why."""
        return self._act(entry_id, "reject", {"comment": comment})

    def publish(self, entry_id: Id) -> EntryDetail:
        """Publish the newest version without review (reviewers and owners)."""
        return self._act(entry_id, "publish")

    def archive(self, entry_id: Id) -> EntryDetail:
        """Take the entry out of customers' reach; its history stays."""
        return self._act(entry_id, "archive")

    def restore(self, entry_id: Id) -> EntryDetail:
        """Bring an archived entry back as a draft."""
        return self._act(entry_id, "restore")

    def rollback(self, entry_id: Id, version: int, *, publish: bool = False) -> EntryDetail:
        """A new version with the content of `version`, published at once when asked."""
        return self._act(entry_id, "rollback", {"version": version, "publish": publish})

    def history(self, entry_id: Id) -> HistoryRead:
        return self._api.call(HistoryRead, "GET", f"/api/v1/kb/entries/{entry_id}/history")

    def diff(self, entry_id: Id, from_version: int, to_version: int) -> DiffRead:
        """A unified diff of two versions' content."""
        params = {"from": from_version, "to": to_version}
        return self._api.call(DiffRead, "GET", f"/api/v1/kb/entries/{entry_id}/diff", params=params)

    # -- files --------------------------------------------------------------------------------

    def _upload(
        self, collection_id: Id, endpoint: str, files: Sequence[tuple[str, bytes]], publish: bool
    ) -> list[ImportResult]:
        result = self._api.call(
            UploadResult,
            "POST",
            f"/api/v1/kb/collections/{collection_id}/{endpoint}",
            files=_multipart(files),
            data={"publish": "true" if publish else "false"},
        )
        return result.files

    def import_faq_files(
        self, collection_id: Id, files: Sequence[FileInput], *, publish: bool = False
    ) -> list[ImportResult]:
        """Import FAQ files (JSONL, JSON, CSV, XLSX) in one request. Entries match by their id
        in the file; bad rows come back as errors with their row number, the rest is imported."""
        return self._upload(collection_id, "faq-import", [_named_file(f) for f in files], publish)

    def upload_documents(
        self, collection_id: Id, files: Sequence[FileInput], *, publish: bool = False
    ) -> list[ImportResult]:
        """Upload documents (Markdown, HTML, PDF, DOCX, TXT) in one request. A file whose name
        exists in the collection becomes a new version of that document."""
        return self._upload(collection_id, "documents", [_named_file(f) for f in files], publish)

    def import_files(
        self,
        collection_id: Id,
        files: Sequence[FileInput],
        *,
        publish: bool = False,
        batch_size: int = 20,
        on_result: Callable[[ImportResult], None] | None = None,
    ) -> list[ImportResult]:
        """Import any mix of FAQ files and documents, each to its importer, in batches of
        `batch_size` files a request. Returns one result per file, in the order given;
        `on_result` hears of each as its batch comes back."""
        results: list[ImportResult] = []
        for faq, batch in _batches(files, batch_size):
            upload = self.import_faq_files if faq else self.upload_documents
            for result in upload(collection_id, batch, publish=publish):
                results.append(result)
                if on_result is not None:
                    on_result(result)
        return results

    def export_faq(self, collection_id: Id, format: ExportFormat = "jsonl") -> bytes:
        """The newest content of the collection's FAQ entries (archived ones left out), as a
        file that imports back."""
        response = self._api.request(
            "GET",
            f"/api/v1/kb/collections/{collection_id}/faq-export",
            params={"format": format},
        )
        return response.content

    # -- indexing -----------------------------------------------------------------------------

    def wait_indexed(
        self,
        entry_ids: Sequence[Id],
        *,
        on_progress: Callable[[IndexProgress], None] | None = None,
        poll_interval: float = 0.5,
        timeout: float = 600.0,
    ) -> list[EntryDetail]:
        """Poll until every entry's indexing job has finished (`done` or `failed`).

        Returns the entries in their final state, in the order given; check `index_status` and
        `index_error` for failures. `on_progress` hears after every round of polling. Raises
        `TimeoutError` when the jobs have not finished within `timeout` seconds.
        """
        ids = list(dict.fromkeys(str(i) for i in entry_ids))
        finished: dict[str, EntryDetail] = {}
        pending = ids
        deadline = time.monotonic() + timeout
        while True:
            pending = self._poll_round(pending, finished)
            if on_progress is not None:
                failed = sum(e.index_status == IndexStatus.FAILED for e in finished.values())
                on_progress(IndexProgress(len(ids), len(finished) - failed, failed))
            if not pending:
                return [finished[i] for i in ids]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} entries not indexed after {timeout:.0f} s")
            time.sleep(poll_interval)

    def _poll_round(self, pending: list[str], finished: dict[str, EntryDetail]) -> list[str]:
        """Ask about pending entries in order until a few are seen waiting; return those left."""
        waiting: list[str] = []
        for position, entry_id in enumerate(pending):
            if len(waiting) == _PROBES_PER_ROUND:
                return waiting + pending[position:]
            entry = self.get_entry(entry_id)
            if entry.index_status in _FINISHED:
                finished[entry_id] = entry
            else:
                waiting.append(entry_id)
        return waiting
