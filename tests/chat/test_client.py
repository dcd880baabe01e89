"""The Python chat client: REST for agents and chat windows, and the socket client that
reconnects through network cuts without losing or repeating a message."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import pytest

from knowdesk.chat.models import ConversationState
from knowdesk.client import KnowdeskClient
from knowdesk.client.chat import ChatError, ChatSocket, WidgetClient
from tests.chat.helpers import make_channel
from tests.conftest import Tenant


class FlakyProxy:
    """A TCP forwarder to the server whose connections the test cuts, as a network would."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.links: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self.links += [writer, upstream_writer]
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    def cut(self) -> None:
        for writer in self.links:
            writer.transport.abort()
        self.links.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_the_socket_client_rides_out_network_cuts(tenant: Tenant, base_url: str) -> None:
    channel = make_channel(tenant.client)
    proxy = FlakyProxy(base_url)
    url = await proxy.start()
    try:
        async with ChatSocket(
            url, widget_token=channel["widget_token"], reconnect_delay=0.1
        ) as chat:
            cid = (await chat.open())["id"]
            await chat.send(cid, "my parcel is lost")
            r = await asyncio.to_thread(
                tenant.client.post, f"/api/v1/chat/conversations/{cid}/assign", json={}
            )
            assert r.status_code == 200

            def agent_writes() -> None:
                for i in range(20):
                    r = tenant.client.post(
                        f"/api/v1/chat/conversations/{cid}/messages",
                        json={"text": f"agent {i}", "client_msg_id": f"agent-{i}"},
                    )
                    assert r.status_code == 201, r.text

            writer = asyncio.create_task(asyncio.to_thread(agent_writes))
            for _ in range(3):
                await asyncio.sleep(0.1)
                proxy.cut()
            ack = await chat.send(cid, "are you still there?", client_msg_id="during-cuts")
            assert ack["type"] == "ack"
            await writer

            history = await asyncio.to_thread(
                tenant.client.get,
                f"/api/v1/chat/conversations/{cid}/messages",
                params={"limit": 500},
            )
            stored = history.json()
            assert [m["client_msg_id"] for m in stored].count("during-cuts") == 1
            last = stored[-1]["seq"]
            seen: list[int] = []
            while not seen or seen[-1] < last:
                event = await chat.next_event(lambda f: f["type"] == "message", timeout=20)
                seen.append(event["seq"])
            assert seen == list(range(1, last + 1))  # every message once, in order
            assert proxy.connections >= 3  # it did reconnect
    finally:
        await proxy.stop()


async def test_a_refused_socket_client_says_why_and_does_not_retry(base_url: str) -> None:
    proxy = FlakyProxy(base_url)
    chat = ChatSocket(await proxy.start(), widget_token="wt_not-a-channel", reconnect_delay=0.05)
    try:
        with pytest.raises(ChatError) as refused:
            await chat.connect()
        assert refused.value.code == "unauthenticated"
        await asyncio.sleep(0.5)
        assert proxy.connections == 1  # no reconnecting in the background
    finally:
        await chat.close()
        await proxy.stop()


def test_the_rest_clients_for_agents_and_chat_windows(tenant: Tenant, base_url: str) -> None:
    token = tenant.client.headers["Authorization"].removeprefix("Bearer ")
    with KnowdeskClient(base_url, token=token) as kd:
        channel = kd.chat.create_channel("Web", bot_enabled=False, welcome_message="Hi")
        assert [c.id for c in kd.chat.channels()] == [channel.id]
        with WidgetClient(base_url, channel.widget_token) as window:
            session = window.start()
            conversation = window.open()
            first = window.send(conversation.id, "hello", client_msg_id="c-1")
            again = window.send(conversation.id, "hello", client_msg_id="c-1")
            assert again.duplicate and again.message.seq == first.message.seq
            assert window.rate(conversation.id, 1, "helpful").rating == "helpful"

            queued = kd.chat.conversations(state=ConversationState.QUEUED)
            assert [c.id for c in queued] == [conversation.id]
            kd.chat.assign(conversation.id)
            reply = kd.chat.send(conversation.id, "Hello, how can I help?")
            texts = [m.text for m in window.messages(conversation.id)]
            assert texts[-1] == reply.message.text
            assert kd.chat.resolve(conversation.id).state == ConversationState.RESOLVED
            detail = kd.chat.conversation(conversation.id)
            assert detail.contact.id == session.contact_id
