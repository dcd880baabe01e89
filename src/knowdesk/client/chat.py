"""Live chat from Python: the agents' REST API, a customer's chat window over REST, and an
asyncio WebSocket client for either side (see docs/protocol.md).

    kd = KnowdeskClient(url, token=agent_token)
    for c in kd.chat.conversations(state=ConversationState.QUEUED):
        kd.chat.assign(c.id)
        kd.chat.send(c.id, "Hello, I am here to help.")

    async with ChatSocket(url, widget_token="wt_…") as chat:     # a customer
        conversation = await chat.open()
        await chat.send(conversation["id"], "转人工")
        async for event in chat.events():
            ...

Sends carry a client message id and are retried with it, so a message is stored once however
the network behaves; `ChatSocket` reconnects by itself and resumes every followed conversation
from the last `seq` it delivered, so events carry every message once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from knowdesk.chat.models import AgentStatus, ConversationState, Routing
from knowdesk.chat.schemas import (
    AgentRead,
    AttachmentRead,
    ChannelRead,
    ChannelSecrets,
    ContactRead,
    ConversationDetail,
    ConversationRead,
    MessageRead,
    SendResult,
    TeamRead,
    WidgetSessionOut,
)
from knowdesk.client.errors import KnowdeskAPIError
from knowdesk.client.http import ApiSession, Id

Frame = dict[str, Any]

SEND_ATTEMPTS = 5


def new_client_msg_id() -> str:
    return uuid.uuid4().hex


def _post_idempotent(send: Callable[[], httpx.Response]) -> httpx.Response:
    """POST a message, retrying network failures: the client message id makes it safe."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return send()
        except httpx.TransportError:
            if attempt == SEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class ChatAPI:
    """`client.chat`: channels, teams, presence, contacts and conversations, as an agent or
    an owner (or an API key, which may do everything but reply, read and type)."""

    def __init__(self, api: ApiSession) -> None:
        self._api = api

    # -- channels and teams -------------------------------------------------------------------

    def channels(self) -> list[ChannelRead]:
        return self._api.call(list[ChannelRead], "GET", "/api/v1/chat/channels")

    def create_channel(self, name: str, **settings: Any) -> ChannelSecrets:
        """A channel; `settings` as in docs/protocol.md (team_id, bot_enabled, business_hours…)."""
        body = {"name": name, **_jsonable(settings)}
        return self._api.call(ChannelSecrets, "POST", "/api/v1/chat/channels", json=body)

    def update_channel(self, channel_id: Id, **changes: Any) -> ChannelRead:
        path = f"/api/v1/chat/channels/{channel_id}"
        return self._api.call(ChannelRead, "PATCH", path, json=_jsonable(changes))

    def channel_secrets(self, channel_id: Id) -> ChannelSecrets:
        path = f"/api/v1/chat/channels/{channel_id}/secrets"
        return self._api.call(ChannelSecrets, "GET", path)

    def rotate_channel(self, channel_id: Id) -> ChannelSecrets:
        path = f"/api/v1/chat/channels/{channel_id}/rotate"
        return self._api.call(ChannelSecrets, "POST", path)

    def teams(self) -> list[TeamRead]:
        return self._api.call(list[TeamRead], "GET", "/api/v1/chat/teams")

    def create_team(
        self, name: str, *, routing: Routing = Routing.ROUND_ROBIN, member_ids: Sequence[Id] = ()
    ) -> TeamRead:
        body = {"name": name, "routing": routing.value, "member_ids": [str(m) for m in member_ids]}
        return self._api.call(TeamRead, "POST", "/api/v1/chat/teams", json=body)

    def update_team(self, team_id: Id, **changes: Any) -> TeamRead:
        path = f"/api/v1/chat/teams/{team_id}"
        return self._api.call(TeamRead, "PATCH", path, json=_jsonable(changes))

    # -- agents -------------------------------------------------------------------------------

    def agents(self) -> list[AgentRead]:
        return self._api.call(list[AgentRead], "GET", "/api/v1/chat/agents")

    def set_presence(self, status: AgentStatus, capacity: int | None = None) -> AgentRead:
        """Without a socket, repeat this within a minute to stay online for routing."""
        body = {"status": status.value, "capacity": capacity}
        return self._api.call(AgentRead, "PUT", "/api/v1/chat/agents/me/presence", json=body)

    # -- contacts -----------------------------------------------------------------------------

    def contacts(
        self, q: str | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[ContactRead]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if q:
            params["q"] = q
        return self._api.call(list[ContactRead], "GET", "/api/v1/chat/contacts", params=params)

    def upsert_contact(
        self,
        external_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> ContactRead:
        """The contact with this id in your own system, made if missing; attributes merge."""
        body = {"external_id": external_id, "name": name, "email": email, "attributes": attributes}
        return self._api.call(ContactRead, "POST", "/api/v1/chat/contacts", json=body)

    def contact(self, contact_id: Id) -> ContactRead:
        return self._api.call(ContactRead, "GET", f"/api/v1/chat/contacts/{contact_id}")

    def contact_conversations(self, contact_id: Id) -> list[ConversationRead]:
        path = f"/api/v1/chat/contacts/{contact_id}/conversations"
        return self._api.call(list[ConversationRead], "GET", path)

    # -- conversations ------------------------------------------------------------------------

    def conversations(
        self,
        *,
        state: ConversationState | None = None,
        assignee: str | None = None,
        team_id: Id | None = None,
        contact_id: Id | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[ConversationRead]:
        """The inbox; `assignee` is a user id or "me"."""
        params = {
            "state": state.value if state else None,
            "assignee": assignee,
            "team_id": team_id,
            "contact_id": contact_id,
            "tag": tag,
            "limit": limit,
            "offset": offset,
        }
        params = {k: str(v) for k, v in params.items() if v is not None}
        return self._api.call(
            list[ConversationRead], "GET", "/api/v1/chat/conversations", params=params
        )

    def conversation(self, conversation_id: Id) -> ConversationDetail:
        path = f"/api/v1/chat/conversations/{conversation_id}"
        return self._api.call(ConversationDetail, "GET", path)

    def messages(
        self, conversation_id: Id, *, after_seq: int = 0, limit: int = 100
    ) -> list[MessageRead]:
        path = f"/api/v1/chat/conversations/{conversation_id}/messages"
        params = {"after_seq": after_seq, "limit": limit}
        return self._api.call(list[MessageRead], "GET", path, params=params)

    def send(
        self,
        conversation_id: Id,
        text: str,
        *,
        client_msg_id: str | None = None,
        buttons: Sequence[dict[str, str]] = (),
        attachment_ids: Sequence[Id] = (),
    ) -> SendResult:
        """Reply as the assigned agent; network failures are retried without duplicates."""
        body = {
            "client_msg_id": client_msg_id or new_client_msg_id(),
            "text": text,
            "buttons": list(buttons),
            "attachment_ids": [str(a) for a in attachment_ids],
        }
        path = f"/api/v1/chat/conversations/{conversation_id}/messages"
        response = _post_idempotent(lambda: self._api.request("POST", path, json=body))
        return SendResult.model_validate(response.json())

    def mark_read(self, conversation_id: Id, seq: int) -> None:
        path = f"/api/v1/chat/conversations/{conversation_id}/read"
        self._api.request("POST", path, json={"seq": seq})

    def typing(self, conversation_id: Id, typing: bool = True) -> None:
        path = f"/api/v1/chat/conversations/{conversation_id}/typing"
        self._api.request("POST", path, json={"typing": typing})

    def assign(self, conversation_id: Id, user_id: Id | None = None) -> ConversationRead:
        """Take the conversation (or give it to `user_id`)."""
        path = f"/api/v1/chat/conversations/{conversation_id}/assign"
        body = {"user_id": str(user_id) if user_id else None}
        return self._api.call(ConversationRead, "POST", path, json=body)

    def hand_back(self, conversation_id: Id) -> ConversationRead:
        path = f"/api/v1/chat/conversations/{conversation_id}/handback"
        return self._api.call(ConversationRead, "POST", path)

    def resolve(self, conversation_id: Id) -> ConversationRead:
        path = f"/api/v1/chat/conversations/{conversation_id}/resolve"
        return self._api.call(ConversationRead, "POST", path)

    def update_conversation(
        self, conversation_id: Id, *, tags: Sequence[str] | None = None, team_id: Id | None = None
    ) -> ConversationRead:
        body: dict[str, Any] = {}
        if tags is not None:
            body["tags"] = list(tags)
        if team_id is not None:
            body["team_id"] = str(team_id)
        path = f"/api/v1/chat/conversations/{conversation_id}"
        return self._api.call(ConversationRead, "PATCH", path, json=body)

    def upload(self, filename: str, data: bytes) -> AttachmentRead:
        files = {"file": (filename, data)}
        return self._api.call(AttachmentRead, "POST", "/api/v1/chat/attachments", files=files)

    def download(self, attachment_id: Id) -> bytes:
        return self._api.request("GET", f"/api/v1/chat/attachments/{attachment_id}").content


class WidgetClient:
    """A customer's chat window over REST: for servers that bridge other messengers, and for
    clients that poll instead of holding a socket.

    `start()` signs in (anonymously, as an earlier contact with `contact_token`, or as a
    logged-in customer with `identity` from `knowdesk_identity` on your server).
    """

    def __init__(self, base_url: str, widget_token: str, *, timeout: float = 60.0) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"X-Widget-Token": widget_token}, timeout=timeout
        )
        self.session: WidgetSessionOut | None = None

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, "/api/v1/widget" + path, **kwargs)
        if response.is_error:
            raise KnowdeskAPIError.from_response(response)
        return response

    def start(
        self, *, identity: dict[str, Any] | None = None, contact_token: str | None = None
    ) -> WidgetSessionOut:
        body = {"identity": identity, "contact_token": contact_token}
        self.session = WidgetSessionOut.model_validate(
            self._request("POST", "/session", json=body).json()
        )
        self.http.headers["X-Contact-Token"] = self.session.contact_token
        return self.session

    def open(self) -> ConversationRead:
        return ConversationRead.model_validate(self._request("POST", "/conversations").json())

    def messages(
        self, conversation_id: Id, *, after_seq: int = 0, limit: int = 100
    ) -> list[MessageRead]:
        params = {"after_seq": after_seq, "limit": limit}
        response = self._request("GET", f"/conversations/{conversation_id}/messages", params=params)
        return [MessageRead.model_validate(m) for m in response.json()]

    def send(
        self,
        conversation_id: Id,
        text: str,
        *,
        client_msg_id: str | None = None,
        attachment_ids: Sequence[Id] = (),
    ) -> SendResult:
        body = {
            "client_msg_id": client_msg_id or new_client_msg_id(),
            "text": text,
            "attachment_ids": [str(a) for a in attachment_ids],
        }
        path = f"/conversations/{conversation_id}/messages"
        response = _post_idempotent(lambda: self._request("POST", path, json=body))
        return SendResult.model_validate(response.json())

    def mark_read(self, conversation_id: Id, seq: int) -> None:
        self._request("POST", f"/conversations/{conversation_id}/read", json={"seq": seq})

    def typing(self, conversation_id: Id, typing: bool = True) -> None:
        self._request("POST", f"/conversations/{conversation_id}/typing", json={"typing": typing})

    def rate(self, conversation_id: Id, seq: int, rating: str) -> MessageRead:
        path = f"/conversations/{conversation_id}/messages/{seq}/rating"
        return MessageRead.model_validate(
            self._request("POST", path, json={"rating": rating}).json()
        )

    def upload(self, filename: str, data: bytes) -> AttachmentRead:
        response = self._request("POST", "/attachments", files={"file": (filename, data)})
        return AttachmentRead.model_validate(response.json())

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WidgetClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ChatError(Exception):
    """The server refused a frame: `code` as in docs/protocol.md (rate_limited, not_found, …)."""

    def __init__(self, frame: Frame) -> None:
        super().__init__(f"{frame.get('message')} ({frame.get('code')})")
        self.code = str(frame.get("code"))
        self.message = str(frame.get("message"))
        self.frame = frame


class ConnectionLostError(Exception):
    """The socket closed before the server answered; the client is reconnecting."""


@dataclass
class _Request:
    """A frame waiting for the server's answer (`final`: the reply types that end it; None:
    the first reply does)."""

    future: asyncio.Future[list[Frame]]
    final: frozenset[str] | None
    replies: list[Frame] = field(default_factory=list)


class ChatSocket:
    """The chat WebSocket, for a customer (`widget_token`, optionally with `identity` or
    `contact_token`) or an agent (`token`, optionally `workspace`).

    It reconnects by itself after a network failure, signs in again (a customer as the same
    contact), resumes every conversation it follows from the last `seq` it delivered, and
    retries unacknowledged sends with their client message id. `events()` yields every frame
    the server pushes; `message` frames come once each, in `seq` order per conversation.
    If signing in again is refused (an agent's session expired), it stops and pushes that
    `error` frame to `events()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        widget_token: str | None = None,
        identity: dict[str, Any] | None = None,
        contact_token: str | None = None,
        token: str | None = None,
        workspace: str | None = None,
        request_timeout: float = 30.0,
        reconnect_delay: float = 0.5,
    ) -> None:
        if bool(widget_token) == bool(token):
            raise ValueError("Give a widget_token (a customer) or a token (an agent).")
        self.url = base_url.rstrip("/").replace("http", "ws", 1) + "/api/v1/chat/socket"
        auth: Frame = {"type": "auth"}
        if token:
            auth |= {"token": token, "workspace": workspace}
        else:
            auth |= {"widget_token": widget_token, "identity": identity}
            auth |= {"contact_token": contact_token}
        self._auth = {k: v for k, v in auth.items() if v is not None}
        self.request_timeout = request_timeout
        self.reconnect_delay = reconnect_delay
        self.last_seq: dict[str, int] = {}
        self.welcome: Frame = {}
        self._following: set[str] = set()
        self._pending: dict[str, _Request] = {}
        self._events: asyncio.Queue[Frame] = asyncio.Queue()
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._reconnecting = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> ChatSocket:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- connection ---------------------------------------------------------------------------

    async def connect(self) -> Frame:
        """Connect and sign in; returns the server's `welcome`."""
        try:
            await self._connect_once()
        except BaseException:
            self._closing = True  # refused or unreachable: no reconnecting in the background
            raise
        return self.welcome

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect_once(self) -> None:
        ws = await connect(self.url, max_size=2**22)
        self._ws = ws
        self._spawn(self._read(ws))
        try:
            self.welcome = await self._call(self._auth, wait_connected=False)
            if self.welcome.get("contact_token"):
                # Come back as the same contact, however we signed in the first time.
                self._auth = {
                    "type": "auth",
                    "widget_token": self._auth["widget_token"],
                    "contact_token": self.welcome["contact_token"],
                }
            for conversation_id in list(self._following):
                await self._resume(conversation_id, self.last_seq.get(conversation_id, 0))
        except BaseException:
            self._ws = None  # so its reader does not start reconnecting
            await ws.close()
            raise
        self._connected.set()

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _reconnect(self) -> None:
        self._reconnecting = True
        try:
            while not self._closing:
                await asyncio.sleep(self.reconnect_delay)
                try:
                    await self._connect_once()
                    return
                except ChatError as exc:
                    self._events.put_nowait(exc.frame)  # refused: nothing more to try
                    return
                except (OSError, ConnectionClosed, ConnectionLostError, TimeoutError):
                    continue
        finally:
            self._reconnecting = False

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                self._on_frame(json.loads(raw))
        if self._ws is not ws or self._closing:
            return
        self._connected.clear()
        for request in self._pending.values():
            if not request.future.done():
                request.future.set_exception(ConnectionLostError())
        self._pending.clear()
        if not self._reconnecting:
            self._spawn(self._reconnect())

    def _on_frame(self, frame: Frame) -> None:
        if frame.get("type") == "message":
            conversation_id, seq = frame["conversation_id"], int(frame["seq"])
            if seq <= self.last_seq.get(conversation_id, 0):
                return  # already delivered
            self.last_seq[conversation_id] = seq
            self._events.put_nowait(frame)
            return
        request = self._pending.get(frame.get("id", ""))
        if request is None:
            self._events.put_nowait(frame)
            return
        request.replies.append(frame)
        if frame.get("type") == "error":
            request.future.set_exception(ChatError(frame))
        elif request.final is None or frame.get("type") in request.final:
            request.future.set_result(request.replies)
        else:
            return
        del self._pending[frame["id"]]

    async def _call_all(
        self, frame: Frame, *, final: frozenset[str] | None = None, wait_connected: bool = True
    ) -> list[Frame]:
        """Send a frame and wait for the server's replies to it."""
        if wait_connected:
            await asyncio.wait_for(self._connected.wait(), self.request_timeout)
        ws = self._ws
        assert ws is not None
        ref = uuid.uuid4().hex[:12]
        request = _Request(asyncio.get_running_loop().create_future(), final)
        self._pending[ref] = request
        try:
            await ws.send(json.dumps({**frame, "id": ref}))
            return await asyncio.wait_for(request.future, self.request_timeout)
        except ConnectionClosed as exc:
            raise ConnectionLostError() from exc
        finally:
            self._pending.pop(ref, None)

    async def _call(self, frame: Frame, *, wait_connected: bool = True) -> Frame:
        replies = await self._call_all(frame, wait_connected=wait_connected)
        return replies[-1]

    # -- the protocol -------------------------------------------------------------------------

    async def open(self) -> Frame:
        """A customer's current conversation (or a new one), followed from its start."""
        frame = {"type": "open", "after_seq": 0}
        replies = await self._call_all(frame, final=frozenset({"resumed"}))
        conversation: Frame = replies[0]["conversation"]
        self._following.add(conversation["id"])
        return conversation

    async def resume(self, conversation_id: Id, after_seq: int | None = None) -> int:
        """Follow a conversation from `after_seq` (default: the last seq delivered here);
        returns the last seq stored when the catch-up ended."""
        key = str(conversation_id)
        after = after_seq if after_seq is not None else self.last_seq.get(key, 0)
        self._following.add(key)
        await asyncio.wait_for(self._connected.wait(), self.request_timeout)
        return await self._resume(key, after)

    async def _resume(self, conversation_id: str, after_seq: int) -> int:
        self.last_seq[conversation_id] = after_seq
        frame = {"type": "resume", "conversation_id": conversation_id, "after_seq": after_seq}
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                resumed = await self._call(frame, wait_connected=False)
                return int(resumed["last_seq"])
            except ChatError as exc:
                if exc.code != "rate_limited" or attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    async def leave(self, conversation_id: Id) -> None:
        self._following.discard(str(conversation_id))
        await self._call({"type": "leave", "conversation_id": str(conversation_id)})

    async def send(
        self,
        conversation_id: Id,
        text: str,
        *,
        client_msg_id: str | None = None,
        attachment_ids: Sequence[Id] = (),
        buttons: Sequence[dict[str, str]] = (),
    ) -> Frame:
        """Send a message and return its `ack`; across reconnects and rate limits the same
        client message id is retried, so the message is stored once."""
        frame: Frame = {
            "type": "send",
            "conversation_id": str(conversation_id),
            "client_msg_id": client_msg_id or new_client_msg_id(),
            "text": text,
            "attachment_ids": [str(a) for a in attachment_ids],
        }
        if buttons:
            frame["buttons"] = list(buttons)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await self._call(frame)
            except (ConnectionLostError, TimeoutError):
                if attempt == SEND_ATTEMPTS:
                    raise
            except ChatError as exc:
                if exc.code != "rate_limited" or attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    async def typing(self, conversation_id: Id, typing: bool = True) -> None:
        assert self._ws is not None
        frame = {"type": "typing", "conversation_id": str(conversation_id), "typing": typing}
        with contextlib.suppress(ConnectionClosed):  # typing is worth nothing late
            await self._ws.send(json.dumps(frame))

    async def mark_read(self, conversation_id: Id, seq: int) -> None:
        await self._call({"type": "read", "conversation_id": str(conversation_id), "seq": seq})

    async def rate(self, conversation_id: Id, seq: int, rating: str) -> None:
        frame = {"type": "rate", "conversation_id": str(conversation_id), "seq": seq}
        await self._call({**frame, "rating": rating})

    async def set_presence(self, status: AgentStatus, capacity: int | None = None) -> None:
        frame: Frame = {"type": "presence", "status": status.value}
        if capacity is not None:
            frame["capacity"] = capacity
        await self._call(frame)

    async def events(self) -> AsyncIterator[Frame]:
        """Every frame the server pushes: messages, typing, read, conversation, presence…"""
        while True:
            yield await self._events.get()

    async def next_event(
        self, match: Callable[[Frame], bool] = lambda _: True, timeout: float = 30.0
    ) -> Frame:
        """The next pushed frame that matches (others are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self._events.get()
                if match(frame):
                    return frame


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Ids and dates as the API spells them."""
    result: dict[str, Any] = json.loads(json.dumps(values, default=str))
    return result
