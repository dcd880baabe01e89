"""Knowledge base in the browser: writing an FAQ entry, review with a side-by-side diff, history
and rollback, uploads with progress, the stale list and the try-it box."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlencode

from playwright.sync_api import FilePayload, Page, expect

from tests.conftest import Tenant
from tests.console.conftest import ASK_TIMEOUT, PHONE, Console, add_member
from tests.kb.helpers import make_collection, make_faq, wait_indexed


def entry_id_of(page: Page) -> str:
    match = re.search(r"/console/kb/entries/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def test_an_faq_entry_is_written_sent_back_fixed_and_published(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    make_collection(tenant.client, "Help Center")
    editor = open_console()
    editor.sign_in(add_member(tenant, "editor", "Erin Editor"), tenant.password)
    page = editor.page
    page.get_by_role("link", name="Help Center").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help Center")
    page.get_by_role("link", name="New FAQ").click()
    expect(page.get_by_label("Collection")).to_have_value(re.compile(".+"))
    page.get_by_role("button", name="Create entry").click()
    expect(page.locator("#form-error")).to_have_text("Question is required.")
    page.get_by_label("Question").fill("How long is the warranty?")
    page.get_by_label("Other ways to ask").fill("Warranty period\nHow many years of warranty")
    page.get_by_label("Answer").fill("Two years from delivery.")
    page.get_by_label("Tags").fill("warranty, 保修")
    page.get_by_role("button", name="Create entry").click()
    editor.toast("Entry created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("How long is the warranty?")
    expect(page.locator("#status-line")).to_contain_text("Draft")
    page.get_by_role("button", name="Send to review").click()
    expect(page.locator("#status-line")).to_contain_text("In review")
    entry = entry_id_of(page)

    reviewer = open_console()
    reviewer.sign_in(add_member(tenant, "reviewer", "Rita Reviewer"), tenant.password)
    rpage = reviewer.page
    expect(rpage).to_have_url(re.compile("/console/kb/review"))
    expect(rpage.locator("#queue")).to_contain_text("How long is the warranty?")
    diff = rpage.locator(".diff")
    expect(diff.locator(".diff-head")).to_have_text(["(new entry)", "Proposed: version 1"])
    expect(diff.locator(".cell.add").first).to_contain_text("Q: How long is the warranty?")
    rpage.get_by_role("button", name="Send back").click()
    expect(rpage.locator("#decision-error")).to_have_text(
        "Say why in the comment, so the author can fix it."
    )
    rpage.get_by_label("Comment for the author").fill("Say that the receipt is needed.")
    rpage.get_by_role("button", name="Send back").click()
    reviewer.toast("Sent back: How long is the warranty?")
    expect(rpage.locator("#review")).to_have_text("All reviewed. Well done.")
    expect(rpage.locator("#queue")).to_have_text("Nothing waits for review.")

    page.reload()
    expect(page.locator("#reviews")).to_contain_text("Say that the receipt is needed.")
    expect(page.locator("#status-line")).to_contain_text("Draft")
    page.get_by_label("Answer").fill("Two years from delivery. Keep the receipt.")
    page.get_by_label("What changed").fill("receipt")
    page.get_by_role("button", name="Save").click()
    editor.toast("Saved as version 2.")
    page.get_by_role("button", name="Send to review").click()
    expect(page.locator("#status-line")).to_contain_text("In review")

    rpage.reload()
    expect(rpage.locator("#review h2")).to_have_text("How long is the warranty?")
    rpage.get_by_label("Comment for the author").fill("Clear now, thanks.")
    rpage.get_by_role("button", name="Approve and publish").click()
    reviewer.toast("Approved and published: How long is the warranty?")

    # A change to published content is reviewed against what customers see now.
    page.reload()
    expect(page.locator("#status-line")).to_contain_text("Published")
    expect(page.locator("#reviews")).to_contain_text("Clear now, thanks.")
    page.get_by_label("Answer").fill("Three years from delivery. Keep the receipt.")
    page.get_by_role("button", name="Save").click()
    editor.toast("Saved as version 3.")
    expect(page.locator("#status-line")).to_contain_text("customers see version 2")
    page.get_by_role("button", name="Send to review").click()
    expect(page.locator("#status-line")).to_contain_text("In review")
    rpage.goto(f"{reviewer.base_url}/console/kb/review?entry={entry}")
    expect(diff.locator(".diff-head")).to_have_text(
        ["Version 2 (published)", "Proposed: version 3"]
    )
    expect(diff.locator(".cell.del del")).to_have_text("Two")
    expect(diff.locator(".cell.add ins")).to_have_text("Three")
    reviewer.shot("kb-review")
    rpage.set_viewport_size(PHONE)
    reviewer.width = PHONE["width"]
    reviewer.fits_width()
    reviewer.shot("kb-review")


def test_history_compares_versions_and_rolls_back(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    collection = make_collection(tenant.client, "Policies")
    entry = make_faq(
        tenant.client,
        collection,
        question="What is the return policy?",
        similar=["Can I return it?"],
        answer="Returns within 30 days.",
        publish=True,
    )
    for version, answer in [(1, "Returns within 14 days."), (2, "Returns within 7 days.")]:
        r = tenant.client.patch(
            f"/api/v1/kb/entries/{entry['id']}",
            json={"expected_version": version, "answer": answer, "note": f"edit {version}"},
        )
        assert r.status_code == 200, r.text

    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, f"/console/kb/entries/{entry['id']}")
    page = console.page
    versions = page.locator("#versions > li")
    expect(versions).to_have_count(3)
    expect(versions.first).to_contain_text("Version 3")
    expect(versions.first).to_contain_text("edit 2")
    expect(page.locator("#status-line")).to_contain_text("customers see version 1")
    page.get_by_label("From").select_option("1")
    page.get_by_label("to", exact=True).select_option("3")
    page.get_by_role("button", name="Compare", exact=True).click()
    compare = page.locator("#compare-card")
    expect(compare).to_be_focused()
    expect(compare.locator(".diff-head")).to_have_text(["Version 1 (published)", "Version 3"])
    expect(compare.locator(".cell.del ins, .cell.del del")).to_have_text("30")
    expect(compare.locator(".cell.add ins")).to_have_text("7")
    console.shot("kb-history", full_page=True)

    versions.nth(2).get_by_role("button", name="Roll back to version 1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Make a new version with the content of version 1?")
    dialog.get_by_label("Publish it at once").check()
    dialog.get_by_role("button", name="Roll back").click()
    console.toast("Version 4 now holds the content of version 1.")
    expect(page.get_by_label("Answer")).to_have_value("Returns within 30 days.")
    expect(page.locator("#status-line")).to_contain_text("Published")
    expect(versions).to_have_count(4)
    expect(versions.first).to_contain_text("rollback to version 1")


def test_uploads_show_progress_and_each_files_result(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    collection = make_collection(tenant.client, "Manuals")
    console = open_console()
    console.sign_in(
        tenant.owner_email, tenant.password, f"/console/kb/upload?collection={collection}"
    )
    page = console.page
    expect(page.get_by_label("Collection")).to_have_value(collection)
    manual = "# Hub manual\n\n## Reset\n\nHold the reset button for ten seconds.\n" + (
        "Long section of the manual. " * 60
    )
    page.get_by_label("Choose files").set_input_files(
        [FilePayload(name="hub-manual.md", mimeType="text/markdown", buffer=manual.encode())]
    )
    expect(page.locator("#chosen")).to_contain_text("hub-manual.md")
    page.get_by_label("Publish at once (no review)").check()
    # What the progress line says, step by step.
    page.evaluate(
        """() => {
            window.progressTexts = [];
            const line = document.querySelector('#progress-text');
            new MutationObserver(() => window.progressTexts.push(line.textContent))
                .observe(line, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#progress")).to_have_attribute("value", "100")
    expect(page.locator("#progress-text")).to_have_text("Done.")
    # How much is sent (a small file may go in one step), then the server reads it, then done.
    said = page.evaluate("window.progressTexts")
    assert said[-2:] == ["Sent. The server is reading the files…", "Done."], said
    assert all(re.search(r" sent \(\d+%\)$", text) for text in said[:-2]), said
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("hub-manual.md")
    expect(results.first.locator("td").nth(1)).to_have_text("1")
    expect(page.locator("#new-entries")).to_contain_text("Hub manual")
    expect(page.locator("#indexing")).to_have_text("The entry is searchable.", timeout=120_000)
    console.shot("kb-upload")

    page.get_by_label("FAQ file").check()
    faq_csv = (
        "id,question,similar,answer\n"
        "ship,How long does shipping take?,,Three to five days.\n"
        "bad,,,An answer without a question.\n"
    )
    page.get_by_label("Choose files").set_input_files(
        [FilePayload(name="faq.csv", mimeType="text/csv", buffer=faq_csv.encode())]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(results.first).to_contain_text("faq.csv")
    expect(results.first.locator("td").nth(1)).to_have_text("1")
    expect(results.first.locator("td").nth(4)).to_contain_text("row 3:")
    expect(page.locator("#new-entries")).to_contain_text("How long does shipping take?")

    # A document's text comes from its file; its title, tags and review date are edited here.
    console.go(f"/console/kb?collection={collection}")
    page.get_by_role("link", name="Hub manual").click()
    expect(page.get_by_role("region", name="Text of the document")).to_contain_text(
        "Hold the reset button for ten seconds."
    )
    expect(page.get_by_label("Question")).to_be_hidden()
    page.get_by_label("Title").fill("Hub manual (2024 model)")
    page.get_by_label("Tags").fill("hub, manual")
    page.get_by_label("What changed").fill("name the model")
    page.get_by_role("button", name="Save").click()
    console.toast("Saved as version 2.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hub manual (2024 model)")
    expect(page.locator("#versions > li").first).to_contain_text("name the model")


def test_stale_entries_are_listed_oldest_first(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    collection = make_collection(tenant.client, "FAQ")
    long_ago = (date.today() - timedelta(days=40)).isoformat()
    recently = (date.today() - timedelta(days=3)).isoformat()
    make_faq(tenant.client, collection, question="Recently stale?", review_by=recently)
    make_faq(tenant.client, collection, question="Long stale?", review_by=long_ago)
    make_faq(tenant.client, collection, question="Still fresh?", review_by="2999-01-01")
    console = open_console(width=PHONE["width"])
    console.sign_in(tenant.owner_email, tenant.password, "/console/kb/stale")
    rows = console.page.locator("#stale tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Long stale?")
    expect(rows.nth(0)).to_contain_text("40 days over")
    expect(rows.nth(1)).to_contain_text("Recently stale?")
    console.fits_width()
    console.shot("kb-stale")


def test_try_it_shows_the_reply_its_sources_and_why(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    collection = make_collection(tenant.client, "FAQ")
    faqs = [
        ("保修期多长？", ["产品保修几年"], "所有设备保修两年，人为损坏除外。"),
        ("退货政策是什么？", ["可以退货吗"], "收货后 30 天内可以无理由退货。"),
        ("How long does shipping take?", ["delivery time"], "Orders arrive in 3 to 5 days."),
    ]
    for question, similar, answer in faqs:
        entry = make_faq(
            tenant.client, collection, question=question, similar=similar, answer=answer,
            publish=True,
        )  # fmt: skip
        assert wait_indexed(tenant.client, entry["id"])["index_status"] == "done"

    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/kb")
    page = console.page
    expect(page.locator("#entries tbody tr")).to_have_count(3)
    expect(page.locator("#entries tbody tr").first).to_contain_text("Published")
    console.shot("kb-browse")

    console.go("/console/kb/try")
    page.get_by_label("Customer's question").fill("保修期多长？")
    page.get_by_role("button", name="Ask").click()
    result = page.locator("#result")
    # The answer path shares the embedding model with indexing: under load it may queue.
    expect(result).to_be_focused(timeout=ASK_TIMEOUT)
    expect(result.locator("h2 .badge")).to_have_text(
        re.compile("Direct answer|From documents|Clarify")
    )
    expect(result).to_contain_text("保修两年")
    expect(
        result.locator("#sources a, button").filter(has_text="保修期多长？").first
    ).to_be_visible()
    scores = result.locator("#scores")
    expect(scores).to_contain_text("Confidence")
    expect(scores).to_contain_text("Answer threshold")
    # Tall enough to show the scores under the reply and its sources.
    page.set_viewport_size({"width": console.width, "height": 1100})
    console.shot("kb-try")

    page.get_by_label("Customer's question").fill("What is the capital of Mongolia?")
    page.get_by_role("button", name="Ask").click()
    expect(result.locator("h2 .badge")).to_have_text("To a person")
    expect(result).to_contain_text("No reply: the conversation goes to a person.")

    # A question in the address is asked on arrival (a link to share, or a form sent early).
    console.go("/console/kb/try?" + urlencode({"question": "可以退货吗"}))
    expect(page.get_by_label("Customer's question")).to_have_value("可以退货吗")
    expect(result).to_contain_text("30 天内可以无理由退货", timeout=ASK_TIMEOUT)
