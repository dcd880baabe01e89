from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from knowdesk.kb.models import EntryKind, EntryStatus
from knowdesk.kb.schemas import (
    CategoryCreate,
    CategoryRead,
    CollectionCreate,
    CollectionRead,
    CollectionUpdate,
    DiffRead,
    EntryDetail,
    EntryRead,
    EntryUpdate,
    ExportFormat,
    FaqCreate,
    HistoryRead,
    ImportResult,
    IndexedUnitRead,
    ReviewDecision,
    ReviewRead,
    RollbackIn,
    RowErrorRead,
    UploadResult,
    VersionRead,
)
from knowdesk.kb.service import KB
from knowdesk.retrieval import index
from knowdesk.web.deps import CanReadKb, CanWriteKb, PrincipalDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])

EXPORT_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def _detail(kb: KB, entry_id: uuid.UUID) -> EntryDetail:
    entry = await kb.entries.get_or_raise(entry_id)
    return EntryDetail(
        **EntryRead.model_validate(entry).model_dump(),
        content=await kb.current_content(entry),
        published_content=await kb.published_content(entry),
    )


# -- collections and categories ------------------------------------------------------------


@router.get("/collections", response_model=list[CollectionRead], summary="List collections")
async def list_collections(principal: CanReadKb, session: SessionDep) -> list[CollectionRead]:
    rows = await KB(session, principal).collections.list()
    return [CollectionRead.model_validate(c) for c in sorted(rows, key=lambda c: c.name)]


@router.post(
    "/collections", response_model=CollectionRead, status_code=201, summary="Create a collection"
)
async def create_collection(
    body: CollectionCreate, principal: CanWriteKb, session: SessionDep
) -> CollectionRead:
    collection = await KB(session, principal).create_collection(
        name=body.name, description=body.description
    )
    return CollectionRead.model_validate(collection)


@router.get("/collections/{collection_id}", response_model=CollectionRead, summary="One collection")
async def get_collection(
    collection_id: uuid.UUID, principal: CanReadKb, session: SessionDep
) -> CollectionRead:
    return CollectionRead.model_validate(
        await KB(session, principal).collections.get_or_raise(collection_id)
    )


@router.patch(
    "/collections/{collection_id}",
    response_model=CollectionRead,
    summary="Rename or describe a collection",
)
async def update_collection(
    collection_id: uuid.UUID, body: CollectionUpdate, principal: CanWriteKb, session: SessionDep
) -> CollectionRead:
    collection = await KB(session, principal).collections.get_or_raise(collection_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(collection, field, value)
    return CollectionRead.model_validate(collection)


@router.get("/categories", response_model=list[CategoryRead], summary="The category taxonomy")
async def list_categories(principal: CanReadKb, session: SessionDep) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await KB(session, principal).categories.list()]


@router.post("/categories", response_model=CategoryRead, status_code=201, summary="Add a category")
async def create_category(
    body: CategoryCreate, principal: CanWriteKb, session: SessionDep
) -> CategoryRead:
    category = await KB(session, principal).create_category(
        kind=body.kind, name=body.name, parent_id=body.parent_id, keywords=body.keywords
    )
    return CategoryRead.model_validate(category)


# -- entries ---------------------------------------------------------------------------------


@router.get("/entries", response_model=list[EntryRead], summary="List and filter entries")
async def list_entries(
    principal: CanReadKb,
    session: SessionDep,
    collection_id: uuid.UUID | None = None,
    kind: EntryKind | None = None,
    status: EntryStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[EntryRead]:
    rows = await KB(session, principal).entries.search(
        collection_id=collection_id, kind=kind, status=status, text=q, limit=limit, offset=offset
    )
    return [EntryRead.model_validate(e) for e in rows]


@router.get("/review-queue", response_model=list[EntryRead], summary="Entries waiting for review")
async def review_queue(principal: CanReadKb, session: SessionDep) -> list[EntryRead]:
    rows = await KB(session, principal).entries.search(status=EntryStatus.IN_REVIEW, limit=1000)
    return [EntryRead.model_validate(e) for e in rows]


@router.get("/stale", response_model=list[EntryRead], summary="Entries past their review-by date")
async def stale_entries(
    principal: CanReadKb, session: SessionDep, on: date | None = None
) -> list[EntryRead]:
    rows = await KB(session, principal).entries.search(stale_on=on or date.today(), limit=1000)
    return [EntryRead.model_validate(e) for e in rows]


@router.post("/faq", response_model=EntryDetail, status_code=201, summary="Create an FAQ entry")
async def create_faq(body: FaqCreate, principal: CanWriteKb, session: SessionDep) -> EntryDetail:
    kb = KB(session, principal)
    entry = await kb.create_faq(
        collection_id=body.collection_id,
        question=body.question,
        similar=body.similar,
        answer=body.answer,
        external_id=body.external_id,
        category_id=body.category_id,
        tags=body.tags,
        owner_id=body.owner_id,
        review_by=body.review_by,
        publish=body.publish,
    )
    return await _detail(kb, entry.id)


@router.get(
    "/entries/{entry_id}",
    response_model=EntryDetail,
    summary="One entry with its content and index status",
)
async def get_entry(entry_id: uuid.UUID, principal: CanReadKb, session: SessionDep) -> EntryDetail:
    return await _detail(KB(session, principal), entry_id)


@router.patch(
    "/entries/{entry_id}", response_model=EntryDetail, summary="Edit an entry (makes a new version)"
)
async def update_entry(
    entry_id: uuid.UUID, body: EntryUpdate, principal: CanWriteKb, session: SessionDep
) -> EntryDetail:
    kb = KB(session, principal)
    await kb.update_entry(entry_id, body)
    return await _detail(kb, entry_id)


@router.delete("/entries/{entry_id}", status_code=204, summary="Delete an entry and its history")
async def delete_entry(entry_id: uuid.UUID, principal: CanWriteKb, session: SessionDep) -> Response:
    await KB(session, principal).delete(entry_id)
    return Response(status_code=204)


@router.post(
    "/entries/{entry_id}/submit", response_model=EntryDetail, summary="Send a draft to review"
)
async def submit(entry_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> EntryDetail:
    kb = KB(session, principal)
    await kb.submit_for_review(entry_id)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/approve", response_model=EntryDetail, summary="Approve and publish"
)
async def approve(
    entry_id: uuid.UUID, body: ReviewDecision, principal: PrincipalDep, session: SessionDep
) -> EntryDetail:
    kb = KB(session, principal)
    await kb.approve(entry_id, body.comment)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/reject",
    response_model=EntryDetail,
    summary="Send back to draft with a comment",
)
async def reject(
    entry_id: uuid.UUID, body: ReviewDecision, principal: PrincipalDep, session: SessionDep
) -> EntryDetail:
    kb = KB(session, principal)
    await kb.reject(entry_id, body.comment)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/publish",
    response_model=EntryDetail,
    summary="Publish without review (reviewers, owners)",
)
async def publish(entry_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> EntryDetail:
    kb = KB(session, principal)
    await kb.publish(entry_id)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/archive",
    response_model=EntryDetail,
    summary="Take out of customers' reach",
)
async def archive(entry_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> EntryDetail:
    kb = KB(session, principal)
    await kb.archive(entry_id)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/restore",
    response_model=EntryDetail,
    summary="Bring an archived entry back as a draft",
)
async def restore(entry_id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> EntryDetail:
    kb = KB(session, principal)
    await kb.restore(entry_id)
    return await _detail(kb, entry_id)


@router.post(
    "/entries/{entry_id}/rollback",
    response_model=EntryDetail,
    summary="New version with an old version's content",
)
async def rollback(
    entry_id: uuid.UUID, body: RollbackIn, principal: PrincipalDep, session: SessionDep
) -> EntryDetail:
    kb = KB(session, principal)
    await kb.rollback(entry_id, version=body.version, publish=body.publish)
    return await _detail(kb, entry_id)


@router.get(
    "/entries/{entry_id}/history", response_model=HistoryRead, summary="Versions and reviews"
)
async def history(entry_id: uuid.UUID, principal: CanReadKb, session: SessionDep) -> HistoryRead:
    versions, reviews = await KB(session, principal).history(entry_id)
    return HistoryRead(
        versions=[VersionRead.model_validate(v) for v in versions],
        reviews=[ReviewRead.model_validate(r) for r in reviews],
    )


@router.get(
    "/entries/{entry_id}/diff", response_model=DiffRead, summary="Differences between two versions"
)
async def diff(
    entry_id: uuid.UUID,
    principal: CanReadKb,
    session: SessionDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
) -> DiffRead:
    text = await KB(session, principal).diff(entry_id, from_version, to_version)
    return DiffRead(from_version=from_version, to_version=to_version, diff=text)


@router.get(
    "/entries/{entry_id}/units",
    response_model=list[IndexedUnitRead],
    summary="What the search index holds for the entry (questions, answer or chunks)",
)
async def indexed_units(
    entry_id: uuid.UUID, principal: CanReadKb, session: SessionDep
) -> list[IndexedUnitRead]:
    entry = await KB(session, principal).entries.get_or_raise(entry_id)
    units = await index.entry_units(session, principal.workspace_id, entry.id)
    return [
        IndexedUnitRead(
            id=u.id,
            kind=u.kind,
            ordinal=u.ordinal,
            text=u.text,
            heading_path=u.heading_path,
            page=u.page,
            content_hash=u.content_hash,
            entry_version=u.entry_version,
            embedded=u.embedding is not None,
        )
        for u in units
    ]


# -- files -----------------------------------------------------------------------------------


def _too_large(upload: UploadFile, limit: int) -> ImportResult | None:
    if upload.size is not None and upload.size > limit:
        message = f"{upload.filename}: larger than the upload limit of {limit // 2**20} MB"
        return ImportResult(
            filename=upload.filename or "",
            errors=[RowErrorRead(filename=upload.filename or "", message=message)],
        )
    return None


@router.post(
    "/collections/{collection_id}/faq-import",
    response_model=UploadResult,
    summary="Import FAQ files (JSONL, JSON, CSV, XLSX)",
    description="Entries are matched by their id in the file: new ids create entries, changed "
    "ones get a new version, equal ones stay as they are. Bad rows are reported with their row "
    "number and skipped; the other rows are imported.",
)
async def import_faq(
    collection_id: uuid.UUID,
    principal: CanWriteKb,
    session: SessionDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="One or more FAQ files")],
    publish: Annotated[bool, Form()] = False,
) -> UploadResult:
    kb = KB(session, principal)
    collection = await kb.collections.get_or_raise(collection_id)
    results = []
    for upload in files:
        rejected = _too_large(upload, settings.max_upload_bytes)
        if rejected:
            results.append(rejected)
            continue
        data = await upload.read()
        results.append(
            await kb.import_faq_file(collection, upload.filename or "upload", data, publish=publish)
        )
    return UploadResult(files=results)


@router.post(
    "/collections/{collection_id}/documents",
    response_model=UploadResult,
    summary="Upload documents (Markdown, HTML, PDF, DOCX, TXT)",
    description="A file whose name already exists in the collection becomes a new version of "
    "that document. Each file succeeds or fails on its own; failures name the file.",
)
async def upload_documents(
    collection_id: uuid.UUID,
    principal: CanWriteKb,
    session: SessionDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="One or more documents")],
    publish: Annotated[bool, Form()] = False,
) -> UploadResult:
    kb = KB(session, principal)
    collection = await kb.collections.get_or_raise(collection_id)
    results = []
    for upload in files:
        rejected = _too_large(upload, settings.max_upload_bytes)
        if rejected:
            results.append(rejected)
            continue
        data = await upload.read()
        results.append(
            await kb.upload_document(
                collection,
                upload.filename or "upload",
                data,
                max_bytes=settings.max_upload_bytes,
                publish=publish,
            )
        )
    return UploadResult(files=results)


@router.get(
    "/collections/{collection_id}/faq-export",
    summary="Export the collection's FAQ entries",
    response_class=Response,
    responses={200: {"content": {t: {} for t in EXPORT_TYPES.values()}}},
)
async def export_faq(
    collection_id: uuid.UUID,
    principal: CanReadKb,
    session: SessionDep,
    format: ExportFormat = "jsonl",
) -> Response:
    data = await KB(session, principal).export_faq(collection_id, format)
    return Response(
        data,
        media_type=EXPORT_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="faq.{format}"'},
    )
