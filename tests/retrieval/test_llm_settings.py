"""A workspace's own language model endpoint through the API: who may read and change it, what
is refused, the API key that is never returned and never follows the settings to another
address, the audit log, and the connection test against a real chat-completions server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Tenant, free_port
from tests.retrieval.test_llm import FakeChatCompletions

URL = "/api/v1/settings/llm"
SECRET = "sk-never-shown-4f2a"


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeChatCompletions]:
    fake = FakeChatCompletions(free_port())
    fake.start()
    yield fake
    fake.stop()


def put(tenant: Tenant, **body: Any) -> dict[str, Any]:
    r = tenant.client.put(URL, json={"model": "tiny", "timeout_seconds": 2, **body})
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    return dict(r.json())


def check(tenant: Tenant) -> dict[str, Any]:
    r = tenant.client.post(f"{URL}/test")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_workspace_without_settings_uses_the_server_s(tenant: Tenant) -> None:
    read = tenant.client.get(URL).json()
    # The session's server has no KNOWDESK_LLM_BASE_URL.
    assert read == {
        "own": False,
        "enabled": False,
        "base_url": None,
        "model": None,
        "timeout_seconds": None,
        "has_api_key": False,
        "in_use": "none",
        "server": None,
    }
    assert check(tenant)["reason"] == "none_configured"


@pytest.mark.parametrize(
    "body",
    [
        {"base_url": "ftp://models.example.com/v1"},
        {"base_url": "file:///etc/passwd"},
        {"base_url": "localhost:11434/v1"},
        {"base_url": "http://"},
        {"base_url": "http://user:pw@models.example.com/v1"},
        {"base_url": "http://models.example.com:99999/v1"},
        {"base_url": ""},
        {"base_url": "http://models.example.com/v1", "model": "  "},
        {"base_url": "http://models.example.com/v1", "timeout_seconds": 0},
        {"base_url": "http://models.example.com/v1", "timeout_seconds": 600},
        {"model": "tiny"},
    ],
)
def test_invalid_settings_are_refused(tenant: Tenant, body: dict[str, Any]) -> None:
    r = tenant.client.put(URL, json={"model": "tiny", **body})
    assert r.status_code == 422, r.text
    assert tenant.client.get(URL).json()["own"] is False


def test_the_key_is_never_returned_and_stays_with_its_address(
    tenant: Tenant, chat: FakeChatCompletions
) -> None:
    chat.mode = "good"
    saved = put(tenant, base_url=chat.url + "/", api_key=SECRET)
    assert saved["base_url"] == chat.url and saved["has_api_key"] is True
    assert saved["in_use"] == "workspace"
    read = tenant.client.get(URL)
    assert SECRET not in read.text and read.json()["has_api_key"] is True

    # Saved again without a key, for the same address: the key is kept and sent.
    assert put(tenant, base_url=chat.url, model="other-model")["has_api_key"] is True
    chat.requests[:] = []
    assert check(tenant)["ok"] is True
    assert chat.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert chat.requests[-1]["model"] == "other-model"

    # Another address: the key does not follow it there.
    moved = put(tenant, base_url=chat.url.replace("127.0.0.1", "localhost"))
    assert moved["has_api_key"] is False
    chat.requests[:] = []
    assert check(tenant)["ok"] is True
    assert "Authorization" not in chat.requests[-1]["headers"]

    # A new key, then "" removes it.
    assert put(tenant, base_url=chat.url, api_key="sk-new")["has_api_key"] is True
    assert put(tenant, base_url=chat.url, api_key="")["has_api_key"] is False

    events = tenant.client.get("/api/v1/audit", params={"target_type": "workspace"}).json()
    changes = [e for e in events if e["action"] == "llm.settings"]
    assert len(changes) == 5
    assert SECRET not in str(events)
    assert changes[-1]["details"]["api_key_changed"] is True  # the first save, oldest last

    assert tenant.client.delete(URL).status_code == 204
    assert tenant.client.get(URL).json()["own"] is False
    events = tenant.client.get("/api/v1/audit", params={"target_type": "workspace"}).json()
    assert events[0]["action"] == "llm.settings.cleared"


def test_other_workspaces_and_other_roles_can_neither_read_nor_change_it(
    tenant: Tenant, other_tenant: Tenant, chat: FakeChatCompletions
) -> None:
    put(tenant, base_url=chat.url, api_key=SECRET)
    # The other workspace's owner sees its own settings, and naming ours is refused.
    assert other_tenant.client.get(URL).json()["own"] is False
    ours = {"X-Workspace": tenant.workspace_id}
    assert other_tenant.client.get(URL, headers=ours).status_code == 403
    r = other_tenant.client.put(
        URL, headers=ours, json={"base_url": "http://evil.example.com/v1", "model": "m"}
    )
    assert r.status_code == 403
    assert other_tenant.client.post(f"{URL}/test", headers=ours).status_code == 403
    assert other_tenant.client.delete(URL, headers=ours).status_code == 403
    for role in ("editor", "agent", "reviewer"):
        member = tenant.member(role)
        assert member.get(URL).status_code == 403
        assert (
            member.put(URL, json={"base_url": "http://x.example/v1", "model": "m"}).status_code
            == 403
        )
        assert member.post(f"{URL}/test").status_code == 403
        member.close()
    read = tenant.client.get(URL).json()
    assert read["base_url"] == chat.url and read["has_api_key"] is True


@pytest.mark.parametrize(
    ("mode", "reason", "status"),
    [("slow", "timeout", None), ("error", "http_status", 500), ("garbage", "malformed", None)],
)
def test_the_connection_test_says_what_went_wrong(
    tenant: Tenant, chat: FakeChatCompletions, mode: str, reason: str, status: int | None
) -> None:
    chat.mode = mode
    put(tenant, base_url=chat.url, timeout_seconds=1)
    try:
        result = check(tenant)
    finally:
        chat.mode = "good"
    assert (result["ok"], result["reason"], result["status"]) == (False, reason, status), result


def test_the_connection_test_tells_a_refused_connection_and_a_grounded_reply(
    tenant: Tenant, chat: FakeChatCompletions
) -> None:
    put(tenant, base_url=f"http://127.0.0.1:{free_port()}/v1")
    result = check(tenant)
    assert (result["ok"], result["reason"]) == (False, "refused"), result

    chat.mode, chat.requests[:] = "good", []
    put(tenant, base_url=chat.url)
    result = check(tenant)
    # The fake's canned reply cites [1] but speaks of another passage: a reply, not grounded.
    assert result["ok"] is True and result["reason"] is None and result["grounded"] is False
    (sent,) = chat.requests
    assert "test lamp" in sent["messages"][1]["content"]
