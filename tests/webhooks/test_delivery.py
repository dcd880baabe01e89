"""Events emitted by a service reach real HTTP receivers, signed, and failures are retried."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.webhooks.service import emit
from tests.conftest import Tenant, free_port
from tests.webhooks.conftest import TIMEOUT_SECONDS
from tests.webhooks.helpers import make_webhook, signature_is_valid, wait_finished
from tests.webhooks.receiver import Receiver
from tests.webhooks.server import OwnServer


def emit_now(
    server: OwnServer, workspace_id: str, event: str, payload: dict[str, Any]
) -> list[str]:
    async def work(session: AsyncSession) -> list[uuid.UUID]:
        return await emit(session, uuid.UUID(workspace_id), event, payload)

    return [str(i) for i in server.run(work)]


def test_emitted_event_arrives_signed(
    tenant: Tenant, webhook_server: OwnServer, receiver: Receiver
) -> None:
    secret = "s3cret-" + uuid.uuid4().hex
    hook = make_webhook(tenant.client, receiver.url + "/hook", ["ticket.created"], secret=secret)
    ticket_id = uuid.uuid4()
    payload = {"ticket_id": ticket_id, "subject": "路由器无法联网"}

    [delivery_id] = emit_now(webhook_server, tenant.workspace_id, "ticket.created", payload)

    [request] = receiver.wait_for(1)
    assert request.path == "/hook"
    assert request.headers["x-knowdesk-event"] == "ticket.created"
    assert request.headers["x-knowdesk-delivery"] == delivery_id
    assert abs(int(request.headers["x-knowdesk-timestamp"]) - time.time()) < 60
    assert signature_is_valid(request, secret)
    assert not signature_is_valid(request, secret + "x")
    body = json.loads(request.body)
    assert body["event"] == "ticket.created"
    assert body["workspace_id"] == tenant.workspace_id
    assert body["data"] == {"ticket_id": str(ticket_id), "subject": "路由器无法联网"}

    delivery = wait_finished(tenant.client, delivery_id)
    assert delivery["status"] == "delivered"
    assert delivery["webhook_id"] == hook["id"]
    assert [(a["number"], a["status_code"], a["error"]) for a in delivery["attempt_log"]] == [
        (1, 200, None)
    ]
    assert delivery["attempt_log"][0]["response"] == "ok"


def test_only_active_subscribed_webhooks_get_an_event(
    tenant: Tenant, webhook_server: OwnServer, receiver: Receiver
) -> None:
    subscribed = make_webhook(tenant.client, receiver.url + "/one", ["ticket.created"])
    everything = make_webhook(tenant.client, receiver.url + "/all", ["*"])
    other_event = make_webhook(tenant.client, receiver.url + "/other", ["message.created"])
    inactive = make_webhook(tenant.client, receiver.url + "/off", ["ticket.created"], active=False)

    ids = emit_now(webhook_server, tenant.workspace_id, "ticket.created", {"n": 1})

    assert len(ids) == 2
    assert sorted(r.path for r in receiver.wait_for(2)) == ["/all", "/one"]
    for hook, expected in [(subscribed, 1), (everything, 1), (other_event, 0), (inactive, 0)]:
        log = tenant.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert len(log) == expected, hook["url"]
    assert len({r.headers["x-knowdesk-delivery"] for r in receiver.requests}) == 2


def test_an_event_of_another_workspace_reaches_none_of_ours(
    tenant: Tenant, other_tenant: Tenant, webhook_server: OwnServer, receiver: Receiver
) -> None:
    make_webhook(tenant.client, receiver.url, ["*"])
    assert emit_now(webhook_server, other_tenant.workspace_id, "ticket.created", {}) == []


def test_emit_refuses_an_unknown_event(tenant: Tenant, webhook_server: OwnServer) -> None:
    with pytest.raises(ValueError, match="ticket.creatd"):
        emit_now(webhook_server, tenant.workspace_id, "ticket.creatd", {})


def test_failing_receiver_is_retried_until_it_answers(
    tenant: Tenant, webhook_server: OwnServer
) -> None:
    receiver = Receiver(fail_first=2, fail_status=503)
    try:
        hook = make_webhook(tenant.client, receiver.url, ["ticket.updated"])
        [delivery_id] = emit_now(webhook_server, tenant.workspace_id, "ticket.updated", {})

        delivery = wait_finished(tenant.client, delivery_id)

        assert delivery["status"] == "delivered"
        assert [(a["status_code"], a["error"]) for a in delivery["attempt_log"]] == [
            (503, "HTTP 503"),
            (503, "HTTP 503"),
            (200, None),
        ]
        assert delivery["attempt_log"][0]["response"] == "receiver says no"
        requests = receiver.wait_for(3)
        assert {r.headers["x-knowdesk-delivery"] for r in requests} == {delivery_id}
        assert all(signature_is_valid(r, hook["secret"]) for r in requests)
    finally:
        receiver.close()


def test_receiver_that_keeps_failing_is_given_up_and_can_be_redelivered(
    tenant: Tenant, webhook_server: OwnServer
) -> None:
    receiver = Receiver(fail_first=1000)
    try:
        make_webhook(tenant.client, receiver.url, ["ticket.sla_breached"])
        [delivery_id] = emit_now(
            webhook_server, tenant.workspace_id, "ticket.sla_breached", {"ticket": "T-1"}
        )

        failed = wait_finished(tenant.client, delivery_id)

        # The schedule is "1,1": a first attempt and two retries.
        assert failed["status"] == "failed"
        assert failed["attempts"] == 3
        assert [a["status_code"] for a in failed["attempt_log"]] == [500, 500, 500]
        assert failed["next_attempt_at"] is None
        assert failed["failure_reason"] == "Gave up after 3 attempts."

        receiver.fail_first = 0
        r = tenant.client.post(f"/api/v1/webhooks/deliveries/{delivery_id}/redeliver")
        assert r.status_code == 202, r.text
        again = wait_finished(tenant.client, r.json()["id"])
        assert again["status"] == "delivered"
        assert again["redelivery_of"] == delivery_id
        assert again["event_id"] == failed["event_id"]
        assert json.loads(receiver.requests[-1].body)["data"] == {"ticket": "T-1"}
    finally:
        receiver.close()


def test_unreachable_and_slow_receivers_are_logged_with_their_error(
    tenant: Tenant, webhook_server: OwnServer
) -> None:
    slow = Receiver(delay=TIMEOUT_SECONDS + 2)
    try:
        make_webhook(tenant.client, f"http://127.0.0.1:{free_port()}/gone", ["message.created"])
        make_webhook(tenant.client, slow.url, ["message.created"])
        ids = emit_now(webhook_server, tenant.workspace_id, "message.created", {})

        gone, late = (wait_finished(tenant.client, i, timeout=60) for i in ids)
    finally:
        slow.close()

    by_url = {d["webhook_id"]: d for d in (gone, late)}
    assert all(d["status"] == "failed" for d in by_url.values())
    errors = sorted(a["error"] for d in by_url.values() for a in d["attempt_log"])
    assert errors.count(f"No answer within {TIMEOUT_SECONDS} s.") == 3
    assert sum(e.startswith("ConnectError") for e in errors) == 3
    assert all(a["status_code"] is None for d in by_url.values() for a in d["attempt_log"])


def test_ping_reaches_a_webhook_whatever_it_subscribes_to(
    tenant: Tenant, receiver: Receiver
) -> None:
    hook = make_webhook(tenant.client, receiver.url, ["ticket.created"], active=False)

    r = tenant.client.post(f"/api/v1/webhooks/{hook['id']}/test")

    assert r.status_code == 202, r.text
    [request] = receiver.wait_for(1)
    assert request.headers["x-knowdesk-event"] == "ping"
    assert json.loads(request.body)["data"]["webhook_id"] == hook["id"]
    assert signature_is_valid(request, hook["secret"])
    assert wait_finished(tenant.client, r.json()["id"])["status"] == "delivered"
