"""The chat WebSocket (`/api/v1/chat/socket`), for customers' chat windows and agents' consoles.
The protocol is documented in docs/protocol.md.

One connection = one reader (frames from the client, handled one at a time) and one writer (an
outbox queue of frames to send). Everything the client receives passes through the writer, which
keeps, per followed conversation, the highest `seq` it has sent: a live message with the next
seq goes out at once, an older one is dropped (already sent), and a newer one means something
was missed (lost notification, resume race, too large to notify), so the writer reads the gap
from the database first. Hence: every stored message once, in order, however events arrive.

A client too slow to keep up (its outbox fills) is disconnected; it resumes where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from knowdesk.accounts.models import Membership, User, Workspace
from knowdesk.accounts.principal import role_allows
from knowdesk.accounts.security import read_session_token
from knowdesk.chat import events
from knowdesk.chat.hours import is_open
from knowdesk.chat.identity import issue_contact_token, token_expiry
from knowdesk.chat.repository import MessageRepository
from knowdesk.chat.runtime import ChatRuntime
from knowdesk.chat.schemas import (
    AuthFrame,
    ClientFrame,
    ConversationRead,
    LeaveFrame,
    MessageRead,
    OpenFrame,
    PresenceFrame,
    RateFrame,
    ReadFrame,
    ResumeFrame,
    SendFrame,
    TypingFrame,
    WidgetChannel,
)
from knowdesk.chat.service import (
    AgentActor,
    Chat,
    ContactActor,
    UnauthenticatedError,
    now,
    typing_event,
    widget_sign_in,
)
from knowdesk.config import Settings
from knowdesk.db.session import session_factory, transaction
from knowdesk.errors import (
    ConflictError,
    InvalidInputError,
    KnowdeskError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)

log = logging.getLogger(__name__)

router = APIRouter()

MAX_FRAME_BYTES = 64 * 1024  # larger frames get an error; above 1 MB the server closes (1009)
AUTH_TIMEOUT_SECONDS = 10.0
MAX_AUTH_FAILURES = 5
OUTBOX_LIMIT = 1000
CATCH_UP_PAGE = 200

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 1013  # "try again later": reconnect and resume

_frames: TypeAdapter[Any] = TypeAdapter(ClientFrame)


def error_code(exc: KnowdeskError) -> str:
    for kind, code in (
        (UnauthenticatedError, "unauthenticated"),
        (NotFoundError, "not_found"),
        (PermissionDeniedError, "forbidden"),
        (ConflictError, "conflict"),
        (TooLargeError, "too_large"),
        (InvalidInputError, "invalid"),
    ):
        if isinstance(exc, kind):
            return code
    return "error"


@dataclass(frozen=True)
class ContactSession:
    workspace_id: uuid.UUID
    actor: ContactActor
    messages_per_minute: int
    expires_at: datetime | None = None


@dataclass(frozen=True)
class AgentSession:
    workspace_id: uuid.UUID
    actor: AgentActor
    user_id: uuid.UUID
    expires_at: datetime | None


@dataclass(frozen=True)
class Live:
    """A message event from the bus (`message` is None when it was too large to carry)."""

    conversation_id: uuid.UUID
    seq: int
    message: dict[str, Any] | None


@dataclass(frozen=True)
class CatchUp:
    """Send what is stored after `after_seq` (None: after what was sent), then go live."""

    conversation_id: uuid.UUID
    after_seq: int | None
    reply_to: str | None
    announce: bool


Outgoing = dict[str, Any] | Live | CatchUp


@router.websocket("/api/v1/chat/socket")
async def chat_socket(websocket: WebSocket) -> None:
    connection = Connection(websocket, websocket.app.state.chat, websocket.app.state.settings)
    await connection.serve()


class Connection:
    def __init__(self, websocket: WebSocket, runtime: ChatRuntime, settings: Settings) -> None:
        self.ws = websocket
        self.runtime = runtime
        self.settings = settings
        self.key = uuid.uuid4().hex
        self.auth: ContactSession | AgentSession | None = None
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=OUTBOX_LIMIT)
        self.following: set[uuid.UUID] = set()  # reader's view: conversations subscribed to
        self.sent: dict[uuid.UUID, int] = {}  # writer's view: highest seq sent per conversation
        self.auth_failures = 0
        self.closed = False
        self._expiry: asyncio.TimerHandle | None = None
        self._auth_deadline = 0.0  # when an unauthenticated connection is closed

    # -- life cycle ---------------------------------------------------------------------------

    async def serve(self) -> None:
        await self.ws.accept()
        writer = asyncio.create_task(self._write(), name=f"chat-writer-{self.key}")
        try:
            await self._read()
        except WebSocketDisconnect:
            pass
        finally:
            self.closed = True
            await self._sign_out()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _close(self, code: int, reason: str) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def _sign_out(self) -> None:
        """Forget the identity: leave every topic; an agent's last socket here ends presence."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        for conversation_id in list(self.following):
            self._unfollow(conversation_id)
        auth, self.auth = self.auth, None
        self._start_auth_clock()  # signed out: the next session must begin soon
        if isinstance(auth, AgentSession):
            self.runtime.hub.unsubscribe(events.agents_topic(auth.workspace_id), self)
            if self.runtime.hub.agent_disconnected((auth.workspace_id, auth.user_id)):
                try:
                    async with transaction() as session:
                        await Chat(session, auth.workspace_id).agent_gone(auth.user_id)
                except Exception:
                    log.exception("could not record that agent %s left", auth.user_id)

    # -- reading ------------------------------------------------------------------------------

    def _start_auth_clock(self) -> None:
        self._auth_deadline = asyncio.get_running_loop().time() + AUTH_TIMEOUT_SECONDS

    async def _read(self) -> None:
        self._start_auth_clock()
        while not self.closed:
            try:
                async with asyncio.timeout_at(self._auth_deadline if self.auth is None else None):
                    message = await self.ws.receive()
            except TimeoutError:
                self._send(_error("unauthenticated", "Authenticate within 10 seconds."))
                await asyncio.sleep(0.05)  # let the writer send it
                await self._close(CLOSE_UNAUTHENTICATED, "authentication timed out")
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                self._send(_error("bad_frame", "Frames are JSON text, not binary."))
                continue
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        if len(text) > MAX_FRAME_BYTES or len(text.encode()) > MAX_FRAME_BYTES:
            self._send(_error("too_large", f"A frame holds at most {MAX_FRAME_BYTES} bytes."))
            return
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        ref = data.get("id") if isinstance(data, dict) else None
        ref = ref if isinstance(ref, str) else None
        if not self.runtime.limits.allow_frame(self.key, agent=isinstance(self.auth, AgentSession)):
            self._send(_error("rate_limited", "Too many frames: slow down.", ref))
            return
        if not isinstance(data, dict):
            self._send(_error("bad_frame", "A frame is one JSON object."))
            return
        try:
            frame = _frames.validate_python(data)
        except ValidationError as exc:
            details = [
                {"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)
            ]
            self._send(_error("bad_frame", "The frame is not valid.", ref, details))
            return
        try:
            await self._dispatch(frame, ref)
        except KnowdeskError as exc:
            self._send(_error(error_code(exc), exc.message, ref))
        except Exception:
            log.exception("chat frame %s failed", getattr(frame, "type", "?"))
            self._send(_error("internal", "Something went wrong on the server.", ref))

    async def _dispatch(self, frame: Any, ref: str | None) -> None:
        if frame.type == "ping":
            self._send({"type": "pong", "id": ref})
            return
        if frame.type == "auth":
            await self._authenticate(frame, ref)
            return
        if self.auth is None:
            raise UnauthenticatedError("Authenticate first (an `auth` frame).")
        handler = getattr(self, f"_on_{frame.type}")
        await handler(frame, ref)

    # -- authentication -----------------------------------------------------------------------

    async def _authenticate(self, frame: AuthFrame, ref: str | None) -> None:
        try:
            auth: ContactSession | AgentSession
            if frame.token:
                auth = agent = await self._agent_session(frame)
                welcome = _agent_welcome(agent)
            elif frame.widget_token:
                auth, welcome = await self._contact_session(frame)
            else:
                raise InvalidInputError("`auth` needs a widget_token or an agent's token.")
        except UnauthenticatedError:
            self.auth_failures += 1
            if self.auth_failures >= MAX_AUTH_FAILURES:
                await self._close(CLOSE_UNAUTHENTICATED, "too many failed authentications")
            raise
        same = self.auth is not None and _who(self.auth) == _who(auth)
        if not same:
            await self._sign_out()
        self.auth = auth
        if isinstance(auth, AgentSession) and not same:
            self.runtime.hub.agent_connected((auth.workspace_id, auth.user_id))
            self.runtime.hub.subscribe(events.agents_topic(auth.workspace_id), self)
        self._schedule_expiry(auth.expires_at)
        self._send({**welcome, "id": ref})

    async def _agent_session(self, frame: AuthFrame) -> AgentSession:
        token = frame.token or ""
        user_id = read_session_token(token, self.settings.secret_key)
        if user_id is None:
            raise UnauthenticatedError("The session token is invalid or expired.")
        async with transaction() as session:
            stmt = (
                select(Membership, User.name)
                .join(User, User.id == Membership.user_id)
                .join(Workspace, Workspace.id == Membership.workspace_id)
                .where(Membership.user_id == user_id)
            )
            if frame.workspace:
                stmt = stmt.where(
                    (Workspace.slug == frame.workspace)
                    | (Workspace.id == _uuid_or_nil(frame.workspace))
                )
            rows = (await session.execute(stmt)).all()
            if len(rows) != 1:
                raise UnauthenticatedError(
                    "Not a member of that workspace."
                    if not rows
                    else "Member of several workspaces: name one in `workspace`."
                )
            membership, name = rows[0]
            if not role_allows(membership.role, "chat.agent"):
                raise PermissionDeniedError(f"Your role ({membership.role}) may not answer chats.")
            await Chat(session, membership.workspace_id).agent_seen(user_id)
        return AgentSession(
            workspace_id=membership.workspace_id,
            actor=AgentActor(user_id=user_id, name=name),
            user_id=user_id,
            expires_at=token_expiry(token),
        )

    async def _contact_session(self, frame: AuthFrame) -> tuple[ContactSession, dict[str, Any]]:
        """The customer's session and its welcome, read in the sign-in's own transaction."""
        async with transaction() as session:
            channel, contact = await widget_sign_in(
                session,
                widget_token=frame.widget_token or "",
                identity=frame.identity,
                contact_token=frame.contact_token,
                secret=self.settings.secret_key,
            )
            conversations = await Chat(session, channel.workspace_id).conversations.of_contact(
                contact.id
            )
            actor = ContactActor(contact_id=contact.id, channel_id=channel.id, name=contact.name)
            welcome = {
                "type": "welcome",
                "role": "contact",
                "contact_id": str(actor.contact_id),
                "contact_token": issue_contact_token(
                    actor.contact_id, actor.channel_id, self.settings.secret_key
                ),
                "channel": WidgetChannel(
                    id=channel.id,
                    name=channel.name,
                    welcome_message=channel.welcome_message,
                    open_now=is_open(channel.business_hours, now()),
                ).model_dump(mode="json"),
                "conversations": [
                    ConversationRead.model_validate(c).model_dump(mode="json")
                    for c in conversations
                    if c.channel_id == actor.channel_id
                ],
            }
        auth = ContactSession(
            workspace_id=channel.workspace_id,
            actor=actor,
            messages_per_minute=channel.messages_per_minute,
        )
        return auth, welcome

    def _schedule_expiry(self, expires_at: datetime | None) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if expires_at is not None:
            delay = max(0.0, (expires_at - now()).total_seconds())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expired)

    def _expired(self) -> None:
        """The session ended: stop the flow of events until the client authenticates again."""
        self._expiry = None
        self._send(_error("session_expired", "Your session expired: authenticate again."))
        asyncio.get_running_loop().create_task(self._sign_out())

    # -- what clients ask for -----------------------------------------------------------------

    def _contact(self) -> ContactSession:
        if not isinstance(self.auth, ContactSession):
            raise PermissionDeniedError("Only customers' chat windows do this.")
        return self.auth

    def _agent(self) -> AgentSession:
        if not isinstance(self.auth, AgentSession):
            raise PermissionDeniedError("Only agents do this.")
        return self.auth

    def _session(self) -> ContactSession | AgentSession:
        assert self.auth is not None
        return self.auth

    async def _on_open(self, frame: OpenFrame, ref: str | None) -> None:
        auth = self._contact()
        async with transaction() as session:
            conversation = await Chat(session, auth.workspace_id).open_conversation(auth.actor)
            body = ConversationRead.model_validate(conversation).model_dump(mode="json")
        self._send({"type": "opened", "id": ref, "conversation": body})
        self._follow(conversation.id, frame.after_seq, ref)

    async def _on_resume(self, frame: ResumeFrame, ref: str | None) -> None:
        auth = self._session()
        async with session_factory()() as session:
            chat = Chat(session, auth.workspace_id)
            await chat.conversation_for(auth.actor, frame.conversation_id)
        self._follow(frame.conversation_id, frame.after_seq, ref)

    async def _on_leave(self, frame: LeaveFrame, ref: str | None) -> None:
        self._unfollow(frame.conversation_id)
        self._send({"type": "ok", "id": ref})

    async def _on_send(self, frame: SendFrame, ref: str | None) -> None:
        auth = self._session()
        limits = self.runtime.limits
        if not limits.allow_send(self.key) or (
            isinstance(auth, ContactSession)
            and not limits.allow_contact_message(auth.actor.contact_id, auth.messages_per_minute)
        ):
            self._send(
                {
                    **_error("rate_limited", "Too many messages: wait a moment and retry.", ref),
                    "client_msg_id": frame.client_msg_id,
                }
            )
            return
        async with transaction() as session:
            message, duplicate = await Chat(session, auth.workspace_id).send(
                auth.actor,
                frame.conversation_id,
                client_msg_id=frame.client_msg_id,
                text=frame.text,
                buttons=frame.buttons,
                attachment_ids=frame.attachment_ids,
            )
            body = MessageRead.model_validate(message).model_dump(mode="json")
        # Committed: the acknowledgement promises the message is stored.
        self._send(
            {
                "type": "ack",
                "id": ref,
                "conversation_id": str(frame.conversation_id),
                "client_msg_id": frame.client_msg_id,
                "seq": body["seq"],
                "duplicate": duplicate,
                "message": body,
            }
        )

    async def _on_typing(self, frame: TypingFrame, ref: str | None) -> None:
        if frame.conversation_id not in self.following:
            raise ConflictError("Follow the conversation (`resume`) before typing in it.")
        auth = self._session()
        await events.publish_now(
            events.conversation_topic(frame.conversation_id),
            typing_event(auth.actor, frame.conversation_id, frame.typing),
        )

    async def _on_read(self, frame: ReadFrame, ref: str | None) -> None:
        auth = self._session()
        async with transaction() as session:
            await Chat(session, auth.workspace_id).mark_read(
                auth.actor, frame.conversation_id, frame.seq
            )
        self._send({"type": "ok", "id": ref})

    async def _on_rate(self, frame: RateFrame, ref: str | None) -> None:
        auth = self._contact()
        async with transaction() as session:
            await Chat(session, auth.workspace_id).rate(
                auth.actor, frame.conversation_id, frame.seq, frame.rating
            )
        self._send({"type": "ok", "id": ref})

    async def _on_presence(self, frame: PresenceFrame, ref: str | None) -> None:
        auth = self._agent()
        async with transaction() as session:
            await Chat(session, auth.workspace_id).set_presence(
                auth.actor, status=frame.status, capacity=frame.capacity
            )
        self._send({"type": "ok", "id": ref})

    # -- following conversations --------------------------------------------------------------

    def _follow(self, conversation_id: uuid.UUID, after_seq: int, ref: str | None) -> None:
        # Subscribe first, then queue the catch-up: live events that arrive meanwhile queue up
        # behind it and are de-duplicated by seq.
        self.following.add(conversation_id)
        self.runtime.hub.subscribe(events.conversation_topic(conversation_id), self)
        self._send(CatchUp(conversation_id, after_seq, ref, announce=True))

    def _unfollow(self, conversation_id: uuid.UUID) -> None:
        self.following.discard(conversation_id)
        self.sent.pop(conversation_id, None)
        self.runtime.hub.unsubscribe(events.conversation_topic(conversation_id), self)

    # -- the hub's side (must not block) ------------------------------------------------------

    def deliver(self, topic: str, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message":
            self._send(
                Live(uuid.UUID(event["conversation_id"]), int(event["seq"]), event.get("message"))
            )
            return
        if kind == "typing" and self.auth is not None:
            sender = event.get("sender") or {}
            if sender.get("id") == str(_who(self.auth)[1]):
                return  # one's own typing
        if kind == "conversation" and topic.startswith("agents:"):
            conversation_id = uuid.UUID(event["conversation"]["id"])
            if conversation_id in self.following:
                return  # it comes on the conversation's own topic too
        self._send(event)

    def resync(self) -> None:
        for conversation_id in self.following:
            self._send(CatchUp(conversation_id, None, None, announce=False))

    def _send(self, item: Outgoing) -> None:
        if self.closed:
            return
        try:
            self.outbox.put_nowait(item)
        except asyncio.QueueFull:
            self.closed = True
            asyncio.get_running_loop().create_task(
                self._close(CLOSE_TOO_SLOW, "too slow: reconnect and resume")
            )

    # -- writing ------------------------------------------------------------------------------

    async def _write(self) -> None:
        try:
            while True:
                item = await self.outbox.get()
                if isinstance(item, Live):
                    await self._live(item)
                elif isinstance(item, CatchUp):
                    await self._catch_up(item)
                else:
                    await self._send_json(item)
        except WebSocketDisconnect:
            return  # the client went away: the reader ends the connection
        except Exception:
            # The database failed us mid-catch-up, say: the client reconnects and resumes,
            # which loses nothing.
            if not self.closed:
                log.exception("chat writer failed")
                await self._close(1011, "server error: reconnect and resume")

    async def _send_json(self, frame: dict[str, Any]) -> None:
        if frame.get("id") is None:
            frame.pop("id", None)
        await self.ws.send_text(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    def _message_frame(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "message",
            "conversation_id": message["conversation_id"],
            "seq": message["seq"],
            "message": message,
        }

    async def _live(self, item: Live) -> None:
        last = self.sent.get(item.conversation_id)
        if item.conversation_id not in self.following or last is None or item.seq <= last:
            return
        if item.seq == last + 1 and item.message is not None:
            await self._send_json(self._message_frame(item.message))
            self.sent[item.conversation_id] = item.seq
        else:
            await self._fill(item.conversation_id, last, until_seq=item.seq)

    async def _catch_up(self, item: CatchUp) -> None:
        if item.conversation_id not in self.following:
            return
        after = (
            item.after_seq if item.after_seq is not None else self.sent.get(item.conversation_id, 0)
        )
        self.sent[item.conversation_id] = after
        last = await self._fill(item.conversation_id, after, until_seq=None)
        if item.announce:
            await self._send_json(
                {
                    "type": "resumed",
                    "id": item.reply_to,
                    "conversation_id": str(item.conversation_id),
                    "last_seq": last,
                }
            )

    async def _fill(self, conversation_id: uuid.UUID, after: int, *, until_seq: int | None) -> int:
        """Send the stored messages after `after` (up to `until_seq`); returns the last seq."""
        if self.auth is None:
            return after
        workspace_id = self.auth.workspace_id
        while True:
            async with session_factory()() as session:
                page = await MessageRepository(session, workspace_id).after(
                    conversation_id, after, until_seq=until_seq, limit=CATCH_UP_PAGE
                )
                frames = [
                    self._message_frame(MessageRead.model_validate(m).model_dump(mode="json"))
                    for m in page
                ]
            for frame in frames:
                await self._send_json(frame)
                after = frame["seq"]
                self.sent[conversation_id] = after
            if len(page) < CATCH_UP_PAGE:
                return after


def _error(code: str, message: str, ref: str | None = None, details: Any = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message, "id": ref}
    if details is not None:
        frame["details"] = details
    return frame


def _agent_welcome(auth: AgentSession) -> dict[str, Any]:
    return {
        "type": "welcome",
        "role": "agent",
        "user_id": str(auth.user_id),
        "workspace_id": str(auth.workspace_id),
        "expires_at": auth.expires_at.isoformat() if auth.expires_at else None,
    }


def _who(auth: ContactSession | AgentSession) -> tuple[str, uuid.UUID]:
    if isinstance(auth, AgentSession):
        return "agent", auth.user_id
    return "contact", auth.actor.contact_id


def _uuid_or_nil(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.UUID(int=0)
