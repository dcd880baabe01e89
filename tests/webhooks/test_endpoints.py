"""The webhooks API: owners only, checked URLs and events, and no way into another workspace."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import Tenant
from tests.webhooks.helpers import make_webhook, wait_finished
from tests.webhooks.receiver import Receiver


def test_owner_creates_lists_changes_and_deletes_a_webhook(tenant: Tenant) -> None:
    hook = make_webhook(
        tenant.client,
        "https://hooks.example.com/knowdesk",
        ["ticket.created", "ticket.created", "ticket.updated"],
        description="CRM",
    )
    assert hook["events"] == ["ticket.created", "ticket.updated"]
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    assert hook["active"] is True

    listed = tenant.client.get("/api/v1/webhooks").json()
    assert [h["id"] for h in listed] == [hook["id"]]

    r = tenant.client.patch(
        f"/api/v1/webhooks/{hook['id']}",
        json={"events": ["*"], "active": False, "secret": "x" * 20},
    )
    assert r.status_code == 200, r.text
    changed = tenant.client.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert (changed["events"], changed["active"], changed["secret"]) == (["*"], False, "x" * 20)
    assert changed["url"] == hook["url"]

    assert tenant.client.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert tenant.client.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    actions = [e["action"] for e in tenant.client.get("/api/v1/audit").json()]
    assert {"webhook.create", "webhook.update", "webhook.delete"} <= set(actions)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "http://",
        "example.com/hook",
        "http://exa mple.com/",
        "http://example.com:port/",
        "file:///etc/passwd",
    ],
)
def test_urls_that_are_not_http_are_refused(tenant: Tenant, url: str) -> None:
    r = tenant.client.post("/api/v1/webhooks", json={"url": url, "events": ["*"]})
    assert r.status_code == 422, r.text
    assert "http://" in r.json()["error"]["message"]


def test_unknown_events_are_refused_and_known_ones_listed(tenant: Tenant) -> None:
    r = tenant.client.post(
        "/api/v1/webhooks", json={"url": "https://example.com", "events": ["ticket.deleted"]}
    )
    assert r.status_code == 422
    assert "ticket.deleted" in r.json()["error"]["message"]
    hook = make_webhook(tenant.client, "https://example.com", ["*"])
    r = tenant.client.patch(f"/api/v1/webhooks/{hook['id']}", json={"url": "gopher://x"})
    assert r.status_code == 422

    names = [e["name"] for e in tenant.client.get("/api/v1/webhooks/events").json()]
    assert {"message.created", "conversation.handoff", "ticket.sla_warning"} <= set(names)


@pytest.mark.parametrize("role", ["agent", "editor", "reviewer"])
def test_only_owners_manage_webhooks(tenant: Tenant, role: str) -> None:
    hook = make_webhook(tenant.client, "https://example.com", ["*"])
    member = tenant.member(role)
    assert member.get("/api/v1/webhooks").status_code == 403
    assert member.get(f"/api/v1/webhooks/{hook['id']}").status_code == 403
    r = member.post("/api/v1/webhooks", json={"url": "https://example.com", "events": ["*"]})
    assert r.status_code == 403
    assert member.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 403


def test_another_workspace_cannot_see_or_touch_webhooks_or_deliveries(
    tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    hook = make_webhook(tenant.client, receiver.url, ["*"])
    delivery = tenant.client.post(f"/api/v1/webhooks/{hook['id']}/test").json()
    wait_finished(tenant.client, delivery["id"])
    other = other_tenant.client
    base = f"/api/v1/webhooks/{hook['id']}"

    assert other.get("/api/v1/webhooks").json() == []
    assert other.get(base).status_code == 404
    assert other.patch(base, json={"url": "https://evil.example.com"}).status_code == 404
    assert other.get(f"{base}/deliveries").status_code == 404
    assert other.post(f"{base}/test").status_code == 404
    assert other.get(f"/api/v1/webhooks/deliveries/{delivery['id']}").status_code == 404
    r = other.post(f"/api/v1/webhooks/deliveries/{delivery['id']}/redeliver")
    assert r.status_code == 404
    assert other.delete(base).status_code == 404

    # Nothing changed, nothing was sent again.
    assert tenant.client.get(base).json()["url"] == receiver.url
    assert len(tenant.client.get(f"{base}/deliveries").json()) == 1
    assert len(receiver.requests) == 1


def test_deleting_a_webhook_deletes_its_log(tenant: Tenant, receiver: Receiver) -> None:
    hook = make_webhook(tenant.client, receiver.url, ["*"])
    delivery = tenant.client.post(f"/api/v1/webhooks/{hook['id']}/test").json()
    wait_finished(tenant.client, delivery["id"])
    tenant.client.delete(f"/api/v1/webhooks/{hook['id']}")
    assert tenant.client.get(f"/api/v1/webhooks/deliveries/{delivery['id']}").status_code == 404


def test_delivery_log_filters_by_status(tenant: Tenant, receiver: Receiver) -> None:
    hook = make_webhook(tenant.client, receiver.url, ["*"])
    delivery = tenant.client.post(f"/api/v1/webhooks/{hook['id']}/test").json()
    wait_finished(tenant.client, delivery["id"])
    log = f"/api/v1/webhooks/{hook['id']}/deliveries"
    assert [d["id"] for d in tenant.client.get(log, params={"status": "delivered"}).json()] == [
        delivery["id"]
    ]
    assert tenant.client.get(log, params={"status": "failed"}).json() == []


def test_webhooks_need_a_signed_in_caller(base_url: str) -> None:
    assert httpx.get(f"{base_url}/api/v1/webhooks").status_code == 401
    r = httpx.post(f"{base_url}/api/v1/webhooks/deliveries/{uuid.uuid4()}/redeliver")
    assert r.status_code == 401
