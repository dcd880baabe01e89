"""The message bus that carries chat events between knowdesk nodes.

An event is a small JSON object published to a topic (`conversation:<id>`, `agents:<workspace>`).
Every node hears every event and hands it to its local listeners, which pick what their own
connections follow. Events are hints: what matters is stored first, so a node that missed an
event (its listening connection dropped) catches up from the database when told to `resync`.

- `LocalBus`: one process, no database (a single node, and unit tests).
- `PostgresBus`: PostgreSQL LISTEN/NOTIFY, so that nodes on one database reach each other.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]

# A topic every node's listeners receive after the bus lost events (a dropped LISTEN connection).
RESYNC_TOPIC = "*resync"
# PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
MAX_PAYLOAD_BYTES = 7900


class PayloadTooLargeError(ValueError):
    """The event does not fit in one notification: publish a smaller one (e.g. a reference)."""


def encode_event(node: str, topic: str, event: dict[str, Any]) -> str:
    payload = json.dumps({"n": node, "t": topic, "e": event}, separators=(",", ":"), default=str)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLargeError(f"event of {len(payload.encode())} bytes on {topic}")
    return payload


class Bus(abc.ABC):
    """Publish events to topics; deliver every event to this node's listeners."""

    def __init__(self) -> None:
        self.node_id = uuid.uuid4().hex
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        """Call `listener(topic, event)` in the event loop for every event, local or remote."""
        self._listeners.append(listener)

    def _deliver(self, topic: str, event: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                listener(topic, event)
            except Exception:  # one faulty listener must not starve the others
                log.exception("bus listener failed on %s", topic)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect (when the bus needs to)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Disconnect."""

    @abc.abstractmethod
    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Send `event` to every node. Raises PayloadTooLargeError for oversize events."""


class LocalBus(Bus):
    """Delivers in-process only: correct for a single knowdesk node."""

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        encode_event(self.node_id, topic, event)  # same size rule as the real bus
        self._deliver(topic, event)


class PostgresBus(Bus):
    """LISTEN/NOTIFY on one PostgreSQL channel, shared by every node of a deployment.

    Local listeners hear this node's own events at once (not after a round trip through the
    database); notifications that carry this node's id are skipped when they come back.
    Outgoing notifications are sent in order by one task, as many per round trip as have
    queued up, so a busy node does not fall behind one round trip per event.
    """

    MAX_BATCH = 200

    def __init__(
        self, conninfo: str, *, channel: str = "knowdesk_bus", reconnect_seconds: float = 1.0
    ) -> None:
        super().__init__()
        self._conninfo = conninfo
        self.channel = channel  # nodes that share a channel hear each other
        self._reconnect_seconds = reconnect_seconds
        self._publisher: psycopg.AsyncConnection[Any] | None = None
        self._outgoing: list[str] = []
        self._pending = asyncio.Event()
        self._send_task: asyncio.Task[None] | None = None
        self._listen_task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._listen_task = asyncio.create_task(self._listen_forever(), name="knowdesk-bus")
        self._send_task = asyncio.create_task(self._send_forever(), name="knowdesk-bus-send")
        # Listen before serving, so no event published after start-up is missed.
        await asyncio.wait_for(self._listening.wait(), timeout=30)

    async def stop(self) -> None:
        for task in (self._send_task, self._listen_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._send_task = self._listen_task = None
        with contextlib.suppress(psycopg.Error):
            await self._notify_all()  # what was published before stopping still goes out
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        payload = encode_event(self.node_id, topic, event)
        self._deliver(topic, event)
        self._outgoing.append(payload)
        self._pending.set()

    async def _send_forever(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                await self._notify_all()
            except psycopg.Error:
                # Other nodes miss these events until their clients resume (nothing stored is
                # lost); try again with what comes next.
                log.exception(
                    "could not notify other nodes; %d events dropped", len(self._outgoing)
                )
                self._outgoing.clear()
                self._publisher = None
                await asyncio.sleep(self._reconnect_seconds)

    async def _notify_all(self) -> None:
        while self._outgoing:
            batch = self._outgoing[: self.MAX_BATCH]
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = await psycopg.AsyncConnection.connect(
                            self._conninfo, autocommit=True
                        )
                    # One statement: the notifications go out in the batch's order.
                    await self._publisher.execute(
                        "select pg_notify(%s, payload) from unnest(%s::text[])"
                        " with ordinality as t(payload, n) order by n",
                        (self.channel, batch),
                    )
                    break
                except psycopg.OperationalError:
                    self._publisher = None
                    if attempt == 2:
                        raise
            del self._outgoing[: len(batch)]

    async def _listen_forever(self) -> None:
        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as connection:
                    await connection.execute(
                        sql.SQL("listen {}").format(sql.Identifier(self.channel))
                    )
                    self._listening.set()
                    if not first:
                        # Events published while we were deaf are lost: tell listeners to catch up.
                        self._deliver(RESYNC_TOPIC, {"type": "resync"})
                    first = False
                    async for notify in connection.notifies():
                        self._on_notify(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus connection lost; reconnecting")
                await asyncio.sleep(self._reconnect_seconds)

    def _on_notify(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("ignoring a malformed bus notification")
            return
        if message.get("n") != self.node_id:
            self._deliver(str(message["t"]), dict(message["e"]))
