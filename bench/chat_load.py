"""Chat load: many idle customer sockets on one node, and message traffic across two nodes.

Run: `python bench/chat_load.py [--connections N] [--active N] [--messages N] [--interval S]`.

It starts two servers on a temporary data folder (one embedded PostgreSQL): node A holds every
customer socket; node B holds one agent console that follows the active conversations, so each
message travels customer → node A → PostgreSQL → node B → agent (LISTEN/NOTIFY).

Measured:
- idle sockets: how long signing in N customers takes (each makes a contact and a
  conversation), and node A's memory per connection;
- traffic: `--active` customers each send `--messages` messages, one every `--interval`
  seconds (staggered); for each message, the time to its acknowledgement (stored and committed)
  and to its arrival at the agent on node B; plus that every message arrived exactly once.

The bot is off on the channel, so the figures are the transport's own, not the answer path's.
The client runs on the same machine as both servers: on a small machine it competes with them
for the CPU, which makes the figures pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(data: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {**os.environ, "KNOWDESK_DATA": str(data), "KNOWDESK_ALLOW_SIGNUP": "true"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "knowdesk", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited; see {log}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Customer:
    def __init__(self, ws: ClientConnection, conversation_id: str) -> None:
        self.ws = ws
        self.conversation_id = conversation_id
        self.acked: dict[str, float] = {}


async def _call(ws: ClientConnection, frame: dict[str, Any], until: str) -> dict[str, Any]:
    """Send a frame and wait for its reply of type `until` (retrying when rate limited)."""
    while True:
        ref = uuid.uuid4().hex[:10]
        await ws.send(json.dumps({**frame, "id": ref}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == ref and reply["type"] in (until, "error"):
                break
        if reply["type"] != "error":
            return dict(reply)
        if reply["code"] != "rate_limited":
            raise RuntimeError(reply)
        await asyncio.sleep(0.5)


async def _customer(url: str, widget_token: str, gate: asyncio.Semaphore) -> Customer:
    async with gate:
        ws = await connect(url, max_size=2**22, ping_interval=None)
        await _call(ws, {"type": "auth", "widget_token": widget_token}, "welcome")
        opened = await _call(ws, {"type": "open"}, "resumed")
        return Customer(ws, opened["conversation_id"])


async def _drain(ws: ClientConnection) -> None:
    """Read and drop what the server pushes (a real client reads its socket too)."""
    try:
        async for _ in ws:
            pass
    except Exception:
        return


async def _send_messages(
    customer: Customer, count: int, interval: float, delay: float, sent_at: dict[str, float]
) -> list[float]:
    await asyncio.sleep(delay)
    ack_latencies = []
    for i in range(count):
        client_msg_id = f"{customer.conversation_id[:8]}-{i}"
        started = time.perf_counter()
        sent_at[client_msg_id] = started
        frame = {
            "type": "send",
            "conversation_id": customer.conversation_id,
            "client_msg_id": client_msg_id,
            "text": f"load message {i}",
        }
        await _call(customer.ws, frame, "ack")
        ack_latencies.append(time.perf_counter() - started)
        await asyncio.sleep(interval)
    return ack_latencies


async def _agent(
    url: str, token: str, conversations: list[str], expected: int, sent_at: dict[str, float]
) -> tuple[list[float], int, int]:
    """Follow the conversations on node B; time each customer message's arrival."""
    ws = await connect(url, max_size=2**22, ping_interval=None)
    await _call(ws, {"type": "auth", "token": token}, "welcome")
    for conversation_id in conversations:
        await _call(ws, {"type": "resume", "conversation_id": conversation_id}, "resumed")
    _say(f"the agent follows {len(conversations)} conversations on node B")
    latencies: list[float] = []
    seen: set[tuple[str, int]] = set()
    duplicates = 0
    try:
        async with asyncio.timeout(600):
            while len(latencies) < expected:
                frame = json.loads(await ws.recv())
                if frame.get("type") != "message":
                    continue
                key = (frame["conversation_id"], frame["seq"])
                duplicates += key in seen
                seen.add(key)
                client_msg_id = frame["message"].get("client_msg_id")
                if frame["message"]["sender_kind"] == "contact" and client_msg_id in sent_at:
                    latencies.append(time.perf_counter() - sent_at[client_msg_id])
    finally:
        await ws.close()
    return latencies, duplicates, len(seen)


async def run(args: argparse.Namespace, node_a: str, node_b: str, pid_a: int) -> dict[str, Any]:
    signup = httpx.post(
        node_a + "/api/v1/auth/signup",
        json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "benchmark-password",
            "name": "Agent",
            "workspace_name": "Chat load",
        },
    ).json()
    token = signup["token"]
    headers = {"Authorization": f"Bearer {token}"}
    channel = httpx.post(
        node_a + "/api/v1/chat/channels",
        json={"name": "load", "bot_enabled": False, "messages_per_minute": 600},
        headers=headers,
    ).json()
    ws_a = node_a.replace("http", "ws") + "/api/v1/chat/socket"
    ws_b = node_b.replace("http", "ws") + "/api/v1/chat/socket"

    rss_before = _rss_mb(pid_a)
    gate = asyncio.Semaphore(50)
    started = time.perf_counter()
    customers = await asyncio.gather(
        *(_customer(ws_a, channel["widget_token"], gate) for _ in range(args.connections))
    )
    connect_seconds = time.perf_counter() - started
    _say(f"{args.connections} customers signed in in {connect_seconds:.1f} s")
    drains = [asyncio.create_task(_drain(c.ws)) for c in customers[args.active :]]
    await asyncio.sleep(2)
    rss_after = _rss_mb(pid_a)

    active = customers[: args.active]
    sent_at: dict[str, float] = {}
    expected = args.active * args.messages
    agent = asyncio.create_task(
        _agent(ws_b, token, [c.conversation_id for c in active], expected, sent_at)
    )
    await asyncio.sleep(1 + args.active / 200)  # let the agent follow every conversation
    started = time.perf_counter()
    ack_lists = await asyncio.gather(
        *(
            _send_messages(
                c, args.messages, args.interval, i * args.interval / len(active), sent_at
            )
            for i, c in enumerate(active)
        )
    )
    _say(f"sent {expected} messages; waiting for the agent on node B")
    deliveries, duplicates, distinct = await agent
    traffic_seconds = time.perf_counter() - started
    acks = [x for lst in ack_lists for x in lst]
    for c in customers:
        await c.ws.close()
    for task in drains:
        task.cancel()
    return {
        "connections": args.connections,
        "connect_seconds": round(connect_seconds, 1),
        "sign_ins_per_second": round(args.connections / connect_seconds),
        "node_a_rss_mb_before": round(rss_before),
        "node_a_rss_mb_after": round(rss_after),
        "kb_per_connection": round((rss_after - rss_before) * 1024 / args.connections, 1),
        "messages": expected,
        "messages_per_second": round(expected / traffic_seconds),
        "ack_ms_p50": round(statistics.median(acks) * 1000, 1),
        "ack_ms_p99": round(_percentile(acks, 99) * 1000, 1),
        "cross_node_ms_p50": round(statistics.median(deliveries) * 1000, 1),
        "cross_node_ms_p99": round(_percentile(deliveries, 99) * 1000, 1),
        "delivered": len(deliveries),
        "duplicates": duplicates,
        "distinct_messages_seen_by_agent": distinct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--active", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between messages")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="knowdesk-chat-load-"))
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    with (
        _server(data, logs / "chat-load-a.log") as (node_a, process_a),
        _server(data, logs / "chat-load-b.log") as (node_b, _),
    ):
        figures = asyncio.run(run(args, node_a, node_b, process_a.pid))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
