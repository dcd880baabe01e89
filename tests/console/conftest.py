"""Browser fixtures: Debian's Chromium, headless, driven by Playwright against the session's
real server. Each test gets its own workspace (the tenant fixture) and signs in through the
sign-in page like a person would.

Screenshots go to test-artifacts/console/. With KNOWDESK_SCREENSHOTS=docs the desktop shots of
the main pages (DOCS_PAGES) and a phone one (DOCS_PHONE_PAGES) also replace the set in
docs/screenshots/ that the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.conftest import ARTIFACTS, ROOT, Tenant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SHOTS = ARTIFACTS / "console"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
DOCS_PAGES = {
    "inbox",
    "conversation",
    "tickets",
    "ticket",
    "kb-browse",
    "kb-review",
    "kb-try",
    "settings",
    "settings-rules",
}
# The phone views the README shows too, as <name>-phone.png.
DOCS_PHONE_PAGES = {"conversation", "conversation-zh", "kb-review-zh"}
# The answer path embeds the question with the model that indexing uses too, so under load an
# answer may wait behind other tests' indexing.
ASK_TIMEOUT = 45_000
# How many Tab presses may pass before the main action of a page has the focus.
MAX_TABS = 60

expect.set_options(timeout=15_000)


# Package scope, not session: sync Playwright keeps an event loop running in this thread while it
# is open, and every async test after the console's would then fail to start its own.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps` (or `make test`).")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@dataclass
class Console:
    """One browser tab on the console, with the JavaScript errors it has raised."""

    page: Page
    base_url: str
    width: int
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def sign_in(self, email: str, password: str, path: str = "/console/") -> None:
        self.go(path)
        self.page.get_by_label(re.compile("^(Email|邮箱)$")).fill(email)
        self.page.get_by_label(re.compile("^(Password|密码)$")).fill(password)
        self.page.get_by_role("button", name=re.compile("^(Sign in|登录)$")).click()
        expect(self.page.locator("header.topbar")).to_be_visible()

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        """A screenshot named for the flow and the width (e.g. inbox-1280.png), without the
        passing messages of earlier steps. The desktop views of the main pages (DOCS_PAGES) and
        a few phone views (DOCS_PHONE_PAGES) are the README's, from the top of the page, at the
        window's size."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.width}.png"
        docs_name = None
        if not full_page and self.width == DESKTOP["width"] and name in DOCS_PAGES:
            docs_name = f"{name}.png"
        elif not full_page and self.width == PHONE["width"] and name in DOCS_PHONE_PAGES:
            docs_name = f"{name}-phone.png"
        for_docs = docs_name is not None
        self.page.evaluate("document.querySelectorAll('#toasts .toast').forEach(t => t.remove())")
        if full_page or for_docs:
            # The sticky top bar would be drawn where the page happens to be scrolled to.
            self.page.evaluate("window.scrollTo(0, 0)")
        self.page.evaluate("document.fonts.ready")
        self.page.screenshot(path=path, full_page=full_page, animations="disabled")
        if docs_name and os.environ.get("KNOWDESK_SCREENSHOTS") == "docs":
            DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SHOTS / docs_name)
        return path

    def toast(self, text: str | re.Pattern[str]) -> None:
        expect(self.page.locator("#toasts .toast").filter(has_text=text).first).to_be_visible()

    def fits_width(self) -> None:
        """Nothing sticks out sideways: the page scrolls only up and down."""
        overflow = self.page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{self.page.url} is {overflow}px wider than the screen"

    def tab_to(self, target: Locator) -> None:
        """Press Tab until `target` has the focus, as a keyboard user would, and check that the
        focus can be seen there (the console's focus ring: an outline or a box shadow)."""
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Tab")
            if target.evaluate("element => element === document.activeElement"):
                ring = target.evaluate(
                    """element => {
                        const style = getComputedStyle(element);
                        return element.matches(':focus-visible')
                            && (style.outlineStyle !== 'none' || style.boxShadow !== 'none');
                    }"""
                )
                assert ring, f"{target} has the focus but shows no focus ring"
                return
        raise AssertionError(f"{MAX_TABS} presses of Tab never reached {target}")


@pytest.fixture
def open_console(browser: Browser, base_url: str) -> Iterator[Callable[..., Console]]:
    contexts: list[BrowserContext] = []
    consoles: list[Console] = []

    def open_tab(width: int = DESKTOP["width"], locale: str = "en-US") -> Console:
        height = PHONE["height"] if width <= PHONE["width"] else DESKTOP["height"]
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, timezone_id="UTC"
        )
        contexts.append(context)
        page = context.new_page()
        console = Console(page, base_url, width)
        page.on("pageerror", lambda error: console.errors.append(str(error)))
        consoles.append(console)
        return console

    yield open_tab
    for context in contexts:
        context.close()
    errors = [e for c in consoles for e in c.errors]
    assert not errors, f"JavaScript errors in the console: {errors}"


def add_member(tenant: Tenant, role: str, name: str | None = None) -> str:
    """A new member of the tenant's workspace; returns the email to sign in with."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    r = tenant.client.post(
        "/api/v1/workspace/members",
        json={
            "email": email,
            "name": name or role.title(),
            "role": role,
            "password": tenant.password,
        },
    )
    assert r.status_code == 201, r.text
    return email


def owner_id(tenant: Tenant) -> str:
    return str(tenant.client.get("/api/v1/me").json()["user"]["id"])


def cookie_client(base_url: str, console: Console) -> httpx.Client:
    """An HTTP client carrying the browser's cookies (the HttpOnly session among them)."""
    cookies = {c["name"]: c["value"] for c in console.page.context.cookies()}
    return httpx.Client(base_url=base_url, cookies=cookies, timeout=30)
