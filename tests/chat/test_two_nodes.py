"""Two knowdesk processes on one PostgreSQL: a conversation's customer on one node and its agent
on the other see the same messages, once each and in order (LISTEN/NOTIFY between the nodes)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.chat.helpers import (
    agent_socket,
    customer,
    make_agent,
    make_channel,
    make_team,
)
from tests.conftest import Tenant, free_port, start_server, stop_server, wait_healthy


@pytest.fixture(scope="module")
def second_node(base_url: str) -> Iterator[str]:
    """Another server process on the same data folder (and so the same database)."""
    port = free_port()
    process = start_server(port, "server-node-b.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop_server(process)


def test_messages_cross_between_nodes(tenant: Tenant, base_url: str, second_node: str) -> None:
    agent = make_agent(tenant)
    channel = make_channel(tenant.client, team_id=make_team(tenant.client, [agent])["id"])
    with agent_socket(base_url, agent) as console:  # the agent on node A
        sock, _ = customer(second_node, channel)  # the customer on node B
        with sock:
            cid = sock.open()["id"]
            assert sock.say(cid, "转人工")["type"] == "ack"

            # Routing ran on node B; node A's agent hears of the assignment.
            console.expect(
                lambda f: (
                    f.get("type") == "conversation"
                    and f["conversation"]["id"] == cid
                    and f["conversation"]["assignee_id"] == agent.user_id
                )
            )
            console.resume(cid)
            assert console.say(cid, "hello from node A")["type"] == "ack"
            got = sock.message_with(cid, lambda m: m["sender_kind"] == "agent")
            assert got["text"] == "hello from node A"

            sock.send({"type": "typing", "conversation_id": cid, "typing": True})
            assert console.expect("typing")["sender"]["kind"] == "contact"
            assert sock.say(cid, "thanks, from node B")["type"] == "ack"
            console.message_with(cid, lambda m: m["text"] == "thanks, from node B")

            # Through REST on node B, to the agent's socket on node A.
            on_b = httpx.Client(base_url=second_node, headers=dict(agent.client.headers))
            r = on_b.post(f"/api/v1/chat/conversations/{cid}/messages", json={"text": "via B"})
            assert r.status_code == 201, r.text
            last = r.json()["message"]["seq"]
            console.message_with(cid, lambda m: m["seq"] == last)
            sock.message_with(cid, lambda m: m["seq"] == last)

            everything = list(range(1, last + 1))
            assert [m["seq"] for m in console.messages(cid)] == everything
            assert [m["seq"] for m in sock.messages(cid)] == everything
