"""Small steps that ticket tests share: teams, agents, tickets, customers in a chat window."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Tenant

Json = dict[str, Any]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def user_id(client: httpx.Client) -> str:
    return str(ok(client.get("/api/v1/me"))["user"]["id"])


def make_agent(tenant: Tenant, role: str = "agent") -> tuple[httpx.Client, str]:
    client = tenant.member(role)
    return client, user_id(client)


def make_team(client: httpx.Client, member_ids: list[str], **fields: Any) -> str:
    body = {"name": f"team-{uuid.uuid4().hex[:6]}", "member_ids": member_ids, **fields}
    return str(ok(client.post("/api/v1/chat/teams", json=body), 201)["id"])


def make_ticket(client: httpx.Client, **fields: Any) -> Json:
    body = {
        "subject": "The app crashes at login",
        "description": "Since the last update.",
        **fields,
    }
    return dict(ok(client.post("/api/v1/tickets", json=body), 201))


def patch(client: httpx.Client, ticket: Json, **fields: Any) -> httpx.Response:
    return client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"version": ticket["version"], **fields}
    )


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not met within {timeout} s")


@dataclass
class Customer:
    """A customer in a channel's chat window, over the widget REST API."""

    http: httpx.Client
    contact_id: str

    def open_conversation(self) -> str:
        return str(ok(self.http.post("/api/v1/widget/conversations"))["id"])

    def say(self, conversation_id: str, text: str) -> Json:
        body = {"client_msg_id": uuid.uuid4().hex, "text": text}
        url = f"/api/v1/widget/conversations/{conversation_id}/messages"
        return dict(ok(self.http.post(url, json=body), 201))


def make_channel(client: httpx.Client, **fields: Any) -> Json:
    body = {"name": f"web-{uuid.uuid4().hex[:6]}", "bot_enabled": False, **fields}
    return dict(ok(client.post("/api/v1/chat/channels", json=body), 201))


def customer(base_url: str, channel: Json, identity: Json | None = None) -> Customer:
    headers = {"X-Widget-Token": channel["widget_token"]}
    session = ok(
        httpx.post(
            f"{base_url}/api/v1/widget/session",
            json={"identity": identity} if identity else {},
            headers=headers,
        )
    )
    http = httpx.Client(
        base_url=base_url,
        headers={**headers, "X-Contact-Token": session["contact_token"]},
        timeout=60,
    )
    return Customer(http, session["contact_id"])
