"""A ticket's life over the real API: creation, changes under optimistic versioning, replies and
internal notes, status and the customer's view, files, history, merging."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from tests.conftest import Tenant
from tests.tickets.helpers import (
    customer,
    make_channel,
    make_team,
    make_ticket,
    ok,
    patch,
    user_id,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_create_numbers_and_assesses_priority(tenant: Tenant) -> None:
    first = make_ticket(tenant.client)
    second = make_ticket(
        tenant.client,
        subject="Charged twice!!! Fix this immediately",
        requester={"email": "Ann@Example.com", "name": "Ann"},
        tags=["billing", "billing"],
    )
    assert second["number"] == first["number"] + 1
    assert first["status"] == "new" and first["priority"] == "normal" and first["version"] == 1
    assert second["priority"] == "urgent" and second["tags"] == ["billing"]
    assert second["requester_id"] and second["language"] == "en"
    again = make_ticket(tenant.client, requester={"email": "ann@example.com"})
    assert again["requester_id"] == second["requester_id"]  # the same customer, found by e-mail
    listed = ok(tenant.client.get("/api/v1/tickets", params={"priority": "urgent"}))
    assert [t["id"] for t in listed] == [second["id"]]


def test_stale_version_is_a_conflict_and_nothing_is_lost(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    url = f"/api/v1/tickets/{ticket['id']}"
    first = ok(patch(tenant.client, ticket, subject="Login crash on Android"))
    assert first["version"] == 2
    stale = patch(tenant.client, ticket, priority="high")  # still sends version 1
    assert stale.status_code == 409 and "version 2" in stale.json()["error"]["message"]
    current = ok(tenant.client.get(url))
    assert current["subject"] == "Login crash on Android" and current["priority"] == "normal"
    assert ok(patch(tenant.client, current, priority="high"))["version"] == 3


def test_concurrent_edits_of_one_version_let_exactly_one_win(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    subjects = [f"edit {i}" for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda s: patch(tenant.client, ticket, subject=s), subjects))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409, 409, 409]
    winner = next(r.json() for r in results if r.status_code == 200)
    stored = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert stored["subject"] == winner["subject"] and stored["version"] == 2


def test_status_rules(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    solved = ok(patch(tenant.client, ticket, status="solved"))
    assert solved["solved_at"] is not None
    closed = ok(patch(tenant.client, solved, status="closed"))
    reopen = patch(tenant.client, closed, status="open")
    assert reopen.status_code == 409 and "closed" in reopen.json()["error"]["message"]
    note = tenant.client.post(
        f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "late", "public": False}
    )
    assert note.status_code == 409
    opened = ok(patch(tenant.client, make_ticket(tenant.client), status="open"))
    assert patch(tenant.client, opened, status="new").status_code == 409


def test_unknown_team_assignee_or_category_is_422_and_changes_nothing(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    unknown = "00000000-0000-0000-0000-000000000001"
    bad_fields: list[dict[str, Any]] = [
        {"team_id": unknown},
        {"assignee_id": unknown},
        {"category": "nope"},
        {"subject": None},
        {"tags": None},
        {"status": "done"},
    ]
    for fields in bad_fields:
        assert patch(tenant.client, ticket, **fields).status_code == 422
    stored = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert stored["version"] == 1 and stored["team_id"] is None
    for fields in ({"team_id": unknown}, {"category": "nope"}, {"assignee_id": unknown}):
        bad = tenant.client.post("/api/v1/tickets", json={"subject": "x", **fields})
        assert bad.status_code == 422, fields
    malformed = tenant.client.post(
        "/api/v1/tickets", json={"subject": "x", "requester": {"email": "not-an-address"}}
    )
    assert malformed.status_code == 422


def test_replies_reach_the_customer_and_notes_never_do(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    person = customer(base_url, channel)
    ticket = make_ticket(tenant.client, requester_id=person.contact_id)
    url = f"/api/v1/tickets/{ticket['id']}"
    note = ok(
        tenant.client.post(
            f"{url}/comments", json={"body": "Customer is on the old plan, secret", "public": False}
        ),
        201,
    )
    assert ok(tenant.client.get(url))["status"] == "new"  # a note is no first response
    upload = tenant.client.post(
        f"{url}/attachments", files={"file": ("log.txt", b"internal stack trace", "text/plain")}
    )
    internal_file = ok(upload, 201)
    ok(
        tenant.client.post(
            f"{url}/comments",
            json={"body": "internal log", "public": False, "attachment_ids": [internal_file["id"]]},
        ),
        201,
    )
    shot = ok(tenant.client.post(f"{url}/attachments", files={"file": ("s.png", PNG)}), 201)
    reply = ok(
        tenant.client.post(
            f"{url}/comments",
            json={
                "body": "We are on it, see the screenshot.",
                "public": True,
                "attachment_ids": [shot["id"]],
            },
        ),
        201,
    )
    agent_view = ok(tenant.client.get(url))
    assert agent_view["status"] == "open" and agent_view["first_responded_at"]
    assert [c["public"] for c in agent_view["comments"]] == [False, False, True]

    mine = ok(person.http.get("/api/v1/widget/tickets"))
    assert [t["id"] for t in mine] == [ticket["id"]]
    seen = ok(person.http.get(f"/api/v1/widget/tickets/{ticket['id']}"))
    assert [c["id"] for c in seen["comments"]] == [reply["id"]]
    assert "secret" not in str(seen) and "internal" not in str(seen)
    assert [a["id"] for a in seen["comments"][0]["attachments"]] == [shot["id"]]
    base = f"/api/v1/widget/tickets/{ticket['id']}/attachments"
    assert person.http.get(f"{base}/{shot['id']}").content == PNG
    assert person.http.get(f"{base}/{internal_file['id']}").status_code == 404
    assert note["id"] not in str(seen)


def test_customer_reply_reopens_a_pending_ticket(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    person = customer(base_url, channel)
    stranger = customer(base_url, channel)
    ticket = make_ticket(tenant.client, requester_id=person.contact_id)
    url = f"/api/v1/tickets/{ticket['id']}"
    ok(
        tenant.client.post(
            f"{url}/comments",
            json={"body": "Which phone?", "public": True, "status": "pending", "version": 1},
        ),
        201,
    )
    assert ok(tenant.client.get(url))["status"] == "pending"
    mine = f"/api/v1/widget/tickets/{ticket['id']}"
    assert stranger.http.get(mine).status_code == 404
    assert stranger.http.post(f"{mine}/replies", json={"body": "me too"}).status_code == 404
    ok(person.http.post(f"{mine}/replies", json={"body": "A Pixel 8"}), 201)
    after = ok(tenant.client.get(url))
    assert after["status"] == "open" and after["comments"][-1]["author_kind"] == "contact"
    assert ok(person.http.get(mine))["status"] == "open"


def test_attachments_are_checked(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    url = f"/api/v1/tickets/{ticket['id']}/attachments"
    big = b"a" * (10 * 1024 * 1024 + 1)
    too_big = tenant.client.post(url, files={"file": ("big.txt", big, "text/plain")})
    assert too_big.status_code == 413
    html = tenant.client.post(url, files={"file": ("x.html", b"<html><script>", "text/html")})
    assert html.status_code == 422
    assert ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))["comments"] == []


def test_history_records_every_change(tenant: Tenant) -> None:
    ticket = make_ticket(tenant.client)
    me = user_id(tenant.client)
    changed = ok(patch(tenant.client, ticket, assignee_id=me, tags=["app"]))
    ok(patch(tenant.client, changed, status="pending"))
    history = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}/history"))
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "created" and kinds.count("updated") == 2 and "assigned" in kinds
    first_update = next(e for e in history if e["kind"] == "updated")
    assert first_update["data"]["changes"]["tags"] == [[], ["app"]]
    assert first_update["actor"] == f"user:{me}"

    # Moved to a team where nobody can take it: the history still says who had it.
    nobody = make_team(tenant.client, [])
    pending = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    moved = ok(patch(tenant.client, pending, team_id=nobody))
    assert moved["assignee_id"] is None
    history = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}/history"))
    last = [e for e in history if e["kind"] == "updated"][-1]["data"]["changes"]
    assert last["assignee_id"] == [me, None] and last["team_id"] == [None, nobody]


def test_merge_moves_the_thread_and_closes_the_duplicate(tenant: Tenant) -> None:
    keep = make_ticket(tenant.client)
    dup = make_ticket(tenant.client, subject="Login crash again")
    ok(
        tenant.client.post(
            f"/api/v1/tickets/{dup['id']}/comments", json={"body": "logs attached", "public": False}
        ),
        201,
    )
    merged = ok(
        tenant.client.post(
            f"/api/v1/tickets/{dup['id']}/merge",
            json={"into_ticket_id": keep["id"], "version": dup["version"]},
        )
    )
    assert merged["id"] == keep["id"]
    bodies = [c["body"] for c in merged["comments"]]
    assert "logs attached" in bodies and any(f"#{dup['number']}" in b for b in bodies)
    assert ok(tenant.client.get(f"/api/v1/tickets/{dup['id']}"))["status"] == "closed"
