"""Every ticket route is closed to other workspaces: 404, and nothing changes."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Tenant
from tests.tickets.helpers import customer, make_channel, make_team, make_ticket, ok

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def setup_of(tenant: Tenant, base_url: str) -> dict[str, Any]:
    """One of everything in `tenant`'s workspace."""
    client = tenant.client
    team = make_team(client, [])
    person = customer(base_url, make_channel(client))
    conversation = person.open_conversation()
    person.say(conversation, "My parcel never arrived")
    ticket = make_ticket(client, requester_id=person.contact_id, team_id=team)
    other_ticket = make_ticket(client)
    attachment = ok(
        client.post(f"/api/v1/tickets/{ticket['id']}/attachments", files={"file": ("a.png", PNG)}),
        201,
    )
    rule = ok(client.post("/api/v1/ticket-rules", json={"name": "r", "team_id": team}), 201)
    calendar = ok(
        client.post(
            "/api/v1/sla-calendars",
            json={"name": "office", "weekly": {"mon": [["09:00", "17:00"]]}},
        ),
        201,
    )
    policy = ok(
        client.post(
            "/api/v1/sla-policies",
            json={"name": "p", "priority": "low", "resolution_seconds": 3600},
        ),
        201,
    )
    category = ok(client.post("/api/v1/ticket-categories", json={"name": "refund"}), 201)
    example = ok(
        client.post(
            "/api/v1/ticket-examples",
            json={"examples": [{"text": "money back please", "category": "refund"}]},
        ),
        201,
    )[0]
    return {
        "team": team,
        "person": person,
        "conversation": conversation,
        "ticket": ticket,
        "other_ticket": other_ticket,
        "attachment": attachment,
        "rule": rule,
        "calendar": calendar,
        "policy": policy,
        "category": category,
        "example": example,
        "user": ok(client.get("/api/v1/me"))["user"]["id"],
    }


def test_another_workspace_gets_404_everywhere(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    mine = setup_of(tenant, base_url)
    t, v = mine["ticket"]["id"], mine["ticket"]["version"]
    intruder = other_tenant.client
    attempts: list[httpx.Response] = [
        intruder.get(f"/api/v1/tickets/{t}"),
        intruder.patch(f"/api/v1/tickets/{t}", json={"version": v, "subject": "mine now"}),
        intruder.post(f"/api/v1/tickets/{t}/comments", json={"body": "hi", "public": True}),
        intruder.get(f"/api/v1/tickets/{t}/history"),
        intruder.post(f"/api/v1/tickets/{t}/attachments", files={"file": ("x.png", PNG)}),
        intruder.get(f"/api/v1/tickets/{t}/attachments/{mine['attachment']['id']}"),
        intruder.post(
            f"/api/v1/tickets/{t}/merge",
            json={"into_ticket_id": mine["other_ticket"]["id"], "version": v},
        ),
        intruder.post(f"/api/v1/tickets/{t}/escalate", json={"version": v}),
        intruder.post(
            "/api/v1/tickets/from-conversation", json={"conversation_id": mine["conversation"]}
        ),
        intruder.put(
            f"/api/v1/ticket-rules/{mine['rule']['id']}", json={"name": "x", "tags": ["a"]}
        ),
        intruder.delete(f"/api/v1/ticket-rules/{mine['rule']['id']}"),
        intruder.put(
            f"/api/v1/sla-calendars/{mine['calendar']['id']}",
            json={"name": "x", "weekly": {"tue": [["09:00", "10:00"]]}},
        ),
        intruder.delete(f"/api/v1/sla-calendars/{mine['calendar']['id']}"),
        intruder.put(
            f"/api/v1/sla-policies/{mine['policy']['id']}",
            json={"name": "x", "priority": "low", "resolution_seconds": 1},
        ),
        intruder.delete(f"/api/v1/sla-policies/{mine['policy']['id']}"),
        intruder.put(
            f"/api/v1/ticket-categories/{mine['category']['id']}", json={"name": "refund"}
        ),
        intruder.delete(f"/api/v1/ticket-examples/{mine['example']['id']}"),
        intruder.get(f"/api/v1/ticket-teams/{mine['team']}"),
        intruder.put(f"/api/v1/ticket-teams/{mine['team']}", json={"strategy": "skills"}),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts), [
        (r.request.method, r.request.url.path, r.status_code)
        for r in attempts
        if r.status_code != 404
    ]
    # References to another workspace's rows are unknown (422), never used.
    refs = [
        intruder.post("/api/v1/tickets", json={"subject": "x", "team_id": mine["team"]}),
        intruder.post("/api/v1/tickets", json={"subject": "x", "assignee_id": mine["user"]}),
        intruder.post(
            "/api/v1/tickets", json={"subject": "x", "requester_id": mine["person"].contact_id}
        ),
        intruder.post(
            "/api/v1/tickets", json={"subject": "x", "conversation_ids": [mine["conversation"]]}
        ),
        intruder.post("/api/v1/ticket-rules", json={"name": "steal", "team_id": mine["team"]}),
        intruder.put(f"/api/v1/ticket-agents/{mine['user']}/skills", json={"skills": ["x"]}),
    ]
    assert [r.status_code for r in refs] == [422] * len(refs)
    for path in (
        "tickets",
        "ticket-rules",
        "sla-policies",
        "sla-calendars",
        "ticket-categories",
        "ticket-examples",
    ):
        assert ok(intruder.get(f"/api/v1/{path}")) == [], path

    stored = ok(tenant.client.get(f"/api/v1/tickets/{t}"))
    assert stored["version"] == v and stored["comments"] == [] and stored["status"] == "new"
    assert len(ok(tenant.client.get("/api/v1/ticket-rules"))) == 1
    assert len(ok(tenant.client.get("/api/v1/sla-policies"))) == 1
    assert len(ok(tenant.client.get("/api/v1/ticket-examples"))) == 1


def test_a_customer_of_another_workspace_cannot_see_or_answer(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    mine = setup_of(tenant, base_url)
    outsider = customer(base_url, make_channel(other_tenant.client))
    t = mine["ticket"]["id"]
    assert outsider.http.get(f"/api/v1/widget/tickets/{t}").status_code == 404
    assert (
        outsider.http.post(f"/api/v1/widget/tickets/{t}/replies", json={"body": "x"}).status_code
        == 404
    )
    assert ok(outsider.http.get("/api/v1/widget/tickets")) == []
    assert httpx.get(f"{base_url}/api/v1/widget/tickets").status_code == 422  # no tokens
    forged = mine["person"].http.get(
        "/api/v1/widget/tickets", headers={"X-Contact-Token": "forged"}
    )
    assert forged.status_code == 401
