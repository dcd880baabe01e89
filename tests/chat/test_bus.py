"""The buses themselves: in-process, and PostgreSQL LISTEN/NOTIFY on the test database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from knowdesk.chat.bus import RESYNC_TOPIC, LocalBus, PayloadTooLargeError, PostgresBus
from knowdesk.config import get_settings
from knowdesk.db.server import plain_database_url

Heard = list[tuple[str, dict[str, Any]]]


def _recorder(heard: Heard) -> Callable[[str, dict[str, Any]], None]:
    return lambda topic, event: heard.append((topic, event))


async def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_local_bus_delivers_to_every_listener_even_after_a_failing_one() -> None:
    bus = LocalBus()
    heard: Heard = []

    def broken(topic: str, event: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    bus.listen(broken)
    bus.listen(_recorder(heard))
    await bus.publish("conversation:1", {"type": "typing"})
    assert heard == [("conversation:1", {"type": "typing"})]
    with pytest.raises(PayloadTooLargeError):
        await bus.publish("conversation:1", {"text": "字" * 3000})
    assert len(heard) == 1


async def test_postgres_bus_carries_events_between_nodes_and_recovers(base_url: str) -> None:
    # base_url: the session's server has started the embedded database we connect to here.
    url = plain_database_url(get_settings())
    channel = f"test_bus_{uuid.uuid4().hex[:8]}"
    node_a = PostgresBus(url, channel=channel, reconnect_seconds=0.1)
    node_b = PostgresBus(url, channel=channel, reconnect_seconds=0.1)
    heard_a: Heard = []
    heard_b: Heard = []
    node_a.listen(_recorder(heard_a))
    node_b.listen(_recorder(heard_b))
    await node_a.start()
    await node_b.start()
    try:
        event = {"type": "message", "conversation_id": "c", "seq": 1}
        await node_a.publish("conversation:c", event)
        await _until(lambda: len(heard_b) == 1)
        await asyncio.sleep(0.2)  # would a's own notification come back to it a second time?
        assert heard_a == heard_b == [("conversation:c", event)]

        with pytest.raises(PayloadTooLargeError):
            await node_a.publish("conversation:c", {"text": "字" * 3000})

        # b's listening connection dies: b reconnects and tells its listeners to catch up.
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
            await admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where query = %s",
                (f'listen "{channel}"',),
            )
        await _until(lambda: any(topic == RESYNC_TOPIC for topic, _ in heard_b))
        await node_a.publish("conversation:c", {"type": "message", "seq": 2})
        await _until(lambda: heard_b[-1] == ("conversation:c", {"type": "message", "seq": 2}))
    finally:
        await node_a.stop()
        await node_b.stop()
