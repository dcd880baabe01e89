"""Knowledge gaps from real-looking Chinese and English questions the bot failed, and the path
from a gap topic (or a resolved conversation, or a solved ticket) to a draft FAQ in review."""

from __future__ import annotations

import uuid
from typing import Any

from knowdesk.retrieval.schemas import Decision
from tests.analytics.activity import (
    Activity,
    Json,
    Person,
    activity,
    answer,
    days_ago,
    make_channel,
    make_person,
    ok,
)
from tests.conftest import Tenant
from tests.kb.helpers import make_collection

REFUND = [
    "退款什么时候到账？",
    "我申请的退款多久能退到银行卡",
    "退款已经一周了还没到账",
    "退货以后钱多久能退回来",
]
INVOICE = ["怎么开发票？", "发票怎么开", "如何申请开具发票"]
SHIPPING = [
    "Do you ship to Canada?",
    "Can I get my order delivered to Germany?",
    "Is international shipping available?",
]
CANCEL = ["How do I cancel my subscription?", "Please cancel my membership"]
ALONE = ["你们周末有人上班吗", "What's the warranty on the charger cable?"]
TRUE_TOPIC = {
    q: name
    for name, questions in {
        "refund": REFUND,
        "invoice": INVOICE,
        "shipping": SHIPPING,
        "cancel": CANCEL,
    }.items()
    for q in questions
}
REFUND_ANSWER = "退款会在审核通过后 3 到 5 个工作日内原路退回，银行卡到账时间以银行为准。"
SETTLED = "What is your refund policy for opened items?"  # the customer picked a suggestion
CONFIRMED = "How do I reset my password?"  # answered, and rated helpful


async def handed_off(act: Activity, channel: Json, question: str, days: float, **kw: Any) -> None:
    """The bot had no answer; a person took over and, if `reply` is given, answered."""
    story = await act.story(channel, await act.contact(), days_ago(days))
    await story.ask(0, question)
    await story.hand_off(2)
    agent: Person | None = kw.get("agent")
    if agent is not None:
        await story.take(20, agent)
        await story.reply(80, agent, kw["reply"])
        await story.resolve(400, agent)
    await story.finish()


async def generate(tenant: Tenant) -> Person:
    agent = make_person(tenant)
    web = make_channel(tenant, "web")
    async with activity(tenant) as act:
        # Refunds: once three weeks ago, three times in the last two days (a rising topic).
        await handed_off(act, web, REFUND[0], 20, agent=agent, reply=REFUND_ANSWER)
        await handed_off(act, web, REFUND[1], 2, agent=agent, reply=REFUND_ANSWER)
        await handed_off(act, web, REFUND[3], 1, agent=agent, reply="退货入库后我们会尽快退款。")
        unhelpful = await act.story(web, await act.contact(), days_ago(1))
        await unhelpful.ask(0, REFUND[2])
        reply = await unhelpful.bot(1, answer(Decision.GROUNDED, question=REFUND[2]))
        await unhelpful.rate(reply, "not_helpful")
        await unhelpful.finish()
        for question, days in zip(INVOICE, (13, 16, 18), strict=True):  # steady, not rising
            await handed_off(
                act, web, question, days, agent=agent, reply="在订单详情页点“申请发票”。"
            )
        for i, question in enumerate(SHIPPING):
            unsure = await act.story(web, await act.contact(), days_ago(3 + i))
            await unsure.ask(0, question)
            suggestion = (uuid.uuid4(), "How long does shipping take?")
            await unsure.bot(
                1, answer(Decision.CLARIFY, question=question, suggestions=[suggestion])
            )
            await unsure.finish()
        for question in [*CANCEL, *ALONE]:
            await handed_off(act, web, question, 4)

        settled = await act.story(web, await act.contact(), days_ago(1))
        await settled.ask(0, SETTLED)
        entry = uuid.uuid4()
        await settled.bot(
            1, answer(Decision.CLARIFY, question=SETTLED, suggestions=[(entry, "Refund policy")])
        )
        await settled.ask(5, "Refund policy")
        await settled.bot(6, answer(Decision.DIRECT, question="Refund policy", entry_id=entry))
        await settled.finish()

        confirmed = await act.story(web, await act.contact(), days_ago(1))
        await confirmed.ask(0, CONFIRMED)
        direct = await confirmed.bot(1, answer(Decision.DIRECT, question=CONFIRMED, entry_id=entry))
        await confirmed.rate(direct, "helpful")
        await confirmed.finish()
    return agent


def topic_of(report: Json, question: str) -> Json:
    return next(t for t in report["topics"] if question in [q["text"] for q in t["questions"]])


def texts(topic: Json) -> set[str]:
    return {q["text"] for q in topic["questions"]}


async def test_failed_questions_cluster_into_topics(tenant: Tenant) -> None:
    await generate(tenant)
    report = ok(tenant.client.get("/api/v1/analytics/gaps"))
    failed = [q["text"] for t in report["topics"] for q in t["questions"]]
    assert sorted(failed) == sorted([*REFUND, *INVOICE, *SHIPPING, *CANCEL, *ALONE])
    assert report["questions"] == len(failed) and report["pending"] == 0
    assert SETTLED not in failed and CONFIRMED not in failed  # the bot did not fail those

    refund, invoice, shipping = (
        topic_of(report, REFUND[0]),
        topic_of(report, INVOICE[0]),
        topic_of(report, SHIPPING[0]),
    )
    assert texts(refund) == set(REFUND) and texts(invoice) == set(INVOICE)
    assert texts(shipping) == set(SHIPPING)
    for topic in report["topics"]:  # no topic mixes subjects
        assert len({TRUE_TOPIC.get(q["text"], q["text"]) for q in topic["questions"]}) == 1
    assert "退款" in refund["keywords"] and "发票" in invoice["keywords"]
    assert refund["language"] == "zh" and shipping["language"] == "en"

    assert report["topics"][0]["key"] == refund["key"]  # the largest first
    assert refund["count"] == 4 and refund["conversations"] == 4
    assert refund["answered_by_agents"] == 3 and refund["rising"] is True
    assert sum(refund["series"]) == 4 and len(refund["series"]) == len(report["buckets"])
    assert refund["series"][-3:] != [0, 0, 0] and refund["growth"] > 1
    assert invoice["rising"] is False
    signals = {q["text"]: q["signals"] for t in report["topics"] for q in t["questions"]}
    assert signals[REFUND[2]] == ["unhelpful"] and signals[REFUND[0]] == ["handoff"]
    assert signals[SHIPPING[0]] == ["low_confidence"]
    answers = {q["text"]: q["agent_answer"] for q in refund["questions"]}
    assert answers[REFUND[0]] == REFUND_ANSWER and answers[REFUND[2]] is None

    rising = ok(tenant.client.get("/api/v1/analytics/gaps", params={"sort": "rising"}))
    risen = [t["key"] for t in rising["topics"] if t["rising"]]
    assert risen == [shipping["key"], refund["key"]]  # new this fortnight, then doubled
    frequent = ok(tenant.client.get("/api/v1/analytics/gaps", params={"min_count": 3}))
    assert {t["key"] for t in frequent["topics"]} == {
        refund["key"],
        invoice["key"],
        shipping["key"],
    }
    recent = ok(
        tenant.client.get(
            "/api/v1/analytics/gaps", params={"start": days_ago(2).date().isoformat()}
        )
    )
    assert sorted(q["text"] for t in recent["topics"] for q in t["questions"]) == sorted(REFUND[1:])


async def test_a_topic_becomes_a_draft_in_review(tenant: Tenant) -> None:
    await generate(tenant)
    editor, reviewer, agent = (
        tenant.member("editor"),
        tenant.member("reviewer"),
        tenant.member("agent"),
    )
    collection = make_collection(editor, "From customers")
    refund = topic_of(ok(editor.get("/api/v1/analytics/gaps")), REFUND[0])
    body = {"message_ids": refund["question_ids"], "collection_id": collection}
    assert agent.post("/api/v1/analytics/gaps/draft", json=body).status_code == 403

    draft = ok(editor.post("/api/v1/analytics/gaps/draft", json=body), 201)
    assert draft["status"] == "in_review" and draft["sources"] == 4
    assert draft["question"] == refund["representative"]
    assert sorted([draft["question"], *draft["similar"]]) == sorted(REFUND)
    assert draft["answer"] == REFUND_ANSWER  # given twice, against one other answer
    entry = ok(editor.get(f"/api/v1/kb/entries/{draft['entry_id']}"))
    assert entry["tags"] == ["from-gaps"] and entry["collection_id"] == collection
    queue = ok(reviewer.get("/api/v1/kb/review-queue"))
    assert draft["entry_id"] in [e["id"] for e in queue]

    again = ok(editor.get("/api/v1/analytics/gaps"))
    assert topic_of(again, REFUND[0])["drafted_entry_ids"] == [draft["entry_id"]]
    twice = editor.post("/api/v1/analytics/gaps/draft", json=body)
    assert twice.status_code == 409

    approved = ok(reviewer.post(f"/api/v1/kb/entries/{draft['entry_id']}/approve", json={}))
    assert approved["status"] == "published"

    invoice = topic_of(again, INVOICE[0])
    chosen = {
        "message_ids": invoice["question_ids"],
        "collection_id": collection,
        "question": "如何开发票？",
        "answer": "登录后在“我的订单”里申请电子发票。",
    }
    mine = ok(editor.post("/api/v1/analytics/gaps/draft", json=chosen), 201)
    assert mine["question"] == "如何开发票？" and mine["answer"] == chosen["answer"]
    assert sorted(mine["similar"]) == sorted(INVOICE)

    alone = topic_of(again, ALONE[1])
    unanswered = {"message_ids": alone["question_ids"], "collection_id": collection}
    placeholder = ok(editor.post("/api/v1/analytics/gaps/draft", json=unanswered), 201)
    assert placeholder["answer"].startswith("(To be written")


async def test_resolved_conversations_and_solved_tickets_become_drafts(tenant: Tenant) -> None:
    agent = make_person(tenant)
    web = make_channel(tenant, "web")
    async with activity(tenant) as act:
        story = await act.story(web, await act.contact(), days_ago(1))
        await story.ask(0, "hi")
        await story.ask(5, "My parcel says delivered but it is not in my mailbox")
        await story.hand_off(6)
        await story.take(10, agent)
        await story.reply(20, agent, "Please check with your neighbours first.")
        await story.reply(25, agent, "If it is not there in 24 hours we send a new one.")
        await story.resolve(300, agent)
        await story.finish()
        resolved = story.conversation.id
        open_story = await act.story(web, await act.contact(), days_ago(1))
        await open_story.ask(0, "Where is my parcel?")
        await open_story.finish()
        still_open = open_story.conversation.id
    collection = make_collection(tenant.client, "Shipping")

    def from_conversation(conversation_id: uuid.UUID) -> Any:
        body = {"conversation_id": str(conversation_id), "collection_id": collection}
        return tenant.client.post("/api/v1/analytics/drafts/from-conversation", json=body)

    draft = ok(from_conversation(resolved), 201)
    assert draft["question"] == "My parcel says delivered but it is not in my mailbox"
    assert draft["answer"] == (
        "Please check with your neighbours first.\n"
        "If it is not there in 24 hours we send a new one."
    )
    assert draft["status"] == "in_review"
    assert from_conversation(resolved).status_code == 409
    assert from_conversation(still_open).status_code == 409

    made = ok(
        tenant.client.post("/api/v1/tickets", json={"subject": "How do I export my data?"}), 201
    )
    url = f"/api/v1/tickets/{made['id']}"
    ok(agent.client.post(f"{url}/comments", json={"body": "checking", "public": False}), 201)

    def from_ticket() -> Any:
        body = {"ticket_id": made["id"], "collection_id": collection}
        return tenant.client.post("/api/v1/analytics/drafts/from-ticket", json=body)

    assert from_ticket().status_code == 409  # not solved yet
    ok(
        agent.client.post(f"{url}/comments", json={"body": "Settings → Export.", "public": True}),
        201,
    )
    version = ok(tenant.client.get(url))["version"]
    ok(tenant.client.patch(url, json={"version": version, "status": "solved"}))
    ticket_draft = ok(from_ticket(), 201)
    assert ticket_draft["question"] == "How do I export my data?"
    assert ticket_draft["answer"] == "Settings → Export."  # public replies only, not the note
    entry = ok(tenant.client.get(f"/api/v1/kb/entries/{ticket_draft['entry_id']}"))
    assert entry["tags"] == ["from-ticket"] and entry["status"] == "in_review"
    assert from_ticket().status_code == 409
