"""Signing in and out, pages by role, switching workspace and language, and the session cookie
that only the console's own pages may use to change anything."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import expect

from tests.conftest import Tenant
from tests.console.conftest import PHONE, Console, add_member, cookie_client


def test_sign_in_lands_on_the_inbox_and_signs_out(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    console = open_console()
    console.go("/")
    page = console.page
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    expect(page.get_by_label("Email")).to_be_focused()
    page.get_by_label("Email").fill(tenant.owner_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value(tenant.owner_email)
    console.shot("sign-in")

    page.get_by_label("Password").fill(tenant.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/inbox$"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        ["Inbox", "Tickets", "Knowledge base", "Analytics", "Settings"]
    )
    expect(nav.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    session = next(c for c in page.context.cookies() if c["name"] == "knowdesk_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"

    page.locator("details.menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    console.go("/console/tickets")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole%2Ftickets"))


def test_sign_in_returns_to_the_page_asked_for_and_never_to_another_site(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/kb/try")
    expect(console.page).to_have_url(re.compile(r"/console/kb/try$"))

    other = open_console()
    other.go("/console/sign-in?next=https://evil.example/steal")
    other.page.get_by_label("Email").fill(tenant.owner_email)
    other.page.get_by_label("Password").fill(tenant.password)
    other.page.get_by_role("button", name="Sign in").click()
    expect(other.page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/console/inbox$"))


def test_each_role_sees_its_own_pages(open_console: Callable[..., Console], tenant: Tenant) -> None:
    landings = {
        "agent": "/console/inbox",
        "editor": "/console/kb",
        "reviewer": "/console/kb/review",
    }
    for role, landing in landings.items():
        console = open_console()
        console.sign_in(add_member(tenant, role), tenant.password)
        page = console.page
        expect(page).to_have_url(re.compile(re.escape(landing) + "$"))
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link")).to_have_text(
            ["Inbox", "Tickets", "Knowledge base", "Analytics"]
        )
        console.go("/console/settings/members")
        expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
        if role == "agent":
            console.go("/console/kb/upload")
            expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")
            console.go("/console/kb")
            expect(page.get_by_role("link", name="New FAQ")).to_have_count(0)


def test_switching_workspace(open_console: Callable[..., Console], tenant: Tenant) -> None:
    made = tenant.client.post("/api/v1/kb/collections", json={"name": "Only in Acme"})
    assert made.status_code == 201, made.text
    second = tenant.client.post("/api/v1/workspaces", json={"name": "Zeta Support"})
    assert second.status_code == 201, second.text
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/kb")
    page = console.page
    expect(page.locator("#collections")).to_contain_text("Only in Acme")
    page.locator("details.menu summary").click()
    expect(page.locator("details.menu summary")).to_contain_text("Acme")
    page.get_by_label("Workspace").select_option(label="Zeta Support (Owner)")
    console.shot("workspace-menu")
    page.get_by_role("button", name="Switch workspace").click()
    expect(page).to_have_url(re.compile(r"/console/inbox$"))
    expect(page.locator("details.menu summary")).to_contain_text("Zeta Support")
    console.go("/console/kb")
    expect(page.locator("#collections")).not_to_contain_text("Only in Acme")


def test_chinese_by_browser_and_by_toggle(
    open_console: Callable[..., Console], tenant: Tenant
) -> None:
    chinese = open_console(locale="zh-CN")
    chinese.go("/console/sign-in")
    page = chinese.page
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    chinese.shot("sign-in-zh")
    chinese.sign_in(tenant.owner_email, tenant.password)
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link")).to_have_text(["会话", "工单", "知识库", "数据分析", "设置"])

    english = open_console(width=PHONE["width"])
    english.sign_in(tenant.owner_email, tenant.password, "/console/tickets")
    page = english.page
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="中文").click()
    expect(page).to_have_url(re.compile(r"/console/tickets"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工单")
    expect(page.get_by_role("button", name="新建工单")).to_be_visible()
    page.locator("details.menu summary").click()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")


def test_the_session_cookie_changes_nothing_from_another_site(
    open_console: Callable[..., Console], tenant: Tenant, base_url: str
) -> None:
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password)
    with cookie_client(base_url, console) as http:
        assert http.get("/api/v1/kb/collections").status_code == 200
        body = {"name": "Planted"}
        plain = http.post("/api/v1/kb/collections", json=body)
        assert plain.status_code == 403, plain.text
        assert plain.json()["error"]["code"] == "forbidden"
        evil = http.post(
            "/api/v1/kb/collections", json=body, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        # A form another site posts (no preflight needed) is refused the same way.
        form = http.post(
            "/api/v1/kb/collections/00000000-0000-0000-0000-000000000000/documents",
            files={"files": ("a.txt", b"x")},
            headers={"Origin": "https://evil.example"},
        )
        assert form.status_code == 403
        own = http.post("/api/v1/kb/collections", json=body, headers={"Origin": base_url})
        assert own.status_code == 201, own.text
        scripted = http.post(
            "/api/v1/kb/collections",
            json={"name": "From a console script"},
            headers={"X-Knowdesk-Console": "1"},
        )
        assert scripted.status_code == 201, scripted.text
    # Bearer tokens and API keys are unaffected.
    assert tenant.client.post("/api/v1/kb/collections", json={"name": "API"}).status_code == 201
    signed_out = httpx.post(
        f"{base_url}/console/sign-in", data={"email": tenant.owner_email, "password": "x"}
    )
    assert signed_out.status_code == 403
