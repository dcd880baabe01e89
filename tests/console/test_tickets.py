"""Tickets in the browser: filters and saved views, SLA clocks, bulk changes that respect each
ticket's version, and one ticket's timeline with replies, notes and property changes."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests.conftest import Tenant
from tests.console.conftest import PHONE, Console, add_member
from tests.tickets.helpers import make_ticket, ok, patch


def setup_tickets(tenant: Tenant) -> tuple[str, list[dict[str, object]]]:
    """An SLA policy for normal tickets, an agent, and three tickets (one of them the agent's)."""
    ok(
        tenant.client.post(
            "/api/v1/sla-policies",
            json={
                "name": "Standard",
                "priority": "normal",
                "first_response_seconds": 4 * 3600,
                "resolution_seconds": 24 * 3600,
            },
        ),
        201,
    )
    add_member(tenant, "agent", "Alex Agent")
    members = ok(tenant.client.get("/api/v1/workspace/members"))
    agent = next(m["user"]["id"] for m in members if m["user"]["name"] == "Alex Agent")
    tickets = [
        make_ticket(
            tenant.client,
            subject="Printer on fire",
            description="Smoke comes out of the hub.",
            priority="urgent",
            requester={"email": "wang@example.com", "name": "Wang Fang"},
        ),
        make_ticket(tenant.client, subject="Refund request", priority="normal"),
        make_ticket(tenant.client, subject="Password reset", priority="low", assignee_id=agent),
    ]
    return agent, tickets


def test_filters_views_and_bulk_changes(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    agent, tickets = setup_tickets(tenant)
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/tickets")
    page = console.page
    rows = page.locator("#tickets tbody tr")
    expect(rows).to_have_count(3)
    refund = rows.filter(has_text="Refund request")
    expect(refund.locator(".sla")).to_have_text(
        re.compile(r"^First reply in (3 h 5\d|4 h 00) min$")
    )
    expect(rows.filter(has_text="Password reset")).to_contain_text("Alex Agent")

    filters = page.get_by_role("search")
    filters.get_by_label("Priority").select_option("urgent")
    expect(rows).to_have_count(1)
    expect(page.locator("#ticket-count")).to_have_text("1 ticket")
    expect(page).to_have_url(re.compile(r"priority=urgent"))
    page.get_by_role("button", name="Save view").click()
    page.get_by_label("Name of this view").fill("Urgent ones")
    page.get_by_role("button", name="OK").click()
    console.toast("View “Urgent ones” saved.")
    page.get_by_role("link", name="Unassigned").click()
    expect(rows).to_have_count(2)
    filters.get_by_label("Search").fill("refund")
    expect(rows).to_have_count(1)
    page.reload()
    expect(filters.get_by_label("Search")).to_have_value("refund")
    page.get_by_role("link", name="Urgent ones").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Printer on fire")
    page.get_by_role("link", name="All open").click()
    expect(rows).to_have_count(3)

    # Bulk: someone else changes one of the tickets after the list was read.
    page.get_by_label("Select ticket #1").check()
    page.get_by_label("Select ticket #2").check()
    expect(page.locator("#bulkbar")).to_contain_text("2 selected")
    fresh = ok(tenant.client.get(f"/api/v1/tickets/{tickets[1]['id']}"))
    ok(patch(tenant.client, fresh, subject="Refund request (double charge)"))
    bulk = page.get_by_role("region", name="Change the selected tickets")
    bulk.get_by_label("Status").select_option("pending")
    bulk.get_by_label("Assignee").select_option(label="Alex Agent")
    # The chosen values can be read on the dark bar (dark text on the white menus).
    expect(bulk.get_by_label("Status")).to_have_css("color", "rgb(27, 34, 48)")
    console.shot("tickets")
    bulk.get_by_role("button", name="Apply").click()
    console.toast("1 changed, 1 not (changed by someone else meanwhile).")
    printer = rows.filter(has_text="Printer on fire")
    expect(printer).to_contain_text("Pending")
    expect(printer).to_contain_text("Alex Agent")
    # No policy covers urgent tickets here, so no clock runs.
    expect(printer.locator(".sla-cell")).to_have_text("—")
    expect(rows.filter(has_text="double charge")).to_contain_text("New")
    changed = ok(tenant.client.get(f"/api/v1/tickets/{tickets[0]['id']}"))
    assert (changed["status"], changed["assignee_id"]) == ("pending", agent)

    page.set_viewport_size(PHONE)
    console.width = PHONE["width"]
    console.fits_width()
    console.shot("tickets")


def test_a_ticket_timeline_with_replies_notes_and_changes(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    _, tickets = setup_tickets(tenant)
    ticket = tickets[1]
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/tickets")
    page = console.page
    page.get_by_role("link", name="Refund request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{ticket['number']} Refund request")
    sla = page.locator("#sla")
    expect(sla).to_contain_text(re.compile(r"First reply in \d h"))
    expect(sla).to_contain_text("Resolution")

    reply = page.get_by_label("Reply (the customer sees it)")
    reply.fill("We have refunded the order; it shows in 3 days.")
    page.get_by_label("Then set status").select_option("pending")
    page.get_by_role("button", name="Send reply").click()
    console.toast("Reply sent.")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".comment").last).to_contain_text("We have refunded the order")
    expect(timeline.locator(".comment").last).to_contain_text("Public reply")
    expect(timeline).to_contain_text("Status: New → Pending")
    props = page.get_by_role("region", name="Properties")
    expect(props.get_by_label("Status")).to_have_value("pending")
    expect(sla).to_contain_text("done")

    page.get_by_label("Internal note").check()
    note = page.get_by_label("Note (only your team sees it)")
    note.fill("Checked with finance.")
    page.get_by_role("button", name="Add note").click()
    console.toast("Note added.")
    expect(timeline.locator(".comment.note")).to_contain_text("Checked with finance.")
    expect(timeline.locator(".comment.note .badge")).to_have_text("Internal note")

    props.get_by_label("Priority").select_option("high")
    console.toast("Saved.")
    expect(timeline).to_contain_text("Priority: Normal → High")
    props.get_by_label("Assignee").select_option(label="Alex Agent")
    expect(timeline.get_by_text("assigned it to Alex Agent")).to_have_count(1)
    expect(timeline).not_to_contain_text("Assignee: None → Alex Agent")
    console.shot("ticket")

    # Someone else renames it meanwhile: the next change is refused and the page shows theirs.
    fresh = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    ok(patch(tenant.client, fresh, subject="Refund for order 1042"))
    props.get_by_label("Status").select_option("solved")
    console.toast(re.compile("Someone changed this ticket meanwhile"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"#{ticket['number']} Refund for order 1042"
    )
    expect(props.get_by_label("Status")).to_have_value("pending")

    page.set_viewport_size(PHONE)
    console.width = PHONE["width"]
    console.fits_width()
    console.shot("ticket")
