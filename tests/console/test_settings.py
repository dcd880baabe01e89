"""Settings in the browser, as an owner: a chat channel with business hours and its widget
snippet, members and teams, a webhook tested against a real receiver, SLA policies, API keys
shown once, and the language model page (its form: test_llm_settings.py; routing rules:
test_rules.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Tenant
from tests.console.conftest import Console
from tests.tickets.helpers import ok, wait_for
from tests.webhooks.receiver import Receiver


def section(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Settings").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def hook_id(tenant: Tenant, url: str) -> str:
    return str(next(h["id"] for h in ok(tenant.client.get("/api/v1/webhooks")) if h["url"] == url))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_an_owner_sets_up_the_workspace(
    open_console: Callable[..., Console], tenant: Tenant, base_url: str, receiver: Receiver
) -> None:
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/settings")
    page = console.page
    expect(page).to_have_url(re.compile("/console/settings/members$"))

    # Members: a new agent, who then joins a team.
    add = page.locator("#add-member")
    add.get_by_label("Email").fill("sam@example.com")
    add.get_by_label("Name").fill("Sam Support")
    add.get_by_label("Password").fill("a long password")
    add.get_by_role("button", name="Add member").click()
    console.toast("Sam Support added.")
    expect(page.get_by_label("Role of Sam Support")).to_have_value("agent")

    section(page, "Teams")
    new_team = page.get_by_role("region", name="New team")
    new_team.get_by_label("Name").fill("Second line")
    new_team.get_by_label("Who gets the next conversation").select_option("least_busy")
    new_team.get_by_label("Sam Support").check()
    new_team.get_by_role("button", name="Create team").click()
    console.toast("Team Second line saved.")
    team = page.get_by_role("region", name="Second line")
    expect(team).to_contain_text("Least busy · 1 member")
    expect(team).not_to_contain_text("1 members")
    expect(team).to_contain_text("Sam Support")

    # Channels: business hours, then the snippet to paste into the website.
    section(page, "Channels")
    expect(page.get_by_text("No channels yet: create one below.")).to_be_visible()
    new_channel = page.get_by_role("region", name="New channel")
    new_channel.get_by_label("Name", exact=True).fill("Website")
    new_channel.get_by_label("Team that takes hand-offs").select_option(label="Second line")
    new_channel.get_by_label("Always open").uncheck()
    new_channel.get_by_label("Time zone").fill("Asia/Shanghai")
    new_channel.get_by_label("Monday").fill("09:00-12:00, 13:00-18:00")
    new_channel.get_by_label("Tuesday").fill("9:00 to noon")
    new_channel.get_by_role("button", name="Create channel").click()
    expect(new_channel.get_by_role("alert")).to_contain_text("9:00 to noon")
    new_channel.get_by_label("Tuesday").fill("09:00-18:00")
    new_channel.get_by_role("button", name="Create channel").click()
    console.toast("Channel Website created.")
    channel = page.get_by_role("region", name="Website")
    expect(channel.locator(".badge")).to_have_text(["Bot answers first", "Business hours"])
    snippet = channel.get_by_label("Widget snippet")
    expect(snippet).to_have_value(
        re.compile(
            rf'^<script src="{re.escape(base_url)}/widget/knowdesk-chat\.js" '
            r'data-widget-token="[^"]+" async></script>$'
        )
    )
    saved = ok(tenant.client.get("/api/v1/chat/channels"))[0]
    assert saved["business_hours"]["timezone"] == "Asia/Shanghai"
    assert saved["business_hours"]["weekly"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert saved["business_hours"]["weekly"]["tue"] == [["09:00", "18:00"]]
    assert saved["widget_token"] in snippet.input_value()
    page.evaluate("window.scrollTo(0, 0)")
    console.shot("settings")
    channel.get_by_role("button", name="Show identity secret").click()
    expect(channel.locator(".secret-value")).to_have_text(re.compile(r"\S{16,}"))

    # A webhook to a real receiver, tested from the page.
    section(page, "Webhooks")
    url = f"{receiver.url}/knowdesk"
    hook = page.locator("#add-webhook")
    hook.get_by_label("Address (URL)").fill(url)
    hook.get_by_role("button", name="Add webhook").click()
    expect(hook.get_by_role("alert")).to_have_text("Choose at least one event.")
    hook.get_by_label("Every event").check()
    hook.get_by_role("button", name="Add webhook").click()
    console.toast("Webhook added.")
    webhook = page.get_by_role("region", name=url)
    expect(webhook.locator(".badge")).to_have_text("Active")
    webhook.get_by_role("button", name="Send a test").click()
    console.toast("Test event queued: see the deliveries.")
    arrived = receiver.wait_for(1)
    assert arrived[0].path == "/knowdesk"
    wait_for(
        lambda: (
            ok(tenant.client.get(f"/api/v1/webhooks/{hook_id(tenant, url)}/deliveries"))[0][
                "status"
            ]
            == "delivered"
        ),
        what="the test delivery recorded",
    )
    webhook.get_by_text("Recent deliveries").click()
    delivered = webhook.get_by_role("listitem").filter(has_text="Delivered")
    expect(delivered).to_have_count(1)
    expect(delivered).to_contain_text("Attempts: 1")
    webhook.get_by_role("button", name="Pause").click()
    expect(webhook.locator(".badge").first).to_have_text("Paused")

    section(page, "SLA policies")
    policy = page.locator("#add-policy")
    policy.get_by_label("Policy").fill("Urgent within the hour")
    policy.get_by_label("Priority").select_option("urgent")
    policy.get_by_label("First reply within (hours)").fill("0.5")
    policy.get_by_label("Solved within (hours)").fill("8")
    policy.get_by_role("button", name="Add policy").click()
    console.toast("Policy added.")
    policies = page.get_by_role("region", name="SLA policies")
    row = policies.locator("tbody tr").filter(has_text="Urgent within the hour")
    expect(row).to_contain_text("30 min")
    expect(row).to_contain_text("8 h 00 min")

    # An API key's secret is shown once, then only its first characters.
    section(page, "API keys")
    expect(page.locator("#settings table")).to_contain_text("No API keys yet.")
    page.locator("#create-key").get_by_label("Name").fill("Help centre import")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator(".secret-value")
    expect(secret).to_have_text(re.compile(r"^kd_\S+"))
    key = secret.inner_text()
    with_key = httpx.get(f"{base_url}/api/v1/kb/collections", headers={"X-API-Key": key})
    assert with_key.status_code == 200, with_key.text
    page.reload()
    expect(page.locator("#settings tbody tr")).to_contain_text("Help centre import")
    expect(page.locator(".secret-value")).to_have_count(0)
    assert key not in page.content()

    section(page, "Language model")
    expect(page.locator("#llm-state")).to_contain_text("No language model is configured")

    # Sam moves to the knowledge base, then leaves.
    section(page, "Members")
    page.get_by_label("Role of Sam Support").select_option("editor")
    console.toast("Role of Sam Support changed.")
    members = ok(tenant.client.get("/api/v1/workspace/members"))
    assert next(m["role"] for m in members if m["user"]["name"] == "Sam Support") == "editor"
    page.get_by_role("button", name="Remove Sam Support").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Remove Sam Support from this workspace?")
    dialog.get_by_role("button", name="Remove").click()
    expect(page.get_by_label("Role of Sam Support")).to_have_count(0)
    members = ok(tenant.client.get("/api/v1/workspace/members"))
    assert [m["user"]["name"] for m in members] == ["Owner"]
