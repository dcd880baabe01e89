"""The analytics dashboard in a real browser (Debian's Chromium, headless): a person signs in,
reads figures and charts drawn from two weeks of generated activity, switches to Chinese and back,
narrows them by dates and by channel, downloads every table as CSV and turns a knowledge gap into
a draft FAQ. Over plain HTTP: who may see it, bad filters, and the language of the page.

The screenshots go to test-artifacts/analytics/; with KNOWDESK_SCREENSHOTS=docs they also
replace docs/screenshots/dashboard.png (English), which the README shows, and dashboard-zh.png.
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

from knowdesk.analytics import dashboard
from knowdesk.analytics.export import TABLES
from knowdesk.analytics.filters import metrics_filters
from knowdesk.analytics.metrics import MAX_BUCKETS, check_filters
from knowdesk.analytics.strings import STRINGS
from knowdesk.console.strings import STRINGS as CONSOLE_STRINGS
from knowdesk.errors import InvalidInputError
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
SHOT_ZH = ARTIFACTS / "analytics" / "dashboard-zh-1280.png"
DOCS_SHOT_ZH = ROOT / "docs" / "screenshots" / "dashboard-zh.png"
ANALYTICS = ROOT / "src" / "knowdesk" / "analytics"
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


def save_screenshot(page: Page, shot: Path = SHOT, docs_shot: Path = DOCS_SHOT) -> None:
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shot, full_page=True)
    if os.environ.get("KNOWDESK_SCREENSHOTS") == "docs":
        docs_shot.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, docs_shot)


def switch_language(page: Page, to: str) -> None:
    with page.expect_navigation(url=re.compile(r"/console/analytics$")):
        page.locator("form.kd-lang button").click()
    expect(page.locator("html")).to_have_attribute("lang", to)


def test_the_dashboard_in_a_browser(tenant: Tenant, base_url: str, browser: Browser) -> None:
    # Playwright's synchronous API holds this thread's event loop: generate in another thread.
    with ThreadPoolExecutor(1) as thread:
        made = thread.submit(asyncio.run, generate(tenant)).result()
    collection = make_collection(tenant.client, "From customers")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A script or style the page's Content-Security-Policy refuses is reported as a console error.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

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
    expect(page.locator("html")).to_have_attribute("lang", "en")
    save_screenshot(page)

    # In Chinese (the header's toggle): words, the charts' words and the CSV labels; the lines
    # keep their names in the markup.
    switch_language(page, "zh-CN")
    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-name')).to_have_text("会话数")
    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-value')).to_have_text(
        str(made.conversations())
    )
    expect(page.locator("#gaps h2")).to_contain_text("知识缺口")
    expect(page.locator("#feedback thead th")).to_have_text(["问题", "条目", "来源", "提问次数"])
    expect(confirmed.locator("td").nth(2)).to_have_text("评为有帮助")
    expect(page.get_by_role("button", name="应用")).to_be_visible()
    chinese_decisions = page.locator('svg[aria-label="机器人的决策"]')
    expect(chinese_decisions.locator("rect.kd-bar")).to_have_count(4)
    expect(chinese_decisions.locator("text", has_text="直接回答")).to_have_count(1)
    legend = page.locator('svg[aria-label="会话"] > text', has_text="自助解决")
    expect(legend).to_have_count(1)
    expect(page.locator('svg.kd-chart polyline[data-name="conversations"]')).to_have_count(1)
    expect(page.locator("a.kd-csv").first).to_have_text("导出 CSV")
    assert kpi(page, "first-response").endswith(("秒", "分钟"))
    expect(page.locator("td", has_text="（无）")).to_have_count(1)  # App's conversations: no team
    save_screenshot(page, SHOT_ZH, DOCS_SHOT_ZH)

    # Every table downloads as CSV, with the page's filters, its columns named in English
    # whatever the language of the page (programs read them).
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

    switch_language(page, "en")
    expect(page.locator('.kd-kpi[data-kpi="conversations"] .kd-name')).to_have_text("Conversations")

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

    # The page's script speaks Chinese too.
    switch_language(page, "zh-CN")
    page.select_option("#kd-collection", value=collection)
    invoice = page.locator("#gaps tbody tr", has_text="发票").first
    invoice.locator("button.kd-draft").click()
    expect(invoice.locator(".kd-done")).to_have_text("审核中")
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
    assert page.headers["x-frame-options"] == "DENY"  # the console's page headers, CSP included
    assert "script-src 'self'" in page.headers["content-security-policy"]
    backwards = {"start": "2026-02-01", "end": "2026-01-01"}
    refused = tenant.member("agent").get("/console/analytics", params=backwards)
    assert refused.status_code == 422
    assert '<p class="kd-error" role="alert">The period ends before it starts.</p>' in refused.text
    assert "kd-kpis" not in refused.text  # no figures for a period that cannot exist


def test_the_page_speaks_the_viewers_language(tenant: Tenant, base_url: str) -> None:
    agent = tenant.member("agent")
    chinese = agent.get("/console/analytics", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.text
    assert "<title>数据分析 · Acme · knowdesk</title>" in chinese.text
    for words in ("会话数", "自助解决率", "知识缺口", "来自真实对话的相似问法", "工单分类"):
        assert words in chinese.text
    assert 'aria-label="机器人的决策"' in chinese.text  # the charts' words too
    assert "Self-service rate" not in chinese.text and "Knowledge gaps" not in chinese.text
    # The toggle offers the other language and brings the viewer back here.
    assert '<input type="hidden" name="locale" value="en">' in chinese.text
    assert '<input type="hidden" name="next" value="/console/analytics">' in chinese.text

    english = agent.get("/console/analytics", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Self-service rate" in english.text and "Knowledge gaps" in english.text
    assert "知识缺口" not in english.text
    assert '<input type="hidden" name="locale" value="zh">' in english.text

    # What the viewer picked with the toggle wins over the browser's languages.
    picked = agent.get(
        "/console/analytics",
        headers={"Accept-Language": "en-US", "Cookie": "knowdesk_locale=zh"},
    )
    assert '<html lang="zh-CN">' in picked.text and "知识缺口" in picked.text

    backwards = {"start": "2026-02-01", "end": "2026-01-01"}
    refused = agent.get("/console/analytics", params=backwards, headers={"Accept-Language": "zh"})
    assert refused.status_code == 422
    assert '<p class="kd-error" role="alert">结束日期早于开始日期。</p>' in refused.text


# -- the page's words ----------------------------------------------------------------------------

KEY_IN_TEXT = re.compile(r"""\bt\(\s*["']([a-z_.0-9-]+)["']""")
QUOTED_KEY = re.compile(r'"(analytics\.[a-z_.]+)"')
# Keys built from a prefix and a value (a series, a reason, an interval, a source, a unit).
BUILT_KEYS = {
    "analytics.interval.": ["day", "week", "month"],
    "analytics.series.": [
        "conversations",
        "deflected",
        "handed_off",
        "opened",
        "solved",
        "backlog",
        "helpful",
        "not_helpful",
    ],
    "analytics.reason.": [
        "not_covered",
        "customer_asked",
        "bot_error",
        "too_long",
        "no_bot",
        "attachment",
        "unknown",
    ],
    "analytics.feedback.source.": ["helpful", "choice", "agent"],
    "analytics.duration.": ["s"],
    "time.": ["minutes", "hours_minutes", "days_hours"],
    "decision.": ["direct", "grounded", "clarify", "handoff"],
    "ticket.": ["new", "open", "pending", "on_hold"],
    "priority.": ["low", "normal", "high", "urgent"],
    "role.": ["owner", "editor", "reviewer", "agent"],
}


def keys_asked_for() -> set[str]:
    """Keys the page's templates and script look up, and those its code builds."""
    sources = [*ANALYTICS.glob("templates/*.html"), ANALYTICS / "templates" / "analytics.js"]
    keys = {k for path in sources for k in KEY_IN_TEXT.findall(path.read_text()) if k[-1] != "."}
    keys.update(prefix + name for prefix, names in BUILT_KEYS.items() for name in names)
    return keys


def test_every_word_of_the_page_has_both_languages() -> None:
    known = STRINGS.keys() | CONSOLE_STRINGS.keys()
    assert not sorted(keys_asked_for() - known), "keys without a text"
    assert not STRINGS.keys() & CONSOLE_STRINGS.keys()  # one text per key, in one table
    for key, (en, zh) in STRINGS.items():
        assert en.strip() and zh.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key
    # A key named anywhere (charts and errors in the code, `t(a if b else c)`) is in use too.
    sources = [ANALYTICS / "dashboard.py", *ANALYTICS.glob("templates/*.html")]
    named = {k for path in sources for k in QUOTED_KEY.findall(path.read_text())}
    assert not sorted(STRINGS.keys() - keys_asked_for() - named), "texts nothing shows"


def test_durations_read_in_either_language() -> None:
    chinese = dashboard.translator("zh")
    seconds = (45, 720, 11100, 187200)
    assert [dashboard.duration(s).replace("\u00a0", " ") for s in seconds] == [
        "45 s",
        "12 min",
        "3 h 05 min",
        "2 d 4 h",
    ]
    assert [dashboard.duration(s, chinese).replace("\u00a0", " ") for s in seconds] == [
        "45 秒",
        "12 分钟",
        "3 小时 05 分",
        "2 天 4 小时",
    ]
    # A narrow card may break a duration between its pairs, never between number and unit.
    assert dashboard.duration(11100) == "3\u00a0h 05\u00a0min"
    assert dashboard.duration(11100, chinese) == "3\u00a0小时 05\u00a0分"
    assert dashboard.duration(None, chinese) == "–"


def _refusal(**filters: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as refused:
        check_filters(metrics_filters(**filters))
    return refused.value


def test_filter_errors_are_told_in_the_viewers_language() -> None:
    # The services' own messages, so that a change of their wording shows here.
    backwards = _refusal(start="2026-02-01", end="2026-01-01")
    assert dashboard.filter_error(backwards, "en") == "The period ends before it starts."
    assert dashboard.filter_error(backwards, "zh") == "结束日期早于开始日期。"
    too_long = _refusal(start="2020-01-01", end="2026-01-01")
    assert f"{MAX_BUCKETS}" in dashboard.filter_error(too_long, "zh")
    assert "按天" in dashboard.filter_error(too_long, "zh")
    assert dashboard.filter_error(too_long, "en") == too_long.message
    zone = _refusal(tz="Mars/Olympus")
    assert dashboard.filter_error(zone, "zh") == "未知时区 'Mars/Olympus'。"
    assert dashboard.filter_error(zone, "en") == zone.message
    date = _refusal(start="2026-13-01")
    assert dashboard.filter_error(date, "zh") == "开始日期：'2026-13-01' 无效。"
    other = InvalidInputError("Something new went wrong.")
    assert dashboard.filter_error(other, "en") == "Something new went wrong."
    assert dashboard.filter_error(other, "zh") == "筛选条件无效。"
    assert dashboard.filter_error(ValueError("'year' is not a valid Interval"), "zh") == (
        "筛选条件无效。"
    )
