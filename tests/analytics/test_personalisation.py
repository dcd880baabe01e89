"""Personalisation: suggested articles by page and history, the product's collection first in
answers, the agent's view of a contact, and a workspace's opt-out."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import httpx
import pytest

from knowdesk.analytics.personalisation import answer_for_contact, contact_products, page_words
from knowdesk.db.session import dispose_engine, transaction
from knowdesk.retrieval.answer import answer_question
from tests.analytics.activity import Json, activity, days_ago, make_channel, ok
from tests.conftest import Tenant
from tests.kb.helpers import make_collection, wait_indexed

KB = {
    "Lumio Cam": [
        ("How do I mount the Lumio Cam on a wall?", "Use the two screws in the box."),
        ("Why is the camera's night vision blurry?", "Wipe the lens and remove the film."),
        ("How do I reset the camera to factory settings?", "Hold its button for 10 s."),
    ],
    "Lumio Hub": [
        ("How do I connect the hub to Wi-Fi?", "Open the app and choose Add hub."),
        ("What do the hub's lights mean?", "Blue: online. Red: no network."),
        ("How do I reset the hub to factory settings?", "Press the pin hole for 5 s."),
    ],
    "Orders": [
        ("How long does shipping take?", "Three to five working days."),
        ("How do I return an item?", "Start a return in your order within 30 days."),
    ],
}


def build_kb(tenant: Tenant) -> dict[str, Any]:
    collections, entries = {}, {}
    for name, faqs in KB.items():
        collections[name] = make_collection(tenant.client, name)
        for question, reply in faqs:
            body = {
                "collection_id": collections[name],
                "question": question,
                "answer": reply,
                "publish": True,
            }
            entries[question] = ok(tenant.client.post("/api/v1/kb/faq", json=body), 201)["id"]
    for entry_id in entries.values():
        assert wait_indexed(tenant.client, entry_id)["index_status"] == "done"
    return {"collections": collections, "entries": entries}


def signed_customer(base_url: str, channel: Json, **attributes: Any) -> tuple[httpx.Client, str]:
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    signature = hmac.new(
        channel["identity_secret"].encode(), external_id.encode(), hashlib.sha256
    ).hexdigest()
    identity = {"external_id": external_id, "signature": signature, "attributes": attributes}
    headers = {"X-Widget-Token": channel["widget_token"]}
    session = ok(
        httpx.post(
            f"{base_url}/api/v1/widget/session", json={"identity": identity}, headers=headers
        )
    )
    client = httpx.Client(
        base_url=base_url,
        headers={**headers, "X-Contact-Token": session["contact_token"]},
        timeout=60,
    )
    return client, session["contact_id"]


def titles(suggestions: list[Json]) -> list[str]:
    return [s["title"] for s in suggestions]


async def test_suggestions_follow_the_page_and_the_customers_history(
    tenant: Tenant, base_url: str
) -> None:
    kb = build_kb(tenant)
    channel = make_channel(tenant, "web")
    customer, contact_id = signed_customer(base_url, channel, product="Lumio Hub", tier="gold")
    async with activity(tenant) as act:
        contact = await act.chat.contacts.get_or_raise(uuid.UUID(contact_id))
        story = await act.story(channel, contact, days_ago(3))
        await story.ask(0, "my hub keeps dropping off the wifi")
        await story.finish()
    ticket = {"subject": "Hub light blinks red all night", "requester_id": contact_id}
    ok(tenant.client.post("/api/v1/tickets", json=ticket), 201)

    anonymous = httpx.Client(
        base_url=base_url, headers={"X-Widget-Token": channel["widget_token"]}, timeout=60
    )
    returns = {"page_url": "https://shop.example.com/help/returns-and-refunds?utm_source=mail"}
    on_returns = ok(anonymous.get("/api/v1/widget/suggestions", params=returns))
    assert on_returns[0]["title"] == "How do I return an item?"
    assert on_returns[0]["reasons"][0] == "page"
    assert not {"history", "product"} & {r for s in on_returns for r in s["reasons"]}

    home: dict[str, str | int] = {"page_url": "https://shop.example.com/", "limit": 4}
    mine = ok(customer.get("/api/v1/widget/suggestions", params=home))
    assert len(mine) == 4
    hub = {q for q, _ in KB["Lumio Hub"]}
    assert set(titles(mine)[:2]) == {
        "How do I connect the hub to Wi-Fi?",
        "What do the hub's lights mean?",
    }
    assert titles(mine)[2] in hub  # the product's own articles before anything else
    assert "history" in mine[0]["reasons"] and "product" in mine[0]["reasons"]

    agent = tenant.member("agent")
    context = ok(agent.get(f"/api/v1/analytics/contacts/{contact_id}/context"))
    assert context["personalised"] is True and context["products"] == ["Lumio Hub"]
    assert context["preferred_collection_ids"] == [kb["collections"]["Lumio Hub"]]
    assert context["attributes"]["tier"] == "gold"
    assert [q["text"] for q in context["recent_questions"]] == [
        "my hub keeps dropping off the wifi"
    ]
    assert [t["subject"] for t in context["open_tickets"]] == [ticket["subject"]]
    assert context["suggestions"][0]["title"] in hub

    off = {"enabled": False, "product_attributes": ["product"]}
    assert agent.put("/api/v1/analytics/settings/personalisation", json=off).status_code == 403
    assert ok(tenant.client.put("/api/v1/analytics/settings/personalisation", json=off)) == off
    assert ok(agent.get("/api/v1/analytics/settings/personalisation")) == off
    plain = ok(customer.get("/api/v1/widget/suggestions", params=home))
    assert not {"history", "product"} & {r for s in plain for r in s["reasons"]}
    assert plain == ok(anonymous.get("/api/v1/widget/suggestions", params=home))
    context = ok(agent.get(f"/api/v1/analytics/contacts/{contact_id}/context"))
    assert context["personalised"] is False and context["preferred_collection_ids"] == []

    wrong = httpx.get(
        f"{base_url}/api/v1/widget/suggestions", headers={"X-Widget-Token": "wt_nope"}
    )
    assert wrong.status_code == 401
    forged = anonymous.get("/api/v1/widget/suggestions", headers={"X-Contact-Token": "x.y.z"})
    assert forged.status_code == 401


def wait_calibrated(client: httpx.Client, units: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = ok(client.get("/api/v1/retrieval/calibration"))
        if body["calibrated"] and body["units"] >= units:
            return
        time.sleep(0.5)
    raise AssertionError("the workspace was not calibrated")


async def test_answers_prefer_the_contacts_product(tenant: Tenant, base_url: str) -> None:
    kb = build_kb(tenant)
    wait_calibrated(tenant.client, units=2 * sum(len(f) for f in KB.values()))
    channel = make_channel(tenant, "web")
    _, owner_id = signed_customer(base_url, channel, products=["Lumio Hub"])
    _, stranger_id = signed_customer(base_url, channel)
    ws = uuid.UUID(tenant.workspace_id)
    question = "how do I reset it to factory settings"
    try:
        async with transaction() as session:
            anyone = await answer_question(session, ws, question)
            stranger = await answer_for_contact(
                session, ws, question, contact_id=uuid.UUID(stranger_id)
            )
            owner = await answer_for_contact(session, ws, question, contact_id=uuid.UUID(owner_id))
            covered = await answer_for_contact(
                session, ws, "How long does shipping take?", contact_id=uuid.UUID(owner_id)
            )
    finally:
        await dispose_engine()
    assert anyone.decision.value in ("clarify", "handoff")  # two products' reset look alike
    assert stranger == anyone
    assert owner.decision.value in ("direct", "grounded")
    assert (
        str(owner.sources[0].entry_id)
        == kb["entries"]["How do I reset the hub to factory settings?"]
    )
    assert covered.sources[0].collection_id == uuid.UUID(kb["collections"]["Orders"])


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (
            "https://shop.example.com/help/returns-and-refunds?utm_source=mail",
            "help returns and refunds",
        ),
        ("/zh-cn/products/lumio-hub/index.html", "products lumio hub"),
        ("https://example.com/search?q=%E9%80%80%E6%AC%BE&page=2", "search 退款"),
        ("https://example.com/orders/123456", "orders"),
        ("", ""),
    ],
)
def test_page_words(url: str, words: str) -> None:
    assert page_words(url) == words


def test_contact_products() -> None:
    attributes = {"product": "Lumio Hub", "products": ["Lumio Cam", 3, " ", "Lumio Hub"], "x": "y"}
    assert contact_products(attributes, ["product", "products"]) == ["Lumio Hub", "Lumio Cam"]
    assert contact_products({}, ["product"]) == []
