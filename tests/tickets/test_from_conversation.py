"""Tickets from chat conversations: drafted from the transcript, repeat reports joining the open
ticket, chat's hook for hand-offs nobody can take, and the customer's own reports."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.db.session import dispose_engine, transaction
from knowdesk.tickets.creation import on_handoff_without_agent, ticket_if_still_waiting
from tests.conftest import Tenant
from tests.tickets.helpers import Customer, customer, make_channel, ok


def signed_in(base_url: str, channel: dict[str, Any], external_id: str) -> Customer:
    signature = hmac.new(
        channel["identity_secret"].encode(), external_id.encode(), hashlib.sha256
    ).hexdigest()
    identity = {"external_id": external_id, "signature": signature, "name": "Lin", "email": ""}
    return customer(base_url, channel, identity)


def from_conversation(tenant: Tenant, conversation_id: str) -> dict[str, Any]:
    body = {"conversation_id": conversation_id}
    return dict(ok(tenant.client.post("/api/v1/tickets/from-conversation", json=body)))


def test_drafted_from_the_transcript_and_repeats_join_the_open_ticket(
    tenant: Tenant, base_url: str
) -> None:
    web, app = make_channel(tenant.client), make_channel(tenant.client)
    external_id = f"user-{uuid.uuid4().hex[:6]}"
    on_web, on_app = signed_in(base_url, web, external_id), signed_in(base_url, app, external_id)
    assert on_web.contact_id == on_app.contact_id

    first = on_web.open_conversation()
    on_web.say(first, "hi")
    on_web.say(first, "My order 1234 arrived broken. The screen is cracked.")
    ticket = from_conversation(tenant, first)
    assert ticket["subject"] == "My order 1234 arrived broken."
    assert ticket["requester_id"] == on_web.contact_id and ticket["channel"] == "chat"
    assert ticket["description"].startswith("The customer wrote:\n> My order 1234 arrived broken.")
    assert "Customer: hi" in ticket["description"]
    assert ticket["conversation_ids"] == [first]
    assert from_conversation(tenant, first)["id"] == ticket["id"]  # asking twice: one ticket

    second = on_app.open_conversation()
    on_app.say(second, "Order 1234 came with a cracked screen, nobody answered me yet")
    repeat = from_conversation(tenant, second)
    assert repeat["id"] == ticket["id"]
    assert repeat["conversation_ids"] == [first, second]
    note = repeat["comments"][-1]
    assert not note["public"] and "reported this again" in note["body"]
    assert "cracked screen" in note["body"]

    history = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}/history"))
    assert "repeat_report" in [e["kind"] for e in history]
    tickets = ok(tenant.client.get("/api/v1/tickets", params={"requester_id": on_web.contact_id}))
    assert len(tickets) == 1


def test_a_different_problem_is_a_new_ticket(tenant: Tenant, base_url: str) -> None:
    web, app = make_channel(tenant.client), make_channel(tenant.client)
    external_id = f"user-{uuid.uuid4().hex[:6]}"
    on_web, on_app = signed_in(base_url, web, external_id), signed_in(base_url, app, external_id)
    first = on_web.open_conversation()
    on_web.say(first, "My order 1234 arrived broken. The screen is cracked.")
    second = on_app.open_conversation()
    on_app.say(second, "How do I change the language of the app to Chinese?")
    assert from_conversation(tenant, first)["id"] != from_conversation(tenant, second)["id"]


async def test_chat_hook_for_a_handoff_nobody_can_take(tenant: Tenant, base_url: str) -> None:
    person = customer(base_url, make_channel(tenant.client))
    conversation = person.open_conversation()
    person.say(conversation, "我的退款还没有到账，已经等了两周了")
    try:
        async with transaction() as session:
            made = await on_handoff_without_agent(
                session, uuid.UUID(tenant.workspace_id), uuid.UUID(conversation), open_now=False
            )
            number = made.number
    finally:
        await dispose_engine()
    ticket = ok(tenant.client.get("/api/v1/tickets", params={"q": "退款"}))[0]
    assert ticket["number"] == number and ticket["source"] == "out_of_hours"
    assert ticket["language"] == "zh"
    detail = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert "outside business hours" in detail["description"]
    assert detail["conversation_ids"] == [conversation]


async def test_a_handoff_nobody_takes_in_hours_becomes_a_ticket_later(
    tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client)  # no agent online, always open
    person, other = customer(base_url, channel), customer(base_url, channel)
    waiting, taken_back = person.open_conversation(), other.open_conversation()
    person.say(waiting, "The charger of my scooter does not work any more")
    other.say(taken_back, "转人工")
    ok(tenant.client.post(f"/api/v1/chat/conversations/{taken_back}/resolve"))
    assert ok(tenant.client.get("/api/v1/tickets")) == []  # not at once: someone may come
    ws = uuid.UUID(tenant.workspace_id)
    try:
        async with transaction() as session:
            scheduled = await scheduled_waiting_checks(session, waiting)
            made = await ticket_if_still_waiting(session, ws, uuid.UUID(waiting))
            gone = await ticket_if_still_waiting(session, ws, uuid.UUID(taken_back))
            number = made.number if made else None
    finally:
        await dispose_engine()
    assert len(scheduled) == 1
    wait = (scheduled[0] - datetime.now(UTC)).total_seconds()
    assert 200 < wait <= 300  # the default wait, 300 s after the hand-off
    assert gone is None  # resolved meanwhile: nothing to do
    ticket = ok(tenant.client.get("/api/v1/tickets"))[0]
    assert ticket["number"] == number and ticket["source"] == "no_agent_available"
    assert ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))["conversation_ids"] == [waiting]


async def scheduled_waiting_checks(session: AsyncSession, conversation_id: str) -> list[datetime]:
    """When the queue will look at this conversation again (procrastinate's own table)."""
    rows = await session.execute(
        text(
            "select scheduled_at from procrastinate_jobs"
            " where task_name = 'tickets.ticket_if_still_waiting' and status = 'todo'"
            " and args->>'conversation_id' = :conversation_id"
        ),
        {"conversation_id": conversation_id},
    )
    return [row[0] for row in rows]


def test_customers_report_problems_from_the_widget(tenant: Tenant, base_url: str) -> None:
    person = customer(base_url, make_channel(tenant.client))
    body = {"subject": "Invoice missing", "description": "I need the invoice for order 88."}
    made = ok(person.http.post("/api/v1/widget/tickets", json=body), 201)
    again = person.http.post(
        "/api/v1/widget/tickets",
        json={"subject": "Invoice for order 88", "description": "Still missing the invoice."},
    )
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    agent_view = ok(tenant.client.get(f"/api/v1/tickets/{made['id']}"))
    assert agent_view["source"] == "customer" and agent_view["channel"] == "widget"
    assert [c["public"] for c in agent_view["comments"]] == [False]  # the repeat, as a note
    assert ok(person.http.get(f"/api/v1/widget/tickets/{made['id']}"))["comments"] == []
