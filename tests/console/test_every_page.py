"""Every console page at 1280 px and at phone width, in English and in Chinese: nothing sticks
out sideways, and the Chinese pages show no English left untranslated. The workspace holds a
little of everything (a waiting conversation, a ticket, entries in review and overdue for review,
a channel, a team, a webhook, an SLA policy, a routing rule, an API key), named in Chinese like
its users would."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from knowdesk.console.pages import SETTINGS_SECTIONS
from tests.console.conftest import ASK_TIMEOUT, DESKTOP, PHONE, Console
from tests.kb.helpers import make_collection, make_faq
from tests.tickets.helpers import customer, make_channel, make_team, make_ticket, ok, wait_for

PASSWORD = "correct horse battery"
# Words that stay as they are in the Chinese UI: names of products, formats and keys.
KEPT = {
    *("knowdesk", "English", "FAQ", "API", "SLA", "URL", "LLM", "Webhook", "App", "OpenAI"),
    *("Excel", "Markdown", "HTML", "PDF", "Word", "CSV", "JSON", "Lines", "MB", "Shift"),
}
# Text that is not the UI's words: addresses, URLs and paths, placeholders of canned replies,
# HTML tags, commands in backticks, file names.
DATA = re.compile(
    r"\S+@\S+|https?://\S+|/api/\S+|\{\w+\}|<[^>]*>|`[^`]*`|\.env\b"
    r"|\b\w+\.(?:md|csv|txt|pdf|docx|xlsx|jsonl)\b|\b[0-9a-f]{6,}\b"
)
ENGLISH = re.compile(r"[A-Za-z]{2,}")
UI_TEXT = """() => {
  const skip = 'code, pre, textarea, script, style, .mono, [translate=no]';
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(skip)) continue;
    texts.push(node.textContent);
  }
  for (const element of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (element.closest(skip)) continue;
    for (const name of ['placeholder', 'aria-label', 'title']) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  texts.push(document.title);
  return texts.map((text) => text.trim()).filter(Boolean);
}"""


@dataclass
class Workspace:
    owner_email: str
    paths: dict[str, str]


@pytest.fixture(scope="module")
def workspace(base_url: str) -> Workspace:
    """One workspace for the module, with something on every page."""
    email = f"wang-{uuid.uuid4().hex[:8]}@example.com"
    signup = httpx.post(
        f"{base_url}/api/v1/auth/signup",
        json={"email": email, "password": PASSWORD, "name": "王经理", "workspace_name": "示例公司"},
    )
    assert signup.status_code == 201, signup.text
    headers = {"Authorization": f"Bearer {signup.json()['token']}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        me = ok(client.get("/api/v1/me"))["user"]["id"]
        collection = make_collection(client, "常见问题")
        faq = make_faq(
            client,
            collection,
            question="保修期多长？",
            similar=["保修几年"],
            answer="两年。",
            publish=True,
        )
        changed = client.patch(
            f"/api/v1/kb/entries/{faq['id']}",
            json={"expected_version": 1, "answer": "三年。", "note": "延长保修"},
        )
        assert changed.status_code == 200, changed.text
        ok(client.post(f"/api/v1/kb/entries/{faq['id']}/submit"))
        overdue = (date.today() - timedelta(days=10)).isoformat()
        make_faq(
            client,
            collection,
            question="退货政策？",
            similar=[],
            answer="30 天。",
            review_by=overdue,
        )
        team = make_team(client, [me], name="二线支持")
        channel = make_channel(client, name="官网", team_id=team)
        ok(
            client.post(
                "/api/v1/ticket-rules",
                json={
                    "name": "退款加急",
                    "conditions": [
                        {"field": "subject", "op": "contains", "value": "退款"},
                        {"field": "contact.等级", "op": "in", "value": ["金卡", "白金"]},
                    ],
                    "team_id": team,
                    "priority": "urgent",
                },
            ),
            201,
        )
        ok(
            client.post(
                "/api/v1/sla-policies",
                json={"name": "标准", "priority": "normal", "first_response_seconds": 3600},
            ),
            201,
        )
        hook = {"url": "https://hooks.example.com/kd", "events": ["*"], "description": "同步"}
        ok(client.post("/api/v1/webhooks", json=hook), 201)
        ok(client.post("/api/v1/api-keys", json={"name": "导入脚本", "role": "editor"}), 201)
        ticket = make_ticket(
            client,
            subject="无法登录",
            description="更新后打不开。",
            requester={"email": "li@example.com", "name": "李雷"},
        )
        person = customer(base_url, channel)
        conversation = person.open_conversation()
        person.say(conversation, "你好，我的设备坏了")
        wait_for(
            lambda: (
                ok(client.get(f"/api/v1/chat/conversations/{conversation}"))["state"] == "queued"
            ),
            what="the conversation waiting for a person",
        )
        person.http.close()
    paths = {
        "inbox": "/console/inbox",
        "conversation": f"/console/inbox/{conversation}",
        "tickets": "/console/tickets",
        "ticket": f"/console/tickets/{ticket['id']}",
        "kb": "/console/kb",
        "kb-entry": f"/console/kb/entries/{faq['id']}",
        "kb-new": "/console/kb/new",
        "kb-review": "/console/kb/review",
        "kb-stale": "/console/kb/stale",
        "kb-upload": "/console/kb/upload",
        "kb-try": "/console/kb/try",
        **{f"settings-{name}": f"/console/settings/{name}" for name in SETTINGS_SECTIONS},
    }
    return Workspace(email, paths)


# What shows that a page has drawn what it loads (its scripts fetch the data after the page).
LOADED = {
    "inbox": "#conversations a",
    "conversation": "#messages .msg",
    "tickets": "#tickets tbody tr a",
    "ticket": "#timeline li",
    "kb": "#entries tbody tr a",
    "kb-entry": "#versions > li",
    "kb-new": "#question",
    "kb-review": ".diff .cell.add",
    "kb-stale": "#stale tbody tr a",
    "kb-upload": "#collection option",
    "kb-try": "#collection option >> nth=1",
    "settings-members": "#settings tbody tr",
    "settings-api-keys": "#settings tbody tr code",
    "settings-channels": "#settings .snippet-box",
    "settings-teams": "#settings form",
    "settings-webhooks": "#add-webhook",
    "settings-rules": "#rules .rule-name",
    "settings-sla": "#settings tbody tr",
    "settings-llm": "#llm-form",
}


def visit(console: Console, path: str, name: str) -> Page:
    console.go(path)
    page = console.page
    expect(page.locator(LOADED[name]).first).to_be_attached()
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    return page


def english_left(page: Page) -> list[str]:
    texts: list[str] = page.evaluate(UI_TEXT)
    left = []
    for text in texts:
        words = set(ENGLISH.findall(DATA.sub(" ", text))) - KEPT
        if words:
            left.append(text)
    return left


def overflow(console: Console) -> int:
    return int(console.page.evaluate("document.scrollingElement.scrollWidth - innerWidth"))


@pytest.mark.parametrize("width", [DESKTOP["width"], PHONE["width"]])
def test_every_english_page_fits_the_screen(
    open_console: Callable[..., Console], workspace: Workspace, width: int
) -> None:
    console = open_console(width=width)
    console.sign_in(workspace.owner_email, PASSWORD)
    overflowing = {}
    for name, path in workspace.paths.items():
        visit(console, path, name)
        overflowing[name] = overflow(console)
    overflowing = {name: px for name, px in overflowing.items() if px > 0}
    assert not overflowing, f"pages wider than a {width}px screen: {overflowing}"


def test_every_chinese_page_fits_a_phone_and_shows_no_english(
    open_console: Callable[..., Console], workspace: Workspace
) -> None:
    console = open_console(width=PHONE["width"], locale="zh-CN")
    console.go("/console/sign-in")
    untranslated = {"sign-in": english_left(console.page)}
    overflowing = {"sign-in": overflow(console)}
    console.sign_in(workspace.owner_email, PASSWORD)
    for name, path in workspace.paths.items():
        page = visit(console, path, name)
        if name == "kb-try":
            page.locator("#question").fill("火星的首都是哪里？")
            page.locator("#ask").click()
            expect(page.locator("#result #scores")).to_be_visible(timeout=ASK_TIMEOUT)
        if name == "conversation":
            expect(page.locator("#suggestion")).not_to_contain_text("正在检索知识库")
        if name in {"conversation", "kb-review"}:
            console.shot(f"{name}-zh")
        untranslated[name] = english_left(page)
        overflowing[name] = overflow(console)
    overflowing = {name: px for name, px in overflowing.items() if px > 0}
    assert not overflowing, f"pages wider than a {PHONE['width']}px phone: {overflowing}"
    untranslated = {name: texts for name, texts in untranslated.items() if texts}
    assert not untranslated, f"English in the Chinese console: {untranslated}"


# Watches where the focus goes and keeps what a person could not see it on: an element off
# screen, or one without the console's focus ring.
WATCH_FOCUS = """() => {
  window.unseenFocus = [];
  document.addEventListener('focusin', (event) => {
    const element = event.target;
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    const ring = element.matches(':focus-visible')
      && (style.outlineStyle !== 'none' || style.boxShadow !== 'none');
    // The last stop in a date field is its calendar button, inside the field, which the
    // browser rings itself (a style of the page cannot reach it).
    const inField = ['date', 'time'].includes(element.type);
    const shown = box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
    if (!((ring || inField) && shown)) {
      const label = element.getAttribute('aria-label') || element.textContent || '';
      window.unseenFocus.push(
        `${element.tagName.toLowerCase()}#${element.id} ${label.trim().slice(0, 40)}`);
    }
  });
}"""
# Presses of Tab on each page: past the frame's links and into the page's own controls.
TABS = 25


def test_the_focus_can_be_seen_wherever_tab_goes(
    open_console: Callable[..., Console], workspace: Workspace
) -> None:
    console = open_console()
    console.sign_in(workspace.owner_email, PASSWORD)
    unseen: dict[str, list[str]] = {}
    for name, path in workspace.paths.items():
        page = visit(console, path, name)
        page.evaluate(WATCH_FOCUS)
        for _ in range(TABS):
            page.keyboard.press("Tab")
        unseen[name] = page.evaluate("window.unseenFocus")
    unseen = {name: where for name, where in unseen.items() if where}
    assert not unseen, f"the focus went where it cannot be seen: {unseen}"
