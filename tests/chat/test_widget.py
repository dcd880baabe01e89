"""The chat window in a real browser (Chromium): a customer writes, is handed to a person, sees
the reply as text (never as HTML), and finds the same history, once, after a reload; the
window works by keyboard alone and rides out a lost connection without losing or repeating."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect, sync_playwright

from tests.chat.conftest import BotKb
from tests.chat.helpers import agent_socket, make_agent, make_channel, make_team, wait_for
from tests.conftest import Tenant

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _bubbles(page: Page) -> list[str]:
    return [
        t.strip()
        for t in page.locator(".kd-log .kd-bubble, .kd-log .kd-system").all_text_contents()
    ]


def test_the_chat_window_end_to_end(tenant: Tenant, base_url: str, browser: Browser) -> None:
    script = httpx.get(f"{base_url}/widget/knowdesk-chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]

    agent = make_agent(tenant)
    team = make_team(tenant.client, [agent])
    channel = make_channel(tenant.client, team_id=team["id"], welcome_message="Hi! 您好！")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/widget/demo?token={channel['widget_token']}")
    page.click(".kd-launcher")
    with agent_socket(base_url, agent):
        page.fill(".kd-input", "你好，我的订单还没到")
        page.keyboard.press("Enter")
        # No bot on this channel: straight to a person, told in the customer's language.
        expect(page.locator(".kd-system").first).to_have_text("正在为您转接人工客服，请稍候。")
        expect(page.locator(".kd-pending")).to_have_count(0)
        expect(page.locator(".kd-status")).to_have_text("With a person")

        conversations = agent.client.get("/api/v1/chat/conversations?assignee=me").json()
        cid = conversations[0]["id"]
        html = '<b>Hello</b> & <img src=x onerror="window.pwned=1"> 您好'
        r = agent.client.post(f"/api/v1/chat/conversations/{cid}/messages", json={"text": html})
        assert r.status_code == 201, r.text
        reply = page.locator(".kd-agent .kd-bubble").last
        expect(reply).to_have_text(html)  # shown as text, exactly as sent
        assert page.locator(".kd-log b, .kd-log img").count() == 0
        assert page.evaluate("window.pwned") is None
        expect(page.locator(".kd-agent .kd-name").last).to_have_text(agent.name)

        before = _bubbles(page)
        history = agent.client.get(f"/api/v1/chat/conversations/{cid}/messages").json()
        assert before == [m["text"] for m in history]  # every message once, in seq order

        # The same customer comes back after a reload: the same history, each message once.
        page.reload()
        page.click(".kd-launcher")
        expect(page.locator(".kd-agent .kd-bubble").last).to_have_text(html)
        assert _bubbles(page) == before
        contact = agent.client.get(f"/api/v1/chat/conversations/{cid}").json()["contact"]["id"]
        assert len(agent.client.get(f"/api/v1/chat/contacts/{contact}/conversations").json()) == 1
    assert errors == []
    context.close()


def test_the_chat_window_shows_the_bots_sources_and_takes_a_rating(
    bot_kb: BotKb, base_url: str, browser: Browser
) -> None:
    channel = make_channel(bot_kb.tenant.client, bot_enabled=True)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base_url}/widget/demo?token={channel['widget_token']}")
    page.click(".kd-launcher")
    page.fill(".kd-input", "如何重置路由器密码？")
    page.keyboard.press("Enter")
    answer = page.locator(".kd-bot .kd-bubble").last
    expect(answer).to_have_text("按住路由器背面的复位键 10 秒，再用底部标签上的默认密码登录。")
    expect(page.locator(".kd-bot .kd-sources").last).to_contain_text("如何重置路由器密码？")
    page.locator(".kd-bot .kd-rate button").first.click()
    expect(page.locator(".kd-bot .kd-rate").last).to_have_text("感谢反馈")

    def rated() -> list[str | None]:
        listed = bot_kb.tenant.client.get("/api/v1/chat/conversations").json()
        mine = next(c for c in listed if c["channel_id"] == channel["id"])
        messages = bot_kb.tenant.client.get(
            f"/api/v1/chat/conversations/{mine['id']}/messages"
        ).json()
        return [m["rating"] for m in messages if m["sender_kind"] == "bot"]

    assert wait_for(lambda: rated() == ["helpful"])
    context.close()


def test_the_chat_window_by_keyboard_and_through_a_lost_connection(
    tenant: Tenant, base_url: str, browser: Browser
) -> None:
    agent = make_agent(tenant)
    team = make_team(tenant.client, [agent])
    channel = make_channel(tenant.client, team_id=team["id"])
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # The network between the page and the server, which the test can cut.
    routes: list[WebSocketRoute] = []
    network = {"down": False}

    def through(ws: WebSocketRoute) -> None:
        if network["down"]:
            ws.close()
            return
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(re.compile(r".*/api/v1/chat/socket$"), through)
    page.goto(f"{base_url}/widget/demo?token={channel['widget_token']}")
    launcher = page.locator(".kd-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")

    # Keyboard alone: Tab to the launcher, Enter opens with the focus in the message box.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('kd-launcher')"):
            break
    else:
        pytest.fail("Tab never reaches the chat launcher")
    page.keyboard.press("Enter")
    box = page.locator(".kd-input")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-label", "Message")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".kd-log")).to_have_attribute("role", "log")

    with agent_socket(base_url, agent):
        page.keyboard.type("My order has not arrived")
        page.keyboard.press("Enter")
        expect(page.locator(".kd-status")).to_have_text("With a person")
        cid = agent.client.get("/api/v1/chat/conversations?assignee=me").json()[0]["id"]

        # The connection drops. The agent answers and the customer writes while it is down.
        network["down"] = True
        routes[-1].close()
        expect(page.locator(".kd-status")).to_have_text("Connection lost, reconnecting…")
        said = {"text": "We are on it."}
        assert agent.client.post(f"/api/v1/chat/conversations/{cid}/messages", json=said).is_success
        page.keyboard.type("Hello?")
        page.keyboard.press("Enter")
        expect(page.locator(".kd-pending")).to_have_count(1)

        # Back: the window reconnects by itself, sends what waited, and shows what it missed.
        network["down"] = False
        expect(page.locator(".kd-pending")).to_have_count(0, timeout=30_000)
        expect(page.locator(".kd-agent .kd-bubble").last).to_have_text("We are on it.")
        expect(page.locator(".kd-status")).to_have_text("With a person")
        assert len(routes) >= 2

        def stored() -> list[str]:
            listed = agent.client.get(f"/api/v1/chat/conversations/{cid}/messages").json()
            return [m["text"] for m in listed]

        assert wait_for(lambda: "Hello?" in stored())
        assert _bubbles(page) == stored()  # every message once, in order

    # Escape closes and gives the focus back to the launcher.
    box.focus()
    page.keyboard.press("Escape")
    expect(page.locator(".kd-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert errors == []
    context.close()
