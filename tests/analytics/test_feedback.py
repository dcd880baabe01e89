"""The feedback loop: confirmed questions become similar questions of their entry, in review."""

from __future__ import annotations

import uuid
from typing import Any

from knowdesk.retrieval.schemas import Decision
from tests.analytics.activity import Json, activity, answer, days_ago, make_channel, ok
from tests.conftest import Tenant
from tests.kb.helpers import make_collection, make_faq, wait_indexed

HELPFUL = "I forgot my password and cannot log in"
CHOSEN = "Can I get my money back if I opened the box?"
LINKED = "my kettle broke after two days, what now"
FOLLOW_UP = "and on the app?"


def faq(client: Any, collection: str, question: str, similar: list[str], **kw: Any) -> Json:
    return make_faq(
        client, collection, question=question, similar=similar, answer=f"About: {question}", **kw
    )


async def test_confirmed_questions_become_similar_questions_in_review(tenant: Tenant) -> None:
    editor, reviewer, agent = (
        tenant.member("editor"),
        tenant.member("reviewer"),
        tenant.member("agent"),
    )
    collection = make_collection(tenant.client, "Help")
    password = faq(
        tenant.client, collection, "How do I reset my password?", ["forgot password"], publish=True
    )
    refund = faq(tenant.client, collection, "What is your refund policy?", [], publish=True)
    drafting = faq(tenant.client, collection, "Do you sell gift cards?", [])
    withdrawn = faq(tenant.client, collection, "Is the old app supported?", [], publish=True)
    ok(tenant.client.post(f"/api/v1/kb/entries/{withdrawn['id']}/archive"))
    ids = {name: uuid.UUID(e["id"]) for name, e in [("password", password), ("refund", refund)]}
    web = make_channel(tenant, "web")

    async with activity(tenant) as act:

        async def rated(
            question: str, entry: uuid.UUID, rating: str, resolved: str | None = None
        ) -> None:
            story = await act.story(web, await act.contact(), days_ago(1))
            await story.ask(0, question)
            result = answer(Decision.DIRECT, question=resolved or question, entry_id=entry)
            await story.rate(await story.bot(1, result), rating)
            await story.finish()

        await rated(HELPFUL, ids["password"], "helpful")
        await rated("Forgot  password", ids["password"], "helpful")  # the entry holds it already
        await rated("reset password please", ids["password"], "not_helpful")
        await rated(
            FOLLOW_UP, ids["password"], "helpful", resolved=f"reset the password {FOLLOW_UP}"
        )

        choice = await act.story(web, await act.contact(), days_ago(1))
        await choice.ask(0, CHOSEN)
        suggestions = [
            (ids["refund"], "What is your refund policy?"),
            (ids["password"], "How do I reset my password?"),
        ]
        await choice.bot(1, answer(Decision.CLARIFY, question=CHOSEN, suggestions=suggestions))
        await choice.ask(4, "What is your refund policy?")
        await choice.bot(
            5,
            answer(Decision.DIRECT, question="What is your refund policy?", entry_id=ids["refund"]),
        )
        await choice.finish()

        handed = await act.story(web, await act.contact(), days_ago(1))
        linked = await handed.ask(0, LINKED)
        drafty = await handed.ask(3, "gift cards for christmas?")
        stale = await handed.ask(4, "does the 2019 app still work")
        await handed.hand_off(5)
        await handed.finish()

    def record(client: Any, message: Any, entry: Json) -> Any:
        body = {"message_id": str(message.id), "entry_id": entry["id"]}
        return client.post("/api/v1/analytics/feedback", json=body)

    first = ok(record(agent, linked, refund), 201)
    assert first["source"] == "agent" and first["status"] == "pending"
    assert ok(record(agent, linked, refund), 201)["id"] == first["id"]  # said twice: once
    ok(record(agent, drafty, drafting), 201)
    ok(record(agent, stale, withdrawn), 201)

    pending = ok(tenant.client.get("/api/v1/analytics/feedback", params={"status": "pending"}))
    found = {(c["question"], c["source"]) for c in pending}
    assert found == {
        (HELPFUL, "helpful"),
        ("Forgot  password", "helpful"),
        (CHOSEN, "choice"),
        (LINKED, "agent"),
        ("gift cards for christmas?", "agent"),
        ("does the 2019 app still work", "agent"),
    }  # not the unhelpful answer, not the follow-up that needed the earlier turn

    assert agent.post("/api/v1/analytics/feedback/propose", json={}).status_code == 403
    result = ok(editor.post("/api/v1/analytics/feedback/propose", json={}))
    proposed = {p["entry_id"]: p for p in result["proposed"]}
    assert result["known"] == 1
    assert proposed[password["id"]]["questions"] == [HELPFUL]
    assert proposed[password["id"]]["status"] == "in_review"
    assert sorted(proposed[refund["id"]]["questions"]) == sorted([CHOSEN, LINKED])
    assert proposed[drafting["id"]]["status"] == "draft"  # stays with whoever writes it
    assert withdrawn["id"] not in proposed

    entry = ok(reviewer.get(f"/api/v1/kb/entries/{password['id']}"))
    assert entry["current_version"] == 2 and entry["published_version"] == 1
    assert entry["content"]["similar"] == ["forgot password", HELPFUL]
    assert entry["published_content"]["similar"] == ["forgot password"]  # live only when approved
    statuses = {
        c["question"]: (c["status"], c["proposed_version"])
        for c in ok(tenant.client.get("/api/v1/analytics/feedback"))
    }
    assert statuses[HELPFUL] == ("proposed", 2)
    assert statuses["Forgot  password"] == ("known", None)
    assert statuses["does the 2019 app still work"] == ("dismissed", None)
    assert ok(editor.post("/api/v1/analytics/feedback/propose", json={})) == {
        "proposed": [],
        "known": 0,
    }

    ok(reviewer.post(f"/api/v1/kb/entries/{password['id']}/approve", json={}))
    assert wait_indexed(reviewer, password["id"])["index_status"] == "done"
    units = ok(reviewer.get(f"/api/v1/kb/entries/{password['id']}/units"))
    assert HELPFUL in [u["text"] for u in units if u["kind"] == "similar"]


async def test_only_customer_questions_and_faq_entries_make_candidates(tenant: Tenant) -> None:
    collection = make_collection(tenant.client, "Help")
    entry = faq(tenant.client, collection, "How do I pair the camera?", [])
    web = make_channel(tenant, "web")
    async with activity(tenant) as act:
        story = await act.story(web, await act.contact(), days_ago(1))
        question = await story.ask(0, "camera pairing fails")
        reply = await story.bot(1, answer(Decision.GROUNDED, question="camera pairing fails"))
        await story.finish()
    agent = tenant.member("agent")

    def record(message_id: Any, entry_id: str) -> int:
        body = {"message_id": str(message_id), "entry_id": entry_id}
        return agent.post("/api/v1/analytics/feedback", json=body).status_code

    assert record(reply.id, entry["id"]) == 422  # the bot's own words are no customer question
    assert record(uuid.uuid4(), entry["id"]) == 404
    assert record(question.id, str(uuid.uuid4())) == 404
    candidate = ok(
        agent.post(
            "/api/v1/analytics/feedback",
            json={"message_id": str(question.id), "entry_id": entry["id"]},
        ),
        201,
    )
    dismiss = f"/api/v1/analytics/feedback/{candidate['id']}/dismiss"
    assert agent.post(dismiss).status_code == 403
    assert ok(tenant.client.post(dismiss))["status"] == "dismissed"
    assert tenant.client.post(dismiss).status_code == 409
