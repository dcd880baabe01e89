"""The keyboard alone: on each page, Tab reaches the main action (with a focus ring that can be
seen) and Enter or typing does it. No clicks and no fills here: keys only."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import FilePayload, Page, expect

from tests.conftest import Tenant
from tests.console.conftest import ASK_TIMEOUT, Console
from tests.kb.helpers import make_collection, make_faq
from tests.tickets.helpers import customer, make_channel, make_ticket, ok, wait_for


def sign_in_by_keyboard(console: Console, email: str, password: str, path: str) -> Page:
    console.go(path)
    page = console.page
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.locator("header.topbar")).to_be_visible()
    return page


def test_an_agent_works_by_keyboard(
    open_console: Callable[..., Console], tenant: Tenant, base_url: str
) -> None:
    channel = make_channel(tenant.client, name="Website")
    person = customer(base_url, channel)
    conversation = person.open_conversation()
    person.say(conversation, "My hub does not turn on")
    ticket = make_ticket(tenant.client, subject="Hub does not turn on")
    console = open_console()
    page = sign_in_by_keyboard(console, tenant.owner_email, tenant.password, "/console/inbox")

    # Inbox: open the waiting conversation, take it over, answer.
    row = page.locator("#conversations a").first
    expect(row).to_be_visible()
    console.tab_to(row)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/console/inbox/{conversation}"))
    take_over = page.get_by_role("button", name="Take over")
    console.tab_to(take_over)
    page.keyboard.press("Enter")
    reply = page.get_by_label("Your reply")
    expect(reply).to_be_focused()
    page.keyboard.type("Hold the power button for five seconds, please.")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg.agent")).to_contain_text("Hold the power button")
    wait_for(
        lambda: any(
            m["sender_kind"] == "agent"
            for m in ok(person.http.get(f"/api/v1/widget/conversations/{conversation}/messages"))
        ),
        what="the reply reaching the customer",
    )

    # Tickets: a new ticket from the list's main button.
    console.go("/console/tickets")
    expect(page.locator("#tickets tbody tr")).to_have_count(1)
    console.tab_to(page.get_by_role("button", name="New ticket"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Subject")).to_be_focused()
    page.keyboard.type("Charger missing from the box")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^#\d+ Charger missing from the box$")
    )

    # A ticket: a public reply.
    console.go(f"/console/tickets/{ticket['id']}")
    body = page.get_by_label("Reply (the customer sees it)")
    console.tab_to(body)
    page.keyboard.type("A new hub is on its way.")
    console.tab_to(page.get_by_role("button", name="Send reply"))
    page.keyboard.press("Enter")
    console.toast("Reply sent.")
    expect(page.locator("#timeline .comment").last).to_contain_text("A new hub is on its way.")


def test_an_editor_and_a_reviewer_work_by_keyboard(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    collection = make_collection(tenant.client, "Help Center")
    waiting = make_faq(
        tenant.client, collection, question="Is the hub waterproof?", similar=[], answer="No."
    )
    ok(tenant.client.post(f"/api/v1/kb/entries/{waiting['id']}/submit"))
    console = open_console()
    page = sign_in_by_keyboard(console, tenant.owner_email, tenant.password, "/console/kb")

    # Browse: search.
    console.tab_to(page.get_by_label("Search"))
    page.keyboard.type("waterproof")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("q=waterproof"))
    expect(page.locator("#entries tbody tr")).to_have_count(1)

    # A new FAQ entry.
    console.tab_to(page.get_by_role("link", name="New FAQ"))
    page.keyboard.press("Enter")
    question = page.get_by_label("Question")
    console.tab_to(question)
    page.keyboard.type("Can I mount the hub on a wall?")
    console.tab_to(page.get_by_label("Answer"))
    page.keyboard.type("Yes, with the bracket in the box.")
    console.tab_to(page.get_by_role("button", name="Create entry"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Can I mount the hub on a wall?")

    # Review: approve what waits.
    console.go("/console/kb/review")
    approve = page.get_by_role("button", name="Approve and publish")
    expect(approve).to_be_visible()
    console.tab_to(approve)
    page.keyboard.press("Enter")
    console.toast("Approved and published: Is the hub waterproof?")

    # Upload: the file chooser opens from the keyboard.
    console.go(f"/console/kb/upload?collection={collection}")
    choose = page.get_by_label("Choose files")
    expect(page.get_by_label("Collection")).to_have_value(collection)
    with page.expect_file_chooser() as chooser:
        console.tab_to(choose)
        page.keyboard.press("Enter")
    chooser.value.set_files(
        [FilePayload(name="care.md", mimeType="text/markdown", buffer=b"# Care\n\nWipe it dry.")]
    )
    console.tab_to(page.get_by_role("button", name="Upload", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator("#results tbody tr")).to_contain_text("care.md")

    # Try it: ask with Enter.
    console.go("/console/kb/try")
    console.tab_to(page.get_by_label("Customer's question"))
    page.keyboard.type("Is the hub waterproof?")
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_be_focused(timeout=ASK_TIMEOUT)
    expect(page.locator("#result #scores")).to_be_visible()


def test_an_owner_adds_a_member_by_keyboard(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    console = open_console()
    page = sign_in_by_keyboard(
        console, tenant.owner_email, tenant.password, "/console/settings/members"
    )
    form = page.locator("#add-member")
    console.tab_to(form.get_by_label("Email"))
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("Kim Keys")
    console.tab_to(form.get_by_label("Password"))
    page.keyboard.type("a long password")
    console.tab_to(form.get_by_role("button", name="Add member"))
    page.keyboard.press("Enter")
    console.toast("Kim Keys added.")
    expect(page.get_by_label("Role of Kim Keys")).to_have_value("agent")
