"""Chat tells a workspace's webhooks about its messages, hand-offs and resolutions."""

from __future__ import annotations

import json
from typing import Any

from tests.chat.helpers import ask_for_a_person, make_channel
from tests.conftest import Tenant
from tests.webhooks.helpers import make_webhook, signature_is_valid
from tests.webhooks.receiver import Receiver

CHAT_EVENTS = ["message.created", "conversation.handoff", "conversation.resolved"]


def events_received(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


def test_a_conversation_reaches_the_webhook_from_first_message_to_resolution(
    tenant: Tenant, base_url: str, receiver: Receiver
) -> None:
    hook = make_webhook(tenant.client, receiver.url, CHAT_EVENTS)
    channel = make_channel(tenant.client)
    sock, cid = ask_for_a_person(base_url, channel, text="转人工 <b>now</b>")
    sock.close()
    r = tenant.client.post(f"/api/v1/chat/conversations/{cid}/resolve")
    assert r.status_code == 200, r.text

    # Customer message, hand-off notice, hand-off, resolution notice, resolution (at least).
    receiver.wait_for(5)
    while not any(e["event"] == "conversation.resolved" for e in events_received(receiver)):
        receiver.wait_for(len(receiver.requests) + 1)
    received = events_received(receiver)
    assert all(signature_is_valid(r, hook["secret"]) for r in receiver.requests)
    assert {e["event"] for e in received} == set(CHAT_EVENTS)

    customer_says = [
        e["data"]["message"]
        for e in received
        if e["event"] == "message.created" and e["data"]["message"]["sender_kind"] == "contact"
    ]
    assert [m["text"] for m in customer_says] == ["转人工 <b>now</b>"]  # as sent, not escaped
    assert all(e["data"]["conversation_id"] == cid for e in received)
    handoff = next(e["data"] for e in received if e["event"] == "conversation.handoff")
    assert handoff["conversation"]["state"] == "queued" and handoff["reason"] == "customer_asked"
    resolved = next(e["data"] for e in received if e["event"] == "conversation.resolved")
    assert resolved["conversation"]["state"] == "resolved"


def test_chat_events_of_another_workspace_reach_none_of_ours(
    tenant: Tenant, other_tenant: Tenant, base_url: str, receiver: Receiver
) -> None:
    hook = make_webhook(tenant.client, receiver.url, ["*"])
    channel = make_channel(other_tenant.client)
    sock, cid = ask_for_a_person(base_url, channel)
    sock.close()
    assert other_tenant.client.post(f"/api/v1/chat/conversations/{cid}/resolve").is_success
    # A ping sent after it all arrives alone: nothing of the other workspace came before it.
    assert tenant.client.post(f"/api/v1/webhooks/{hook['id']}/test").is_success
    receiver.wait_for(1)
    assert [e["event"] for e in events_received(receiver)] == ["ping"]
