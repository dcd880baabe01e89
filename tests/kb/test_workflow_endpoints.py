"""The review workflow, versions, history, rollback and stale listing over the real API."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import Tenant
from tests.kb.helpers import make_collection, make_faq, wait_indexed


def test_draft_review_reject_approve_publish(tenant: Tenant) -> None:
    editor, reviewer, agent = (
        tenant.member("editor"),
        tenant.member("reviewer"),
        tenant.member("agent"),
    )
    collection = make_collection(editor)
    entry = make_faq(editor, collection)
    assert entry["status"] == "draft" and entry["published_version"] is None
    assert entry["keywords"] and entry["language"] == "zh"

    entry_url = f"/api/v1/kb/entries/{entry['id']}"
    assert editor.post(f"{entry_url}/approve", json={}).status_code == 403  # editors don't review
    assert editor.post(f"{entry_url}/submit").json()["status"] == "in_review"
    assert agent.post(f"{entry_url}/approve", json={}).status_code == 403
    assert [e["id"] for e in reviewer.get("/api/v1/kb/review-queue").json()] == [entry["id"]]

    no_reason = reviewer.post(f"{entry_url}/reject", json={"comment": " "})
    assert no_reason.status_code == 422
    rejected = reviewer.post(f"{entry_url}/reject", json={"comment": "写清楚默认密码在哪里"})
    assert rejected.json()["status"] == "draft"

    edited = editor.patch(
        entry_url,
        json={"expected_version": 1, "answer": "按住复位键 10 秒；默认密码印在底部标签上。"},
    ).json()
    assert edited["current_version"] == 2
    editor.post(f"{entry_url}/submit")
    approved = reviewer.post(f"{entry_url}/approve", json={"comment": "好"}).json()
    assert approved["status"] == "published" and approved["published_version"] == 2

    indexed = wait_indexed(editor, entry["id"])
    assert indexed["index_status"] == "done", indexed["index_error"]
    units = editor.get(f"{entry_url}/units").json()
    assert [u["kind"] for u in units] == ["question", "similar", "similar", "answer"]
    assert all(u["embedded"] and u["entry_version"] == 2 for u in units)

    history = editor.get(f"{entry_url}/history").json()
    assert [v["number"] for v in history["versions"]] == [1, 2]
    assert [(r["decision"], r["version"]) for r in history["reviews"]] == [
        ("rejected", 1),
        ("approved", 2),
    ]


def test_editing_live_content_keeps_the_published_version_until_approved(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    entry = make_faq(tenant.client, collection, publish=True)
    url = f"/api/v1/kb/entries/{entry['id']}"
    assert entry["status"] == "published"
    wait_indexed(tenant.client, entry["id"])

    changed = tenant.client.patch(url, json={"expected_version": 1, "answer": "新的答案"}).json()
    assert changed["status"] == "draft"
    assert changed["published_version"] == 1
    assert changed["published_content"]["answer"].startswith("按住复位键")
    units = tenant.client.get(f"{url}/units").json()
    assert all(u["entry_version"] == 1 for u in units)  # customers still get the reviewed text


def test_stale_edit_is_a_conflict_not_a_lost_update(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    entry = make_faq(tenant.client, collection)
    url = f"/api/v1/kb/entries/{entry['id']}"
    first = tenant.client.patch(url, json={"expected_version": 1, "answer": "A"})
    assert first.status_code == 200
    second = tenant.client.patch(url, json={"expected_version": 1, "answer": "B"})
    assert second.status_code == 409
    assert tenant.client.get(url).json()["content"]["answer"] == "A"


def test_diff_and_rollback(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    entry = make_faq(tenant.client, collection, publish=True)
    url = f"/api/v1/kb/entries/{entry['id']}"
    tenant.client.patch(url, json={"expected_version": 1, "answer": "错误的答案", "note": "oops"})

    diff = tenant.client.get(f"{url}/diff", params={"from": 1, "to": 2}).json()["diff"]
    assert "-按住复位键 10 秒，然后用默认密码 admin 登录。" in diff
    assert "+错误的答案" in diff
    assert tenant.client.get(f"{url}/diff", params={"from": 1, "to": 9}).status_code == 422

    rolled = tenant.client.post(f"{url}/rollback", json={"version": 1, "publish": True}).json()
    assert rolled["current_version"] == 3 and rolled["published_version"] == 3
    assert rolled["content"]["answer"] == entry["content"]["answer"]
    assert wait_indexed(tenant.client, entry["id"])["index_status"] == "done"
    texts = [u["text"] for u in tenant.client.get(f"{url}/units").json()]
    assert entry["content"]["answer"] in texts and "错误的答案" not in texts


def test_archive_removes_from_index_and_restore_returns_a_draft(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    entry = make_faq(tenant.client, collection, publish=True)
    url = f"/api/v1/kb/entries/{entry['id']}"
    wait_indexed(tenant.client, entry["id"])
    assert tenant.client.get(f"{url}/units").json()

    assert tenant.client.post(f"{url}/archive").json()["status"] == "archived"
    wait_indexed(tenant.client, entry["id"])
    assert tenant.client.get(f"{url}/units").json() == []
    restored = tenant.client.post(f"{url}/restore").json()
    assert restored["status"] == "draft" and restored["published_version"] is None


def test_stale_listing_by_review_date(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    overdue = make_faq(tenant.client, collection, review_by=str(date.today() - timedelta(days=1)))
    make_faq(
        tenant.client,
        collection,
        review_by=str(date.today() + timedelta(days=30)),
        question="退货政策是什么？",
    )
    stale = tenant.client.get("/api/v1/kb/stale").json()
    assert [e["id"] for e in stale] == [overdue["id"]]


def test_audit_log_shows_the_workflow(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    entry = make_faq(tenant.client, collection)
    url = f"/api/v1/kb/entries/{entry['id']}"
    tenant.client.post(f"{url}/submit")
    tenant.client.post(f"{url}/approve", json={"comment": "ok"})
    events = tenant.client.get("/api/v1/audit", params={"target_id": entry["id"]}).json()
    assert [e["action"] for e in events][::-1] == ["entry.create", "entry.submit", "entry.publish"]


def test_bad_requests_get_clear_errors(tenant: Tenant) -> None:
    collection = make_collection(tenant.client)
    r = tenant.client.post(
        "/api/v1/kb/faq", json={"collection_id": collection, "question": "", "answer": "x"}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation"
    missing = tenant.client.get("/api/v1/kb/entries/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert tenant.client.post("/api/v1/kb/collections", json={"name": "Manuals"}).status_code == 409
