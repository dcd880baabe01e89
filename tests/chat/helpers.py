"""Small steps that chat tests share: channels, agents, and a WebSocket client that remembers
every frame it received, so a test can wait for one frame without losing the others."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.conftest import Tenant

Frame = dict[str, Any]


def make_channel(client: httpx.Client, **fields: Any) -> Frame:
    """A channel (with its identity secret); the bot is off unless a test turns it on."""
    body = {"name": f"web-{uuid.uuid4().hex[:6]}", "bot_enabled": False, **fields}
    r = client.post("/api/v1/chat/channels", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


@dataclass
class Agent:
    client: httpx.Client
    user_id: str
    token: str
    name: str


def make_agent(tenant: Tenant, role: str = "agent") -> Agent:
    client = tenant.member(role)
    me = client.get("/api/v1/me").json()
    token = client.headers["Authorization"].removeprefix("Bearer ")
    return Agent(client, me["user"]["id"], token, me["user"]["name"])


def owner_agent(tenant: Tenant) -> Agent:
    me = tenant.client.get("/api/v1/me").json()
    token = tenant.client.headers["Authorization"].removeprefix("Bearer ")
    return Agent(tenant.client, me["user"]["id"], token, me["user"]["name"])


def socket_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/api/v1/chat/socket"


class Socket:
    """A real WebSocket client of /api/v1/chat/socket."""

    def __init__(self, base_url: str) -> None:
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(socket_url(base_url), max_size=2**22)
        )
        self.unread: list[Frame] = []
        self.received: list[Frame] = []

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def send(self, frame: Frame | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def _pull(self, timeout: float) -> Frame:
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.received.append(frame)
        return dict(frame)

    def expect(self, match: Callable[[Frame], bool] | str, timeout: float = 10) -> Frame:
        """The first frame (received or coming) that matches; other frames stay unread."""
        test = match if callable(match) else (lambda f: f.get("type") == match)
        for i, frame in enumerate(self.unread):
            if test(frame):
                return self.unread.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame; unread: {self.unread[-5:]}")
            try:
                frame = self._pull(remaining)
            except TimeoutError as exc:
                raise AssertionError(f"no matching frame; unread: {self.unread[-5:]}") from exc
            if test(frame):
                return frame
            self.unread.append(frame)

    def reply(self, ref: str, timeout: float = 10) -> Frame:
        """The server's answer to the frame sent with `"id": ref` (an error included)."""
        return self.expect(lambda f: f.get("id") == ref, timeout)

    def drain(self, wait: float = 0.3) -> list[Frame]:
        """Everything that arrives within `wait` seconds of quiet."""
        while True:
            try:
                self.unread.append(self._pull(wait))
            except TimeoutError:
                return self.unread

    def messages(self, conversation_id: str) -> list[Frame]:
        """Every message frame of the conversation received so far, in arrival order."""
        self.drain(0.05)
        return [
            f["message"]
            for f in self.received
            if f.get("type") == "message" and f["conversation_id"] == conversation_id
        ]

    def message_with(self, conversation_id: str, test: Callable[[Frame], bool]) -> Frame:
        frame = self.expect(
            lambda f: (
                f.get("type") == "message"
                and f["conversation_id"] == conversation_id
                and test(f["message"])
            )
        )
        return dict(frame["message"])

    # -- the protocol's steps ---------------------------------------------------------------

    def auth(self, **fields: Any) -> Frame:
        ref = uuid.uuid4().hex[:8]
        self.send({"type": "auth", "id": ref, **fields})
        return self.reply(ref)

    def open(self, after_seq: int = 0) -> Frame:
        ref = uuid.uuid4().hex[:8]
        self.send({"type": "open", "id": ref, "after_seq": after_seq})
        opened = self.reply(ref)
        assert opened["type"] == "opened", opened
        resumed = self.reply(ref)
        assert resumed["type"] == "resumed", resumed
        return dict(opened["conversation"])

    def resume(self, conversation_id: str, after_seq: int = 0) -> Frame:
        ref = uuid.uuid4().hex[:8]
        self.send(
            {
                "type": "resume",
                "id": ref,
                "conversation_id": conversation_id,
                "after_seq": after_seq,
            }
        )
        return self.reply(ref)

    def say(self, conversation_id: str, text: str, client_msg_id: str | None = None) -> Frame:
        """Send a message and return the server's ack (or error) for it."""
        ref = uuid.uuid4().hex[:8]
        self.send(
            {
                "type": "send",
                "id": ref,
                "conversation_id": conversation_id,
                "client_msg_id": client_msg_id or uuid.uuid4().hex,
                "text": text,
            }
        )
        return self.reply(ref)

    def call(self, frame: Frame) -> Frame:
        ref = uuid.uuid4().hex[:8]
        self.send({**frame, "id": ref})
        return self.reply(ref)


def customer(base_url: str, channel: Frame, **auth: Any) -> tuple[Socket, Frame]:
    """A customer's chat window, signed in (anonymous unless `auth` says otherwise)."""
    sock = Socket(base_url)
    welcome = sock.auth(widget_token=channel["widget_token"], **auth)
    assert welcome["type"] == "welcome", welcome
    return sock, welcome


def agent_socket(
    base_url: str, agent: Agent, *, status: str = "online", capacity: int = 5
) -> Socket:
    """An agent's console, signed in, with the agent's availability set."""
    sock = Socket(base_url)
    welcome = sock.auth(token=agent.token)
    assert welcome["type"] == "welcome" and welcome["role"] == "agent", welcome
    presence = sock.call({"type": "presence", "status": status, "capacity": capacity})
    assert presence["type"] == "ok", presence
    return sock


def wait_for(check: Callable[[], Any], timeout: float = 10, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def make_team(client: httpx.Client, members: list[Agent], routing: str = "round_robin") -> Frame:
    body = {
        "name": f"team-{uuid.uuid4().hex[:6]}",
        "routing": routing,
        "member_ids": [a.user_id for a in members],
    }
    r = client.post("/api/v1/chat/teams", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def conversation(client: httpx.Client, conversation_id: str) -> Frame:
    r = client.get(f"/api/v1/chat/conversations/{conversation_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def ask_for_a_person(base_url: str, channel: Frame, text: str = "转人工") -> tuple[Socket, str]:
    """A customer who opens a conversation and asks for a person; returns once told."""
    sock, _ = customer(base_url, channel)
    cid = sock.open()["id"]
    assert sock.say(cid, text)["type"] == "ack"
    sock.message_with(cid, lambda m: m["meta"].get("event") == "handoff")
    return sock, cid
