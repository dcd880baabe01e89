"""Inbox in the browser: a customer's conversation arrives live, the agent reads the history with
the bot's sources, sees the customer's profile, past conversations and tickets and a suggested
answer, takes over, replies with a canned reply, hands back, creates a ticket and resolves."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Tenant
from tests.console.conftest import PHONE, Console, owner_id
from tests.kb.helpers import make_collection, make_faq, wait_indexed
from tests.tickets.helpers import (
    Customer,
    customer,
    make_channel,
    make_team,
    make_ticket,
    ok,
    wait_for,
)

WARRANTY = "所有设备保修两年，人为损坏除外。"


def signed_customer(
    base_url: str, channel: dict[str, Any], name: str = "Li Lei", email: str = "li.lei@example.com"
) -> Customer:
    external_id = f"user-{uuid.uuid4().hex[:6]}"
    signature = hmac.new(
        channel["identity_secret"].encode(), external_id.encode(), hashlib.sha256
    ).hexdigest()
    identity = {
        "external_id": external_id,
        "signature": signature,
        "name": name,
        "email": email,
        "attributes": {"plan": "pro"},
    }
    return customer(base_url, channel, identity)


def messages(person: Customer, conversation_id: str) -> list[dict[str, Any]]:
    url = f"/api/v1/widget/conversations/{conversation_id}/messages"
    return list(ok(person.http.get(url)))


def bot_answered(person: Customer, conversation_id: str) -> bool:
    return any(
        m["sender_kind"] == "bot" and m["meta"].get("sources")
        for m in messages(person, conversation_id)
    )


def test_an_agent_answers_a_conversation_from_the_inbox(
    open_console: Callable[..., Console], tenant: Tenant, base_url: str
) -> None:
    collection = make_collection(tenant.client, "FAQ")
    faqs = [
        ("保修期多长？", ["产品保修几年"], WARRANTY),
        ("退货政策是什么？", ["可以退货吗"], "收货后 30 天内可以无理由退货。"),
    ]
    for question, similar, answer in faqs:
        entry = make_faq(
            tenant.client, collection, question=question, similar=similar, answer=answer,
            publish=True,
        )  # fmt: skip
        assert wait_indexed(tenant.client, entry["id"])["index_status"] == "done"
    channel = make_channel(tenant.client, name="Website", bot_enabled=True)
    li = signed_customer(base_url, channel)
    earlier = li.open_conversation()
    li.say(earlier, "你好")
    ok(tenant.client.post(f"/api/v1/chat/conversations/{earlier}/resolve"))
    old_ticket = make_ticket(tenant.client, subject="Cam Pro offline", requester_id=li.contact_id)

    conversation = li.open_conversation()
    li.say(conversation, "保修期多长？")
    wait_for(lambda: bot_answered(li, conversation), what="the bot's answer")
    # Someone else already waits for the Returns team, in the shop's app (no bot there).
    returns = make_team(tenant.client, [owner_id(tenant)], name="Returns")
    app = make_channel(tenant.client, name="Shop app", team_id=returns)
    wang = signed_customer(base_url, app, "Wang Fang", "wang.fang@example.com")
    waiting = wang.open_conversation()
    wang.say(waiting, "The parcel arrived broken, can I send it back?")

    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password)
    page = console.page
    rows = page.locator("#conversations a")
    expect(page.locator("#states [aria-pressed=true]")).to_have_text("All open")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Wang Fang")
    expect(page.get_by_label("Your availability")).to_have_value("offline")
    page.get_by_role("button", name="With the bot").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Li Lei")
    page.get_by_role("button", name="All open").click()
    expect(rows).to_have_count(1)

    # The customer asks for a person: the conversation arrives over the socket.
    li.say(conversation, "转人工")
    row = rows.filter(has_text="Li Lei")
    expect(row).to_contain_text("Waiting")
    console.toast("A customer is waiting for a person.")
    expect(page.locator("#inbox-count")).to_contain_text("2")
    expect(rows).to_have_count(2)
    page.get_by_label("Team").select_option(label="Returns")
    expect(page).to_have_url(re.compile(f"team={returns}"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Wang Fang")
    page.get_by_label("Team").select_option(label="All teams")
    expect(rows).to_have_count(2)
    console.shot("inbox")
    row.click()
    expect(page).to_have_url(re.compile(f"/console/inbox/{conversation}"))
    expect(page.get_by_role("heading", name="Li Lei")).to_be_focused()

    history = page.locator("#messages")
    bot = history.locator(".msg.bot").filter(has_text=WARRANTY)
    expect(bot.locator(".badge")).to_have_text(re.compile("Direct answer|From documents"))
    bot.get_by_text(re.compile(r"Sources \(\d\)")).click()
    expect(bot.get_by_role("link", name="保修期多长？").first).to_be_visible()
    expect(history.locator(".msg.contact").last).to_have_text(re.compile("转人工"))
    assist = page.get_by_role("region", name="Customer and suggestions")
    expect(assist.locator("#customer")).to_contain_text("li.lei@example.com")
    expect(assist.locator("#customer")).to_contain_text("pro")
    expect(assist.locator("#past")).to_contain_text("Resolved")
    expect(assist.locator("#customer-tickets")).to_contain_text(
        f"#{old_ticket['number']} Cam Pro offline"
    )
    expect(assist.locator("#suggested-answer")).to_have_text(WARRANTY)
    expect(page.locator("#composer-locked")).to_have_text("Take over to reply.")

    page.get_by_role("button", name="Take over").click()
    console.toast("You answer this conversation now.")
    # Only Wang Fang still waits.
    expect(page.locator("#inbox-count")).to_have_text(re.compile("^1"))
    reply = page.get_by_label("Your reply")
    expect(reply).to_be_focused()
    page.get_by_label("Canned reply").select_option(index=1)
    expect(reply).to_have_value("Hello Li Lei, this is Owner. How can I help?")
    reply.press("Enter")
    expect(history.locator(".msg.agent")).to_have_text(re.compile("Hello Li Lei"))
    wait_for(
        lambda: any(m["sender_kind"] == "agent" for m in messages(li, conversation)),
        what="the reply reaching the customer",
    )

    # A canned reply of one's own, with the customer's and the agent's names filled in.
    page.get_by_role("button", name="Edit canned replies").click()
    dialog = page.get_by_role("dialog", name="Canned replies")
    own = "Thanks {customer}, {agent} here."
    dialog.get_by_label("New canned reply").fill(own)
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("listitem")).to_have_count(4)
    dialog.get_by_role("button", name="Close").click()
    page.get_by_label("Canned reply", exact=True).select_option(label=own)
    expect(reply).to_have_value("Thanks Li Lei, Owner here.")
    reply.fill("")

    # The customer types and writes again: both show up live.
    typing = li.http.post(
        f"/api/v1/widget/conversations/{conversation}/typing", json={"typing": True}
    )
    assert typing.status_code == 204, typing.text
    expect(page.locator("#typing")).to_have_text("Li Lei is typing…")
    li.say(conversation, "那退货呢？")
    expect(history.locator(".msg.contact").last).to_have_text(re.compile("那退货呢？"))
    expect(assist.locator("#suggested-answer")).to_contain_text("30 天内")
    assist.get_by_role("button", name="Use this answer").click()
    expect(reply).to_have_value(re.compile("30 天内可以无理由退货"))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(history.locator(".msg.agent")).to_have_count(2)
    console.shot("conversation")

    page.get_by_role("button", name="Create ticket").click()
    console.toast(re.compile(r"Ticket #\d+ holds this conversation\."))
    expect(assist.locator("#customer-tickets li")).to_have_count(2)

    page.get_by_role("button", name="Back to the bot").click()
    expect(page.locator("#conversation-actions .badge")).to_have_text("Bot")
    expect(page.locator("#composer")).to_be_hidden()
    expect(page.locator("#composer-locked")).to_have_text("Take over to reply.")
    page.get_by_role("button", name="Take over").click()
    expect(page.locator("#composer")).to_be_visible()
    page.get_by_role("button", name="Resolve", exact=True).click()
    console.toast("Conversation resolved.")
    expect(page.locator("#composer-locked")).to_have_text("This conversation is resolved.")
    expect(row).to_have_count(0)
    page.get_by_role("button", name="Resolved", exact=True).click()
    expect(page.locator("#conversations a").filter(has_text="Li Lei")).to_have_count(2)

    # At phone width the list and the conversation take the screen in turn.
    page.set_viewport_size(PHONE)
    console.width = PHONE["width"]
    expect(page.locator(".inbox-list")).to_be_hidden()
    console.fits_width()
    console.shot("conversation")
    page.get_by_role("link", name="← Conversations").click()
    expect(page.locator(".inbox-list")).to_be_visible()
    expect(page.locator("#conversation")).to_be_hidden()
    console.fits_width()
    console.shot("inbox-list")
