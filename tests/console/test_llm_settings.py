"""The language model page in the browser: an owner saves the workspace's own endpoint with an
API key that the page never shows again, tests the connection against a real chat-completions
server (and sees why it fails when the server errs), by mouse at 1280 px and by keyboard on a
390 px phone in Chinese."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import Tenant, free_port
from tests.console.conftest import PHONE, Console
from tests.retrieval.test_llm import FakeChatCompletions
from tests.tickets.helpers import ok

SECRET = "sk-console-secret-93b1"


@pytest.fixture
def chat() -> Iterator[FakeChatCompletions]:
    fake = FakeChatCompletions(free_port())
    fake.start()
    yield fake
    fake.stop()


def test_an_owner_saves_the_endpoint_and_tests_it(
    open_console: Callable[..., Console], tenant: Tenant, chat: FakeChatCompletions
) -> None:
    console = open_console()
    console.sign_in(tenant.owner_email, tenant.password, "/console/settings/llm")
    page = console.page
    expect(page.locator("#llm-state")).to_contain_text("No language model is configured")
    form = page.locator("#llm-form")
    form.get_by_label("Address", exact=True).fill(chat.url)
    form.get_by_label("Model", exact=True).fill("console-model")
    form.get_by_label("Time limit in seconds").fill("2")
    form.get_by_label("API key", exact=True).fill(SECRET)
    form.get_by_role("button", name="Save").click()
    console.toast("Language model settings saved.")
    expect(page.locator("#llm-state")).to_contain_text("This workspace's own endpoint")
    expect(page.locator("#llm-key-state")).to_contain_text("set")
    expect(form.get_by_label("API key", exact=True)).to_have_value("")
    saved = ok(tenant.client.get("/api/v1/settings/llm"))
    assert (saved["base_url"], saved["model"], saved["timeout_seconds"]) == (
        chat.url,
        "console-model",
        2,
    )
    assert saved["has_api_key"] is True
    page.reload()
    expect(form.get_by_label("Address", exact=True)).to_have_value(chat.url)
    assert SECRET not in page.content()

    # Saved again with the key left empty: it stays, and the test sends it.
    form.get_by_label("Model", exact=True).fill("console-model-2")
    form.get_by_role("button", name="Save").click()
    console.toast("Language model settings saved.")
    chat.requests[:] = []
    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#llm-test-result")
    expect(result).to_contain_text("The model answered in")
    (sent,) = chat.requests
    assert sent["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert sent["model"] == "console-model-2"
    console.shot("settings-llm")

    chat.mode = "error"
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("The endpoint answered with HTTP status 500.")

    # A refused address is told as such and does not lose the form.
    form.get_by_label("Address", exact=True).fill("ftp://nowhere.example")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_be_visible()
    assert ok(tenant.client.get("/api/v1/settings/llm"))["base_url"] == chat.url

    page.get_by_role("button", name="Use the server's default").click()
    console.toast("This workspace now uses the server's default.")
    expect(page.locator("#llm-state")).to_contain_text("No language model is configured")
    assert ok(tenant.client.get("/api/v1/settings/llm"))["own"] is False


def test_a_phone_and_a_keyboard_are_enough(
    open_console: Callable[..., Console], tenant: Tenant, chat: FakeChatCompletions
) -> None:
    console = open_console(width=PHONE["width"], locale="zh-CN")
    console.sign_in(tenant.owner_email, tenant.password, "/console/settings/llm")
    page = console.page
    form = page.locator("#llm-form")
    console.tab_to(form.get_by_label("地址", exact=True))
    page.keyboard.type(chat.url)
    console.tab_to(form.get_by_label("模型", exact=True))
    page.keyboard.type("phone-model")
    console.tab_to(form.get_by_label("API 密钥", exact=True))
    page.keyboard.type(SECRET)
    console.tab_to(form.get_by_role("button", name="保存"))
    page.keyboard.press("Enter")
    console.toast("大语言模型设置已保存。")
    expect(page.locator("#llm-key-state")).to_contain_text("已设置")
    console.tab_to(page.get_by_role("button", name="测试连接"))
    page.keyboard.press("Enter")
    expect(page.locator("#llm-test-result")).to_contain_text("模型已回复")
    console.fits_width()
    console.shot("settings-llm-zh")
    assert ok(tenant.client.get("/api/v1/settings/llm"))["model"] == "phone-model"
