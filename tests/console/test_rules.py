"""Routing rules edited in the console, as an owner: two rules added, moved, refused by the
server (an assignee outside the rule's team, an assignee no longer in the workspace) with the
refusal on the page and the stored rules as they were, edited and deleted; then a new ticket is
routed by the rules as the page left them. And the same editor by keyboard alone, on a phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.conftest import Tenant
from tests.console.conftest import PHONE, Console, add_member, owner_id
from tests.console.test_keyboard import sign_in_by_keyboard
from tests.tickets.helpers import make_team, make_ticket, ok


def member_id(tenant: Tenant, email: str) -> str:
    people = ok(tenant.client.get("/api/v1/workspace/members"))
    return str(next(m["user"]["id"] for m in people if m["user"]["email"] == email))


def stored(tenant: Tenant) -> list[dict[str, Any]]:
    return list(ok(tenant.client.get("/api/v1/ticket-rules")))


def names_in_page(page: Page) -> Locator:
    return page.locator("#rules .rule-name")


def condition(form: Locator, index: int, field: str, op: str, value: str) -> None:
    form.get_by_role("button", name="Add condition").click()
    row = form.locator(".condition").nth(index)
    row.get_by_label("Field").select_option(label=field)
    row.get_by_label("Test").select_option(label=op)
    row.get_by_label("Value").fill(value)


def test_an_owner_edits_the_routing_rules(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    ana_email = add_member(tenant, "agent", "Ana Agent")
    bo_email = add_member(tenant, "agent", "Bo Agent")
    cy_email = add_member(tenant, "agent", "Cy Agent")
    ana, bo, cy = (member_id(tenant, e) for e in (ana_email, bo_email, cy_email))
    billing = make_team(tenant.client, [ana, owner_id(tenant)], name="Billing")
    support = make_team(tenant.client, [bo], name="Support")

    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/settings/rules")
    page = console.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Routing rules")
    expect(page.locator("#rules")).to_have_text("No rules: tickets go to their category's team.")

    # Two rules: refunds to billing, mail to support.
    form = page.locator("#rule-form")
    form.get_by_label("Name", exact=True).fill("Refunds to billing")
    condition(form, 0, "Subject", "contains", "refund")
    form.get_by_label("Team", exact=True).select_option(label="Billing")
    form.get_by_label("Priority", exact=True).select_option(label="High")
    form.get_by_label("Add tags").fill("refund, money")
    form.get_by_role("button", name="Add rule").click()
    console.toast("Rule Refunds to billing added.")
    form.get_by_label("Name", exact=True).fill("Mail to support")
    condition(form, 0, "Channel", "is", "email")
    form.get_by_label("Team", exact=True).select_option(label="Support")
    form.get_by_label("Assignee").select_option(label="Bo Agent")
    form.get_by_role("button", name="Add rule").click()
    console.toast("Rule Mail to support added.")
    expect(names_in_page(page)).to_have_text(["Refunds to billing", "Mail to support"])
    first = page.locator("#rules > li").first
    expect(first).to_contain_text("Subject contains refund")
    expect(first).to_contain_text("to team Billing; priority High; tags refund, money")

    # Reorder: mail first, so the refund rule (later) wins for refunds by mail.
    page.get_by_role("button", name="Move Mail to support up").click()
    expect(names_in_page(page)).to_have_text(["Mail to support", "Refunds to billing"])
    expect(page.get_by_role("button", name="Move Mail to support down")).to_be_focused()
    assert [r["name"] for r in stored(tenant)] == ["Mail to support", "Refunds to billing"]
    before = stored(tenant)

    # Refused by the server: the reason beside the form, the form as it was typed, the rules
    # as they were stored.
    page.reload()
    form.get_by_label("Name", exact=True).fill("Big refunds to Bo")
    condition(form, 0, "Subject", "contains", "big refund")
    form.get_by_label("Team", exact=True).select_option(label="Billing")
    form.get_by_label("Assignee").select_option(label="Bo Agent")
    form.get_by_role("button", name="Add rule").click()
    expect(form.get_by_role("alert")).to_contain_text("is contradictory")
    expect(form.get_by_role("alert")).to_contain_text("is not a member of team")
    # Cy leaves while the page is open; the page still offers Cy.
    removed = tenant.client.delete(f"/api/v1/workspace/members/{cy}")
    assert removed.status_code == 204, removed.text
    form.get_by_label("Team", exact=True).select_option(label="(leave as it is)")
    form.get_by_label("Assignee").select_option(label="Cy Agent")
    form.get_by_role("button", name="Add rule").click()
    expect(form.get_by_role("alert")).to_contain_text(f"Unknown assignee {cy}")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Big refunds to Bo")
    expect(form.locator(".condition").get_by_label("Value")).to_have_value("big refund")
    expect(form.get_by_label("Add tags")).to_have_value("")
    assert stored(tenant) == before
    expect(names_in_page(page)).to_have_text(["Mail to support", "Refunds to billing"])

    # Edit: refunds go to Ana, urgently, and nothing after this rule runs.
    page.get_by_role("button", name="Edit Refunds to billing").click()
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    expect(page.get_by_role("heading", name="Edit rule Refunds to billing")).to_be_visible()
    expect(form.locator(".condition").get_by_label("Value")).to_have_value("refund")
    form.get_by_label("Priority", exact=True).select_option(label="Urgent")
    form.get_by_label("Assignee").select_option(label="Ana Agent")
    form.get_by_label("Stop: later rules do not run").check()
    form.get_by_role("button", name="Save rule").click()
    console.toast("Rule Refunds to billing saved.")
    expect(page.get_by_role("button", name="Edit Refunds to billing")).to_be_focused()
    second = page.locator("#rules > li").nth(1)
    expect(second).to_contain_text(
        "to team Billing; to Ana Agent; priority Urgent; tags refund, money; stop"
    )
    expect(page.get_by_role("heading", name="New rule")).to_be_visible()
    console.shot("settings-rules")
    console.fits_width()

    # Delete the mail rule.
    page.get_by_role("button", name="Delete Mail to support").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the rule Mail to support?")
    dialog.get_by_role("button", name="Delete").click()
    console.toast("Rule Mail to support deleted.")
    expect(names_in_page(page)).to_have_text(["Refunds to billing"])

    # The rules as the page left them route new tickets.
    rules = stored(tenant)
    assert [r["name"] for r in rules] == ["Refunds to billing"]
    assert rules[0]["conditions"] == [{"field": "subject", "op": "contains", "value": "refund"}]
    refund = make_ticket(
        tenant.client, subject="Refund for order 42", description="Twice charged.", channel="email"
    )
    assert refund["team_id"] == billing
    assert refund["assignee_id"] == ana
    assert refund["priority"] == "urgent"
    assert {"refund", "money"} <= set(refund["tags"])
    other = make_ticket(
        tenant.client, subject="Where is my parcel", description="Late.", channel="email"
    )
    assert other["team_id"] != support
    assert other["assignee_id"] != bo
    assert "refund" not in other["tags"]


def test_an_owner_adds_and_moves_a_rule_by_keyboard_on_a_phone(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    ok(
        tenant.client.post(
            "/api/v1/ticket-rules",
            json={
                "name": "Chinese tickets tagged",
                "conditions": [{"field": "language", "op": "eq", "value": "zh"}],
                "tags": ["zh"],
            },
        ),
        201,
    )
    console = open_console(width=PHONE["width"])
    page = sign_in_by_keyboard(
        console, tenant.owner_email, tenant.password, "/console/settings/rules"
    )
    expect(names_in_page(page)).to_have_text(["Chinese tickets tagged"])
    form = page.locator("#rule-form")
    console.tab_to(form.get_by_label("Name", exact=True))
    page.keyboard.type("VIP first")
    console.tab_to(form.get_by_role("button", name="Add condition"))
    page.keyboard.press("Enter")
    row = form.locator(".condition")
    expect(row.get_by_label("Field")).to_be_focused()
    page.keyboard.type("Customer attribute")
    expect(row.get_by_label("Attribute")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.type("plan")
    console.tab_to(row.get_by_label("Test"))
    page.keyboard.type("is one of")
    console.tab_to(row.get_by_label("Value"))
    page.keyboard.type("gold, platinum")
    console.tab_to(form.get_by_label("Priority", exact=True))
    page.keyboard.type("Urgent")
    expect(form.get_by_label("Priority", exact=True)).to_have_value("urgent")
    console.tab_to(form.get_by_role("button", name="Add rule"))
    page.keyboard.press("Enter")
    console.toast("Rule VIP first added.")
    expect(names_in_page(page)).to_have_text(["Chinese tickets tagged", "VIP first"])

    up = page.get_by_role("button", name="Move VIP first up")
    console.tab_to(up)
    page.keyboard.press("Enter")
    expect(names_in_page(page)).to_have_text(["VIP first", "Chinese tickets tagged"])
    expect(page.get_by_role("button", name="Move VIP first down")).to_be_focused()
    console.shot("settings-rules", full_page=True)
    console.fits_width()
    rules = stored(tenant)
    assert [r["name"] for r in rules] == ["VIP first", "Chinese tickets tagged"]
    assert rules[0]["conditions"] == [
        {"field": "contact.plan", "op": "in", "value": ["gold", "platinum"]}
    ]
    assert rules[0]["priority"] == "urgent"
