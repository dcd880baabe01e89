"""Every analytics route, from another workspace: it neither reads nor changes this one's data."""

from __future__ import annotations

from typing import Any

import httpx

from knowdesk.analytics.export import TABLES
from knowdesk.retrieval.schemas import Decision
from tests.analytics.activity import activity, answer, days_ago, make_channel, make_person, ok
from tests.conftest import Tenant
from tests.kb.helpers import make_collection, make_faq

QUESTION = "Can the kettle boil milk?"


async def test_another_workspace_sees_and_changes_nothing(
    tenant: Tenant, other_tenant: Tenant, base_url: str
) -> None:
    collection = make_collection(tenant.client, "Kitchen")
    entry = make_faq(
        tenant.client,
        collection,
        question="Kettle care",
        similar=[],
        answer="Descale monthly.",
        publish=True,
    )
    agent = make_person(tenant)
    web = make_channel(tenant, "web")
    async with activity(tenant) as act:
        await act.on_duty(agent)
        contact = await act.contact("Ann", product="kettle")
        story = await act.story(web, contact, days_ago(1))
        asked = await story.ask(0, QUESTION)
        await story.bot(1, answer(Decision.HANDOFF, question=QUESTION))
        await story.hand_off(2)
        await story.take(5, agent)
        await story.reply(10, agent, "Only water, please.")
        await story.resolve(60, agent)
        await story.finish()
        conversation_id = story.conversation.id
    ticket = ok(tenant.client.post("/api/v1/tickets", json={"subject": "Broken lid"}), 201)
    url = f"/api/v1/tickets/{ticket['id']}"
    ok(tenant.client.patch(url, json={"version": ticket["version"], "status": "solved"}))
    candidate = ok(
        agent.client.post(
            "/api/v1/analytics/feedback",
            json={"message_id": str(asked.id), "entry_id": entry["id"]},
        ),
        201,
    )
    mine = ok(tenant.client.get("/api/v1/analytics/metrics"))["summary"]
    assert mine["conversations"] == 1 and mine["handed_off"] == 1

    outsider = other_tenant.client
    their_collection = make_collection(outsider, "Theirs")
    theirs = ok(outsider.get("/api/v1/analytics/metrics"))["summary"]
    assert theirs["conversations"] == 0 and theirs["handed_off"] == 0
    for table in TABLES:
        exported = outsider.get(f"/api/v1/analytics/export/{table}.csv")
        assert exported.status_code == 200, table
        assert QUESTION not in exported.text and "Ann" not in exported.text
    assert ok(outsider.get("/api/v1/analytics/gaps"))["topics"] == []
    assert ok(outsider.get("/api/v1/analytics/feedback")) == []

    def refused(response: httpx.Response) -> None:
        assert response.status_code == 404, response.text

    refused(
        outsider.post(
            "/api/v1/analytics/gaps/draft",
            json={"message_ids": [str(asked.id)], "collection_id": their_collection},
        )
    )
    refused(
        outsider.post(
            "/api/v1/analytics/drafts/from-conversation",
            json={"conversation_id": str(conversation_id), "collection_id": their_collection},
        )
    )
    refused(
        outsider.post(
            "/api/v1/analytics/drafts/from-ticket",
            json={"ticket_id": ticket["id"], "collection_id": their_collection},
        )
    )
    refused(
        outsider.post(
            "/api/v1/analytics/feedback",
            json={"message_id": str(asked.id), "entry_id": entry["id"]},
        )
    )
    refused(outsider.post(f"/api/v1/analytics/feedback/{candidate['id']}/dismiss"))
    refused(outsider.get(f"/api/v1/analytics/contacts/{contact.id}/context"))
    proposed = ok(
        outsider.post("/api/v1/analytics/feedback/propose", json={"entry_ids": [entry["id"]]})
    )
    assert proposed == {"proposed": [], "known": 0}
    off: dict[str, Any] = {"enabled": False, "product_attributes": ["product"]}
    assert (
        ok(outsider.put("/api/v1/analytics/settings/personalisation", json=off))["enabled"] is False
    )

    # This workspace's data is as it was.
    assert ok(tenant.client.get("/api/v1/analytics/settings/personalisation"))["enabled"] is True
    pending = ok(tenant.client.get("/api/v1/analytics/feedback"))
    assert [(c["id"], c["status"]) for c in pending] == [(candidate["id"], "pending")]
    assert ok(tenant.client.get(f"/api/v1/kb/entries/{entry['id']}"))["current_version"] == 1
    context = ok(tenant.client.get(f"/api/v1/analytics/contacts/{contact.id}/context"))
    assert context["contact_id"] == str(contact.id)

    # A widget of the other workspace is offered none of this workspace's articles.
    their_channel = ok(outsider.post("/api/v1/chat/channels", json={"name": "w"}), 201)
    offered = httpx.get(
        f"{base_url}/api/v1/widget/suggestions",
        headers={"X-Widget-Token": their_channel["widget_token"]},
        params={"page_url": "https://shop.example/kettle"},
    )
    assert offered.status_code == 200, offered.text
    assert all(a["entry_id"] != entry["id"] for a in offered.json())
