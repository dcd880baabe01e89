"""The analytics dashboard in a real browser (Debian's Chromium, headless): a person signs in,
reads figures and charts drawn from two weeks of generated activity, narrows them by dates and
by channel, downloads every table as CSV and turns a knowledge gap into a draft FAQ.

The screenshot goes to test-artifacts/analytics/; with KNOWDESK_SCREENSHOTS=docs it also
replaces docs/screenshots/dashboard.png, which the README shows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from knowdesk.analytics.export import TABLES
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
    make_team,
    move_ticket,
    ok,
)
from tests.conftest import ARTIFACTS, ROOT, Tenant
from tests.kb.helpers import make_collection, make_faq

CHROMIUM = Path("/usr/bin/chromium")
SHOT = ARTIFACTS / "analytics" / "dashboard-1280.png"
DOCS_SHOT = ROOT / "docs" / "screenshots" / "dashboard.png"
# Conversations a day, from four weeks ago to yesterday: quiet weekends, a busy last week.
PER_DAY = [1, 2, 1, 0, 0, 2, 1, 2, 1, 2, 0, 1, 2, 3, 2, 1, 1, 0, 2, 3, 2, 3, 4, 1, 1, 4, 5, 3]
REFUND = ["退款什么时候到账？", "我申请的退款多久能退到银行卡", "退款已经一周了还没到账"]
SHIPPING = ["Do you ship to Canada?", "Can I get my order delivered to Germany?"]
INVOICE = ["怎么开发票？", "发票怎么开", "如何申请开具发票"]
# What customers asked that the bot answered, and the FAQ entry (worded otherwise) it used.
ANSWERED = {
    "How do I reset my password?": "How can I change my password?",
    "怎么修改绑定的手机号": "如何更换绑定的手机？",
    "What are your opening hours?": "When is customer service open?",
}

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps` (or `make test`).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@dataclass
class Made:
    channels: dict[str, Json]
    by_day: list[dict[str, int]]  # oldest first: conversations per channel name

    def conversations(self, *, last_days: int = len(PER_DAY), channel: str | None = None) -> int:
        return sum(
            count
            for day in self.by_day[-last_days:]
            for name, count in day.items()
            if channel in (None, name)
        )


async def tell(
    act: Activity, channel: Json, agent: Person, n: int, days: int, entries: list[uuid.UUID]
) -> None:
    """The n-th conversation of the story: the bot answers, is unsure, or hands off in turn."""
    story = await act.story(channel, await act.contact(), days_ago(days, hour=9 + n % 8))
    kind, turn = n % 6, n // 6
    if kind in (0, 1, 4):  # answered; rated helpful, not rated, or rated unhelpful
        question = (INVOICE if kind == 4 else list(ANSWERED))[(turn + kind) % 3]
        decision = Decision.DIRECT if kind == 0 else Decision.GROUNDED
        entry = entries[(turn + kind) % 3] if kind == 0 else uuid.uuid4()
        await story.ask(0, question)
        reply = await story.bot(2, answer(decision, question=question, entry_id=entry))
        if kind != 1:
            await story.rate(reply, "helpful" if kind == 0 else "not_helpful")
    elif kind == 2:  # the bot is unsure, and the customer leaves
        question = SHIPPING[turn % len(SHIPPING)]
        await story.ask(0, question)
        await story.bot(2, answer(Decision.CLARIFY, question=question))
    else:  # handed to a person, who answers and resolves
        await story.ask(0, REFUND[(turn + kind) % len(REFUND)])
        if kind == 3:
            await story.hand_off(2, "not_covered")
        else:
            await story.ask(3, "转人工")
        await story.take(30 + 20 * (n % 5), agent)
        await story.reply(90 + 60 * (n % 5), agent, "退款会在 3 到 5 个工作日内原路退回。")
        await story.resolve(900 + 300 * (n % 4), agent)
    await story.finish()


async def generate(tenant: Tenant) -> Made:
    agent = make_person(tenant)
    team = make_team(tenant, "Support", [agent])
    channels = {
        "Website": make_channel(tenant, "Website", team_id=team["id"]),
        "App": make_channel(tenant, "App"),
    }
    for name in ("billing", "bug"):
        ok(tenant.client.post("/api/v1/ticket-categories", json={"name": name}), 201)
    policy = {
        "name": "normal",
        "priority": "normal",
        "first_response_seconds": 3600,
        "resolution_seconds": 86400,
    }
    ok(tenant.client.post("/api/v1/sla-policies", json=policy), 201)
    for days, category, responded, solved in [
        (20, "billing", 1800, 7200),
        (16, "bug", 5400, 80000),
        (12, "billing", 900, 3600),
        (9, "bug", 2400, None),
        (6, "billing", 600, 5400),
        (4, "bug", 2400, 90000),
        (2, "bug", None, None),
    ]:
        body = {
            "subject": f"{category} report",
            "priority": "normal",
            "category": category,
            "assignee_id": str(agent.user_id),
        }
        ticket = ok(tenant.client.post("/api/v1/tickets", json=body), 201)
        url = f"/api/v1/tickets/{ticket['id']}"
        if responded is not None:
            reply = {"body": "We are on it.", "public": True}
            ok(agent.client.post(f"{url}/comments", json=reply), 201)
        if solved is not None:
            version = ok(agent.client.get(url))["version"]
            ok(agent.client.patch(url, json={"version": version, "status": "solved"}))
        await move_ticket(
            ticket["id"], opened=days_ago(days), responded_after=responded, solved_after=solved
        )
    help_desk = make_collection(tenant.client, "Help")
    entries = [
        uuid.UUID(make_faq(tenant.client, help_desk, question=q, similar=[], answer="…")["id"])
        for q in ANSWERED.values()
    ]
    by_day: list[dict[str, int]] = []
    n = 0
    async with activity(tenant) as act:
        await act.on_duty(agent)
        for index, count in enumerate(PER_DAY):
            day = {"Website": 0, "App": 0}
            for _ in range(count):
                name = "App" if n % 3 == 2 else "Website"
                await tell(act, channels[name], agent, n, len(PER_DAY) - index, entries)
                day[name] += 1
                n += 1
            by_day.append(day)
    return Made(channels, by_day)


def kpi(page: Page, name: str) -> str:
    return page.locator(f'.kd-kpi[data-kpi="{name}"] .kd-value').inner_text()


def apply_filters(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()


def downloaded_rows(page: Page, href: str) -> tuple[str, list[dict[str, str]]]:
    with page.expect_download() as info:
        page.locator(f'a.kd-csv[href="{href}"]').first.click()
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff"), href
    return download.suggested_filename, list(csv.DictReader(io.StringIO(text[1:])))


def save_screenshot(page: Page) -> None:
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOT, full_page=True)
    if os.environ.get("KNOWDESK_SCREENSHOTS") == "docs":
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHOT, DOCS_SHOT)


def test_the_dashboard_in_a_browser(tenant: Tenant, base_url: str, browser: Browser) -> None:
    # Playwright's synchronous API holds this thread's event loop: generate in another thread.
    with ThreadPoolExecutor(1) as thread:
        made = thread.submit(asyncio.run, generate(tenant)).result()
    collection = make_collection(tenant.client, "From customers")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{base_url}/console/analytics")  # nobody signed in: to the console's sign-in
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole%2Fanalytics$"))
    page.fill("#email", tenant.owner_email)
    page.fill("#password", tenant.password)
    with page.expect_navigation(url=re.compile(r"/console/analytics$")):
        page.locator("form[action='/console/sign-in'] button[type=submit]").click()

    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-value')).to_have_text(
        str(made.conversations())
    )
    assert re.fullmatch(r"\d+\.\d %", kpi(page, "deflection"))
    assert kpi(page, "first-response").endswith(("s", "min"))

    # Charts: drawn on the server, one point a day, something above zero.
    charts = page.locator("svg.kd-chart")
    expect(charts).to_have_count(5)
    for i in range(5):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40
    line = page.locator('svg.kd-chart polyline[data-name="conversations"]')
    heights = {p.split(",")[1] for p in (line.get_attribute("points") or "").split()}
    assert len((line.get_attribute("points") or "").split()) == 30 and len(heights) > 2
    decisions = page.locator('svg[aria-label="The bot\'s decisions"] rect.kd-bar')
    expect(decisions).to_have_count(4)
    gap_rows = page.locator("#gaps tbody tr")
    for topic in ("退款", "发票", "ship"):
        expect(gap_rows.filter(has_text=topic)).to_have_count(1)
        expect(gap_rows.filter(has_text=topic).locator("svg.kd-spark")).to_be_visible()
    confirmed = page.locator("#feedback tbody tr", has_text="How do I reset my password?")
    expect(confirmed).to_have_count(1)  # asked several times, listed once
    expect(confirmed.locator("td")).to_have_text(
        ["How do I reset my password?", "How can I change my password?", "rated helpful", "3"]
    )
    save_screenshot(page)

    # Every table downloads as CSV, with the page's filters.
    links = page.locator("a.kd-csv").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    tables = {re.sub(r"^.*/export/(\w+)\.csv\?.*$", r"\1", href) for href in links}
    assert tables == set(TABLES)
    for href in dict.fromkeys(links):
        table = re.sub(r"^.*/export/(\w+)\.csv\?.*$", r"\1", href)
        name, rows = downloaded_rows(page, href)
        assert name == ("knowledge-gaps.csv" if table == "gaps" else f"{table}.csv")
        if table == "summary":
            values = {row["metric"]: row["value"] for row in rows}
            assert values["conversations"] == str(made.conversations())
        if table == "channels":
            assert {row["name"] for row in rows} == {"Website", "App"}
        if table == "series":
            assert len(rows) == 30

    # The last three days only: the figures and the exports follow.
    page.fill("input[name=start]", days_ago(3).date().isoformat())
    page.fill("input[name=end]", days_ago(1).date().isoformat())
    apply_filters(page)
    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-value')).to_have_text(
        str(made.conversations(last_days=3))
    )
    points = page.locator('svg.kd-chart polyline[data-name="conversations"]')
    assert len((points.get_attribute("points") or "").split()) == 3
    summary = page.locator("a.kd-csv[href*='/export/summary.csv']").get_attribute("href") or ""
    assert parse_qs(urlsplit(summary).query)["start"] == [days_ago(3).date().isoformat()]
    _, rows = downloaded_rows(page, summary)
    narrowed = {row["metric"]: row["value"] for row in rows}
    assert narrowed["conversations"] == str(made.conversations(last_days=3))

    # One channel, over the same days (the form keeps them).
    page.select_option("select[name=channel_id]", label="App")
    apply_filters(page)
    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-value')).to_have_text(
        str(made.conversations(last_days=3, channel="App"))
    )
    expect(page.locator("select[name=channel_id] option:checked")).to_have_text("App")
    expect(page.locator("input[name=start]")).to_have_value(days_ago(3).date().isoformat())

    # A knowledge-gap topic becomes a draft FAQ in review.
    page.goto(f"{base_url}/console/analytics")
    page.select_option("#kd-collection", value=collection)
    refund = page.locator("#gaps tbody tr", has_text="退款").first
    refund.locator("button.kd-draft").click()
    expect(refund.locator(".kd-done")).to_have_text("In review")
    queue = ok(tenant.client.get("/api/v1/kb/review-queue"))
    assert [e["tags"] for e in queue if e["collection_id"] == collection] == [["from-gaps"]]

    # Confirmed questions go to their entries as similar questions.
    page.get_by_role("button", name="Propose to review").click()
    expect(page.locator("#feedback .kd-status")).to_have_text(
        "3 questions sent to review in 3 entries."
    )
    proposed = ok(tenant.client.get("/api/v1/analytics/feedback", params={"status": "proposed"}))
    assert sorted(c["question"] for c in proposed) == sorted(ANSWERED)
    assert errors == []
    context.close()


def test_the_page_sends_strangers_to_sign_in_and_explains_bad_filters(
    tenant: Tenant, base_url: str
) -> None:
    stranger = httpx.get(f"{base_url}/console/analytics?channel_id=", follow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["location"] == (
        "/console/sign-in?next=%2Fconsole%2Fanalytics%3Fchannel_id%3D"
    )
    page = tenant.member("agent").get("/console/analytics")
    assert page.status_code == 200
    assert '<a class="kd-brand" href="/console/">' in page.text  # the way back to the console
    backwards = {"start": "2026-02-01", "end": "2026-01-01"}
    refused = tenant.member("agent").get("/console/analytics", params=backwards)
    assert refused.status_code == 422
    assert '<p class="kd-error" role="alert">The period ends before it starts.</p>' in refused.text
    assert "kd-kpis" not in refused.text  # no figures for a period that cannot exist
