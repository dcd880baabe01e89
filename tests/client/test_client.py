"""The Python SDK against the real session server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from knowdesk.accounts.models import Role
from knowdesk.client import IndexProgress, KnowdeskAPIError, KnowdeskClient
from knowdesk.kb.models import EntryKind, EntryStatus, IndexStatus
from tests.conftest import Tenant


def api_key(tenant: Tenant, role: str = "owner") -> str:
    r = tenant.client.post("/api/v1/api-keys", json={"name": "sdk", "role": role})
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


def faq_line(external_id: str, question: str, answer: str, similar: list[str]) -> str:
    record = {"id": external_id, "question": question, "answer": answer, "similar": similar}
    return json.dumps(record, ensure_ascii=False)


def test_import_files_and_wait_until_indexed(tenant: Tenant, base_url: str, tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    faq.write_text(
        faq_line("reset", "如何重置网关？", "按住复位孔 10 秒。", ["网关怎么恢复出厂设置"])
        + "\n"
        + '{"id": "broken", "question": "No answer here"}\n'
        + faq_line("ship", "How long does shipping take?", "Two to five days.", [])
        + "\n",
        encoding="utf-8",
    )
    guide = ("hub-guide.md", b"# Hub guide\n\n## Reset\n\nHold the reset pin for ten seconds.\n")

    with KnowdeskClient(base_url, api_key=api_key(tenant)) as kd:
        collection = kd.kb.ensure_collection("Support")
        assert kd.kb.ensure_collection("Support").id == collection.id
        heard: list[str] = []
        results = kd.kb.import_files(
            collection.id,
            [faq, guide],
            publish=True,
            batch_size=1,
            on_result=lambda r: heard.append(r.filename),
        )
        assert heard == ["faq.jsonl", "hub-guide.md"]
        faq_result, doc_result = results
        assert (faq_result.created, doc_result.created) == (2, 1)
        assert [(e.row, e.message) for e in faq_result.errors] == [(2, "the answer is missing")]

        progress: list[IndexProgress] = []
        ids = faq_result.entry_ids + doc_result.entry_ids
        entries = kd.kb.wait_indexed(ids, on_progress=progress.append, poll_interval=0.2)

        assert [e.id for e in entries] == ids
        assert all(e.index_status == IndexStatus.DONE for e in entries)
        assert progress[-1] == IndexProgress(total=3, done=3, failed=0)
        assert [p.finished for p in progress] == sorted(p.finished for p in progress)
        chunks = kd.kb.indexed_units(doc_result.entry_ids[0])
        assert [u.text for u in chunks] == ["Hold the reset pin for ten seconds."]
        assert all(u.embedded for u in chunks)

        documents = kd.kb.list_entries(collection_id=collection.id, kind=EntryKind.DOCUMENT)
        assert [d.external_id for d in documents] == ["hub-guide.md"]


def test_export_imports_back_unchanged(tenant: Tenant, base_url: str) -> None:
    with KnowdeskClient(base_url, api_key=api_key(tenant)) as kd:
        collection = kd.kb.create_collection("FAQ")
        kd.kb.create_faq(
            collection.id, question="退货期限是多久？", answer="签收后 30 天内。", external_id="r1"
        )
        for fmt in ("jsonl", "csv", "xlsx"):
            exported = kd.kb.export_faq(collection.id, fmt)
            (again,) = kd.kb.import_faq_files(collection.id, [(f"faq.{fmt}", exported)])
            assert (again.created, again.updated, again.unchanged) == (0, 0, 1), fmt


def test_login_workflow_history_and_rollback(tenant: Tenant, base_url: str) -> None:
    with KnowdeskClient(base_url) as owner:
        session = owner.accounts.login(tenant.owner_email, tenant.password)
        assert str(owner.accounts.workspace().id) == tenant.workspace_id
        assert session.memberships[0].role == Role.OWNER
        reviewer_email = f"rev-{uuid.uuid4().hex[:8]}@example.com"
        owner.accounts.add_member(
            email=reviewer_email, name="Reviewer", role=Role.REVIEWER, password=tenant.password
        )
        assert Role.REVIEWER in [m.role for m in owner.accounts.members()]
        collection = owner.kb.create_collection("Manuals")
        entry = owner.kb.create_faq(collection.id, question="Is there a warranty?", answer="Yes.")
        owner.kb.update_entry(entry.id, expected_version=1, answer="Two years.", note="exact")
        assert owner.kb.submit(entry.id).status == EntryStatus.IN_REVIEW

    with KnowdeskClient(base_url) as reviewer:
        reviewer.accounts.login(reviewer_email, tenant.password)
        rejected = reviewer.kb.reject(entry.id, "Say from when the two years count.")
        assert rejected.status == EntryStatus.DRAFT
        with pytest.raises(KnowdeskAPIError) as no_publish:
            reviewer.kb.create_faq(collection.id, question="Q?", answer="A.")
        assert no_publish.value.status == 403

    with KnowdeskClient(base_url, api_key=api_key(tenant)) as kd:
        history = kd.kb.history(entry.id)
        assert [(v.number, v.note) for v in history.versions] == [(1, "created"), (2, "exact")]
        assert [r.decision for r in history.reviews] == ["rejected"]
        assert "+Two years." in kd.kb.diff(entry.id, 1, 2).diff

        rolled = kd.kb.rollback(entry.id, 1, publish=True)
        assert (rolled.current_version, rolled.published_version) == (3, 3)
        assert rolled.content["answer"] == "Yes."
        assert kd.kb.archive(entry.id).status == EntryStatus.ARCHIVED
        assert kd.kb.restore(entry.id).status == EntryStatus.DRAFT
        assert kd.kb.publish(entry.id).status == EntryStatus.PUBLISHED


def test_errors_carry_the_servers_code_and_message(tenant: Tenant, base_url: str) -> None:
    with KnowdeskClient(base_url, api_key=api_key(tenant)) as kd:
        missing = uuid.uuid4()
        with pytest.raises(KnowdeskAPIError) as not_found:
            kd.kb.get_entry(missing)
        assert (not_found.value.status, not_found.value.code) == (404, "notfound")
        assert not_found.value.message == f"Entry {missing} not found"

        collection = kd.kb.create_collection("Policies")
        with pytest.raises(KnowdeskAPIError) as duplicate:
            kd.kb.create_collection("Policies")
        assert duplicate.value.status == 409
        assert duplicate.value.message == "A collection named 'Policies' already exists."

        with pytest.raises(KnowdeskAPIError) as invalid:
            kd.kb.create_faq(collection.id, question="", answer="x")
        assert (invalid.value.status, invalid.value.code) == (422, "validation")
        assert ["body", "question"] in [d["loc"] for d in invalid.value.details]

        entry = kd.kb.create_faq(collection.id, question="Q?", answer="A.")
        kd.kb.update_entry(entry.id, expected_version=1, answer="B.")
        with pytest.raises(KnowdeskAPIError) as stale:
            kd.kb.update_entry(entry.id, expected_version=1, answer="C.")
        assert stale.value.status == 409 and "version 2" in stale.value.message

    with KnowdeskClient(base_url) as anonymous:
        with pytest.raises(KnowdeskAPIError) as wrong_password:
            anonymous.accounts.login(tenant.owner_email, "not-the-password")
        assert wrong_password.value.status == 401
        assert wrong_password.value.message == "Wrong email or password."
        with pytest.raises(KnowdeskAPIError) as unauthenticated:
            anonymous.kb.list_collections()
        assert unauthenticated.value.status == 401
