"""Chat load: thousands of customer sockets on one node, message traffic to an agent on a second
node, and a reconnect storm; then the same run against a bare WebSocket relay, as the baseline.

Servers. By default the bench starts two knowdesk nodes itself on a temporary data folder (one
embedded PostgreSQL, signup on) and stops them at the end; logs in test-artifacts/. With `--url`
it loads a running server instead: customers connect to `--url`, the agent to `--agent-url`
(default the same node; a second node of the same database makes messages cross nodes). It signs
in as `--email`/`--password` (a workspace owner; or KNOWDESK_EMAIL/KNOWDESK_PASSWORD), or else
signs up a new workspace (the server needs KNOWDESK_ALLOW_SIGNUP=true); it adds a channel `load`
with the bot off, and the conversations it makes stay there. CPU and memory are measured when
that server runs on this machine as this user. Either way the baseline relay runs here.

knowdesk: node A holds every customer socket; node B holds the agent's consoles, which have
taken the `--active` conversations, so each message travels customer → node A → PostgreSQL →
node B → agent (LISTEN/NOTIFY) and back. The bot is off: the figures are the transport's.

Baseline, same run, same client code and frames: a bare `websockets` server (one process) that
keeps conversations in memory and relays each message to the sockets following it — no
database, no validation, no second node. It is the floor for a Python WebSocket transport on
this machine: the ratio is what storing, checking and crossing nodes cost on top of it.

Phases, for each server:
1. connect: `--connections` customers sign in and open a conversation (50 at a time), and stay
   connected; connections held, and the server's memory per connection;
2. traffic: for each rate of `--rates`, the active customers send that many messages per second
   for `--seconds` (open loop, round robin); per message, the time to its acknowledgement
   (stored) and to its arrival at the agent; messages lost (acknowledged, not arrived within
   `--wait` s), shown twice (a seq, or a client_msg_id under a second seq, seen again by the
   same socket), and gaps (seqs missing below the highest one a socket saw);
3. storm: the agents reply at `--storm-rate` messages per second; every customer socket is cut at
   the same moment and all reconnect at once (as the same contact) and resume after the last seq
   they saw, while the replies keep coming. Reported: the time until every customer has resumed,
   the delivery time of the replies sent meanwhile, and that each customer saw every message of
   its conversation once, with no gap in seq.
Lost, duplicates and gaps must be 0; `--check-detector` proves the bench would see them.

The client runs on the same machine as the servers and competes with them for the CPU; the
machine's other load during each phase is printed (busy cores not ours), and so is the CPU each
process used per message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SIGN_IN_CONCURRENCY = 50
RECONNECT_GIVE_UP = 300.0
MAX_RETRIES = 20
# `python -c PROFILED_SERVER <file> serve …`: knowdesk under cProfile, timed in CPU seconds (wall
# time would charge other processes' turns on a shared machine to whatever was running).
PROFILED_SERVER = """
import cProfile, runpy, sys, time
out, sys.argv = sys.argv[1], ["knowdesk", *sys.argv[2:]]
profiler = cProfile.Profile(time.process_time)
try:
    profiler.runcall(runpy.run_module, "knowdesk", run_name="__main__")
finally:
    profiler.dump_stats(out)
"""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# -- the machine: processes' CPU and memory ---------------------------------------------------


def _cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """User and system CPU seconds of a process (and of its children that have exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores) since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _postmaster(data: Path) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if "postgres" in cmdline and str(data) in cmdline:
                    return int(entry.name)
    return None


def _postgres_cpu_seconds(data: Path) -> float:
    """CPU seconds of the embedded PostgreSQL under `data`: its postmaster, the backends alive,
    and those that have exited (counted in the postmaster's children's time)."""
    parents: dict[int, int] = {}
    postmaster = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        parents[int(entry.name)] = int(stat[1])
        if "postgres" in cmdline and str(data) in cmdline:
            postmaster = int(entry.name)
    if postmaster is None:
        return 0.0
    backends = (pid for pid, parent in parents.items() if parent == postmaster)
    return _cpu_seconds(postmaster, with_children=True) + sum(map(_cpu_seconds, backends))


def _listening_pid(port: int) -> int | None:
    """The process of this machine (and of this user) listening on `port`, if any."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
    return None


@dataclass
class Processes:
    """The server side of a target, named: whose CPU counts as the server's."""

    named: dict[str, int]
    postgres_data: Path | None = None

    def cpu(self) -> dict[str, float]:
        seconds = {name: _cpu_seconds(pid) for name, pid in self.named.items()}
        if self.postgres_data is not None:
            seconds["postgres"] = _postgres_cpu_seconds(self.postgres_data)
        return seconds

    def describe(self) -> str:
        named = [f"{name} (pid {pid})" for name, pid in self.named.items()]
        if self.postgres_data is not None:
            named.append(f"postgres ({self.postgres_data})")
        return ", ".join(named) or "none (not on this machine, or not ours): no CPU or memory"


def running_processes(nodes: dict[str, str]) -> Processes:
    """The processes of running servers, when they are on this machine: their pids by the port
    they listen on, and their embedded PostgreSQL by the data folder in their environment."""
    named: dict[str, int] = {}
    data = None
    for name, url in nodes.items():
        parsed = httpx.URL(url)
        if parsed.host not in ("127.0.0.1", "localhost", "::1") or name in named:
            continue
        pid = _listening_pid(parsed.port or (443 if parsed.scheme == "https" else 80))
        if pid is None or pid in named.values():
            continue
        named[name] = pid
        with contextlib.suppress(OSError):
            env = dict(
                item.split("=", 1)
                for item in Path(f"/proc/{pid}/environ").read_text().split("\0")
                if "=" in item
            )
            folder = env.get("KNOWDESK_DATA") or env.get("KNOWDESK_DATA_DIR") or "data"
            candidate = (Path(f"/proc/{pid}/cwd").resolve() / folder).resolve()
            if _postmaster(candidate) is not None:
                data = candidate
    return Processes(named, postgres_data=data)


@dataclass
class Meter:
    """CPU used during a phase: each server process, this client, and everyone else."""

    processes: Processes
    started: float = 0.0
    servers: dict[str, float] = field(default_factory=dict)
    client: float = 0.0
    machine: float = 0.0

    def start(self) -> Meter:
        self.started = time.perf_counter()
        self.servers = self.processes.cpu()
        self.client = time.process_time()
        self.machine = _machine_busy_seconds()
        return self

    def stop(self, messages: int) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        servers = {k: v - self.servers.get(k, 0.0) for k, v in self.processes.cpu().items()}
        client = time.process_time() - self.client
        machine = _machine_busy_seconds() - self.machine
        return {
            "seconds": round(wall, 1),
            "server_cpu_ms_per_message": {
                k: round(v * 1000 / max(messages, 1), 2) for k, v in servers.items()
            },
            "server_cores": round(sum(servers.values()) / wall, 2),
            "client_cores": round(client / wall, 2),
            "other_cores": round(max(0.0, machine - sum(servers.values()) - client) / wall, 2),
        }


# -- the clients ------------------------------------------------------------------------------


@dataclass
class Deliveries:
    """When each message was sent and when it reached the other side, by client_msg_id."""

    sent: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # error frames answered by a retry
    refusals: Counter[str] = field(default_factory=Counter)  # why messages were not acked

    def errors_since(self, before: Counter[str]) -> dict[str, int]:
        """Error frames answered by a retry since `before`, by code."""
        retried = self.errors - before
        return {
            "rate_limited_retried": retried["rate_limited"],
            "internal_retried": retried["internal"],
        }

    def latencies(self, ids: Sequence[str]) -> list[float]:
        return [self.arrived[i] - self.sent[i] for i in ids if i in self.arrived]

    def missing(self, ids: Sequence[str]) -> int:
        return sum(i not in self.arrived for i in ids)

    async def wait_for(self, ids: Sequence[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while self.missing(ids) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)


class Peer:
    """One client socket (a customer's chat window or an agent's console): a reader task records
    every `message` frame and hands each reply to the request that waits for it."""

    _refs = itertools.count()

    def __init__(self, url: str, kind: str, deliveries: Deliveries) -> None:
        self.url = url
        self.kind = kind  # "contact" or "agent": arrivals are counted for the other kind's
        self.deliveries = deliveries
        self.ws: ClientConnection | None = None
        self.seen: dict[str, set[int]] = defaultdict(set)  # conversation id -> seqs received
        self.seen_ids: set[str] = set()  # client_msg_ids received: one stored twice shows here
        self._waiting: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}

    async def connect(self, auth: dict[str, Any]) -> dict[str, Any]:
        self.ws = await connect(self.url, max_size=2**22, ping_interval=None, open_timeout=120)
        asyncio.create_task(self._read(self.ws))
        return await self.request(auth, "welcome")

    def drop(self) -> None:
        """Cut the connection as a network failure would: no closing handshake."""
        assert self.ws is not None
        self.ws.transport.abort()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def request(self, frame: dict[str, Any], until: str) -> dict[str, Any]:
        """Send a frame and wait for its reply of type `until`, retrying (after a pause) when
        the server says so: rate limited, or a server fault (`internal`)."""
        assert self.ws is not None
        for _ in range(MAX_RETRIES):
            ref = str(next(self._refs))
            reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[ref] = (until, reply)
            await self.ws.send(json.dumps({**frame, "id": ref}))
            answer = await reply
            if answer["type"] != "error":
                return answer
            if answer["code"] not in ("rate_limited", "internal"):
                raise RuntimeError(answer)
            self.deliveries.errors[answer["code"]] += 1
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{frame['type']}: still refused after {MAX_RETRIES} tries")

    async def send_message(self, conversation_id: str, client_msg_id: str) -> float | None:
        """Send a message; the seconds until its acknowledgement, or None if it was refused."""
        frame = {
            "type": "send",
            "conversation_id": conversation_id,
            "client_msg_id": client_msg_id,
            "text": f"load message {client_msg_id}",
        }
        started = self.deliveries.sent[client_msg_id] = time.perf_counter()
        try:
            await self.request(frame, "ack")
        except (RuntimeError, ConnectionError, ConnectionClosed) as exc:
            self.deliveries.refusals[str(exc)[:120]] += 1
            return None
        return time.perf_counter() - started

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "message":
                    self._on_message(frame)
                waiting = self._waiting.get(frame.get("id", ""))
                if waiting is not None and frame["type"] in (waiting[0], "error"):
                    del self._waiting[frame["id"]]
                    waiting[1].set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            for _, reply in self._waiting.values():
                if not reply.done():
                    reply.set_exception(ConnectionError("the connection closed"))
            self._waiting.clear()

    def _on_message(self, frame: dict[str, Any]) -> None:
        seqs = self.seen[frame["conversation_id"]]
        if frame["seq"] in seqs:
            self.deliveries.duplicates += 1
            return
        seqs.add(frame["seq"])
        message = frame["message"]
        client_msg_id = message.get("client_msg_id")
        if client_msg_id not in self.deliveries.sent:
            return
        if client_msg_id in self.seen_ids:  # the same message under a second seq
            self.deliveries.duplicates += 1
            return
        self.seen_ids.add(client_msg_id)
        if message["sender_kind"] != self.kind:
            self.deliveries.arrived[client_msg_id] = time.perf_counter()

    def gaps(self) -> int:
        """Seqs missing below the highest one received, over every conversation."""
        return sum(max(seqs) - len(seqs) for seqs in self.seen.values() if seqs)


class Customer(Peer):
    def __init__(self, url: str, deliveries: Deliveries) -> None:
        super().__init__(url, "contact", deliveries)
        self.contact_token = ""
        self.conversation_id = ""

    async def sign_in(self, widget_token: str) -> None:
        welcome = await self.connect({"type": "auth", "widget_token": widget_token})
        self.contact_token = welcome["contact_token"]
        opened = await self.request({"type": "open"}, "resumed")
        self.conversation_id = opened["conversation_id"]

    async def come_back(self, widget_token: str) -> int | None:
        """Reconnect as the same contact and resume after the last seq seen, retrying until it
        works (as the widget does); the number of attempts, or None if it gave up (a storm
        that long is a result to report, not a reason to lose the others)."""
        deadline = time.perf_counter() + RECONNECT_GIVE_UP
        for attempt in itertools.count(1):
            try:
                await self.connect(
                    {
                        "type": "auth",
                        "widget_token": widget_token,
                        "contact_token": self.contact_token,
                    }
                )
                last_seq = max(self.seen[self.conversation_id], default=0)
                resume = {
                    "type": "resume",
                    "conversation_id": self.conversation_id,
                    "after_seq": last_seq,
                }
                await self.request(resume, "resumed")
                return attempt
            except (
                OSError,
                TimeoutError,
                InvalidHandshake,
                ConnectionClosed,
                ConnectionError,
                RuntimeError,  # an error frame, e.g. the sign-in not handled in time
            ):
                if self.ws is not None:
                    self.ws.transport.abort()
                if time.perf_counter() > deadline:
                    return None
                await asyncio.sleep(0.2 * min(attempt, 5))
        raise AssertionError("unreachable")


# -- what is measured -------------------------------------------------------------------------


@dataclass
class Target:
    """A server to load: where customers and agents connect, and how agents take chats."""

    name: str
    customer_url: str
    agent_url: str
    widget_token: str
    agent_auth: dict[str, Any]
    processes: Processes
    customer_node: str  # the process holding the customers' sockets
    take: Callable[[Sequence[str]], Awaitable[None]]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def connect_customers(target: Target, count: int, deliveries: Deliveries) -> dict[str, Any]:
    gate = asyncio.Semaphore(SIGN_IN_CONCURRENCY)
    pid = target.processes.named.get(target.customer_node)
    rss_before = _rss_mb(pid) if pid else math.nan

    async def one() -> Customer:
        async with gate:
            customer = Customer(target.customer_url, deliveries)
            await customer.sign_in(target.widget_token)
            return customer

    meter = Meter(target.processes).start()
    customers = await asyncio.gather(*(one() for _ in range(count)))
    signing_in = time.perf_counter() - meter.started
    load = meter.stop(count)
    await asyncio.sleep(2)
    held = sum(c.ws is not None and c.ws.state.name == "OPEN" for c in customers)
    _say(f"{target.name}: {held} customers connected in {load['seconds']} s")
    return {
        "customers": customers,
        "held": held,
        "sign_ins_per_second": round(count / signing_in),
        "kb_per_connection": round((_rss_mb(pid) - rss_before) * 1024 / count, 1) if pid else None,
        "load": load,
    }


async def traffic(
    active: Sequence[Customer],
    follower: Peer,
    deliveries: Deliveries,
    rate: float,
    seconds: float,
    phase: str,
    wait: float,
) -> dict[str, Any]:
    """Open loop: message i leaves at start + i / rate, whatever became of the earlier ones."""
    ids = [f"{phase}-{i}" for i in range(int(rate * seconds))]
    duplicates_before, errors_before = deliveries.duplicates, Counter(deliveries.errors)
    start = time.perf_counter() + 0.05
    sends = []
    for i, client_msg_id in enumerate(ids):
        await _sleep_until(start + i / rate)
        customer = active[i % len(active)]
        sends.append(
            asyncio.create_task(customer.send_message(customer.conversation_id, client_msg_id))
        )
    sent_seconds = time.perf_counter() - start
    acks = await asyncio.gather(*sends)
    acked = [i for i, ack in zip(ids, acks, strict=True) if ack is not None]
    ack_latencies = [ack for ack in acks if ack is not None]
    await deliveries.wait_for(acked, wait)
    delivered = deliveries.latencies(acked)
    return {
        "rate": rate,
        "messages": len(ids),
        "sent_per_second": round(len(ids) / sent_seconds),
        "refused": len(ids) - len(acked),
        "ack_ms_p50": _ms(_percentile(ack_latencies, 50)),
        "ack_ms_p99": _ms(_percentile(ack_latencies, 99)),
        "delivery_ms_p50": _ms(_percentile(delivered, 50)),
        "delivery_ms_p99": _ms(_percentile(delivered, 99)),
        "lost": deliveries.missing(acked),
        "duplicates": deliveries.duplicates - duplicates_before,
        "gaps": sum(peer.gaps() for peer in [*active, follower]),
        **deliveries.errors_since(errors_before),
    }


async def replies(
    senders: Sequence[Peer], active: Sequence[Customer], rate: float, stop: asyncio.Event
) -> list[str]:
    """Agents reply into the active conversations at `rate` until `stop`; the acked ids."""
    ids: list[str] = []
    sends = []
    start = time.perf_counter()
    for i in itertools.count():
        if stop.is_set():
            break
        await _sleep_until(start + i / rate)
        customer = active[i % len(active)]
        ids.append(f"storm-{i}")
        sends.append(
            asyncio.create_task(
                senders[i % len(senders)].send_message(customer.conversation_id, ids[-1])
            )
        )
    acks = await asyncio.gather(*sends)
    return [i for i, ack in zip(ids, acks, strict=True) if ack is not None]


async def storm(
    target: Target,
    customers: Sequence[Customer],
    active: Sequence[Customer],
    senders: Sequence[Peer],
    deliveries: Deliveries,
    rate: float,
    wait: float,
) -> dict[str, Any]:
    """Every customer socket cut at once, all reconnecting at once, while agents reply."""
    duplicates_before, errors_before = deliveries.duplicates, Counter(deliveries.errors)
    stop = asyncio.Event()
    replying = asyncio.create_task(replies(senders, active, rate, stop))
    await asyncio.sleep(2)  # replies flowing before the cut
    meter = Meter(target.processes).start()
    cut = time.perf_counter()
    for customer in customers:
        customer.drop()
    back_at: list[float] = []

    async def come_back(customer: Customer) -> int | None:
        attempts = await customer.come_back(target.widget_token)
        if attempts is not None:
            back_at.append(time.perf_counter() - cut)
        return attempts

    tries = await asyncio.gather(*(come_back(c) for c in customers))
    attempts = [n for n in tries if n is not None]
    all_back = time.perf_counter() - cut
    await asyncio.sleep(2)  # and after
    stop.set()
    acked = await replying
    await deliveries.wait_for(acked, wait)
    load = meter.stop(len(customers))
    meanwhile = [i for i in acked if cut <= deliveries.sent[i] <= cut + all_back]
    latencies = deliveries.latencies(meanwhile)
    return {
        "customers": len(customers),
        "all_resumed_s": round(all_back, 1),
        "resumed_s_p50": round(_percentile(back_at, 50), 1),
        "not_resumed": len(tries) - len(attempts),
        "failed_attempts": sum(attempts) - len(attempts),
        "replies": len(acked),
        "replies_during_storm": len(meanwhile),
        "storm_delivery_ms_p50": _ms(_percentile(latencies, 50)),
        "storm_delivery_ms_p99": _ms(_percentile(latencies, 99)),
        "lost": deliveries.missing(acked),
        "duplicates": deliveries.duplicates - duplicates_before,
        **deliveries.errors_since(errors_before),
        "gaps": sum(c.gaps() for c in customers),
        "load": load,
    }


async def measure(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    deliveries = Deliveries()
    connected = await connect_customers(target, args.connections, deliveries)
    customers: list[Customer] = connected.pop("customers")
    active = customers[: args.active]
    await target.take([c.conversation_id for c in active])
    follower = Peer(target.agent_url, "agent", deliveries)
    await follower.connect(target.agent_auth)
    for customer in active:
        await follower.request(
            {"type": "resume", "conversation_id": customer.conversation_id}, "resumed"
        )
    # A socket may send 10 messages a second, and an open loop catching up after a stall sends
    # several at once: the agents' replies go through enough consoles to stay well under it.
    senders = [
        Peer(target.agent_url, "agent", deliveries) for _ in range(math.ceil(args.storm_rate / 4))
    ]
    for sender in senders:
        await sender.connect(target.agent_auth)
    _say(f"{target.name}: the agent follows {len(active)} conversations")
    steps = []
    for n, rate in enumerate(args.rates):
        meter = Meter(target.processes).start()
        step = await traffic(active, follower, deliveries, rate, args.seconds, f"t{n}", args.wait)
        step["load"] = meter.stop(step["messages"])
        if deliveries.refusals:
            _say(f"{target.name}: not acknowledged: {deliveries.refusals.most_common(3)}")
        _say(f"{target.name}: {json.dumps(step)}")
        steps.append(step)
    stormed = await storm(
        target, customers, active, senders, deliveries, args.storm_rate, args.wait
    )
    _say(f"{target.name}: {json.dumps(stormed)}")
    for peer in [*customers, follower, *senders]:
        await peer.close()
    return {**connected, "traffic": steps, "storm": stormed}


# -- the servers ------------------------------------------------------------------------------


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # slow under a profiler on a busy machine
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited; see {log}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        time.sleep(0.3)


@contextmanager
def _process(
    command: list[str], url: str, log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_up(url, process, log)
        yield process
    finally:
        # SIGINT, not SIGTERM: uvicorn re-raises the signal once shut down, and only SIGINT
        # (KeyboardInterrupt) lets cProfile write its file on the way out.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def _knowdesk(data: Path, log: Path, profile: Path | None = None) -> Iterator[tuple[str, int]]:
    """A knowdesk server (under cProfile, writing to `profile` when it stops, if given)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    launch = ["-c", PROFILED_SERVER, str(profile)] if profile else ["-m", "knowdesk"]
    command = [sys.executable, *launch, "serve", "--port", str(port)]
    env = {**os.environ, "KNOWDESK_DATA": str(data), "KNOWDESK_ALLOW_SIGNUP": "true"}
    with _process(command, url + "/healthz", log, env) as process:
        yield url, process.pid


def _session_token(http: httpx.Client, node: str, args: argparse.Namespace) -> str:
    """The agent's session: the given owner's sign-in, or a new workspace's (sign-up)."""
    if args.email:
        signed_in = http.post(
            node + "/api/v1/auth/login", json={"email": args.email, "password": args.password}
        )
        return str(signed_in.raise_for_status().json()["token"])
    signup = http.post(
        node + "/api/v1/auth/signup",
        json={
            "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
            "password": "benchmark-password",
            "name": "Agent",
            "workspace_name": "Chat load",
        },
    )
    if signup.status_code == 403:
        raise SystemExit(
            f"{node} does not allow sign-up: give --email and --password of a workspace owner"
        )
    return str(signup.raise_for_status().json()["token"])


def knowdesk_target(
    node_a: str, node_b: str, processes: Processes, args: argparse.Namespace
) -> Target:
    """A channel whose bot is off (made in a new workspace, or the owner's); the owner is the
    agent."""
    with httpx.Client(timeout=60) as http:
        token = _session_token(http, node_a, args)
        headers = {"Authorization": f"Bearer {token}"}
        if args.workspace:
            headers["X-Workspace"] = args.workspace
        channel = http.post(
            node_a + "/api/v1/chat/channels",
            json={"name": "load", "bot_enabled": False, "messages_per_minute": 600},
            headers=headers,
        )
        widget_token = channel.raise_for_status().json()["widget_token"]

    async def take(conversation_ids: Sequence[str]) -> None:
        gate = asyncio.Semaphore(8)
        async with httpx.AsyncClient(base_url=node_b, headers=headers, timeout=60) as http:

            async def one(conversation_id: str) -> None:
                async with gate:
                    taken = await http.post(
                        f"/api/v1/chat/conversations/{conversation_id}/assign",
                        json={"user_id": None},
                    )
                    taken.raise_for_status()

            await asyncio.gather(*(one(c) for c in conversation_ids))

    return Target(
        name="knowdesk",
        customer_url=node_a.replace("http", "ws") + "/api/v1/chat/socket",
        agent_url=node_b.replace("http", "ws") + "/api/v1/chat/socket",
        widget_token=widget_token,
        agent_auth={"type": "auth", "token": token, "workspace": args.workspace},
        processes=processes,
        customer_node="node_a",
        take=take,
    )


async def relay(port: int, *, faulty: bool = False) -> None:
    """The baseline server: the protocol's frames for this benchmark (auth, open, resume, send)
    over a bare `websockets` server; conversations in memory, every message relayed to the
    sockets following its conversation, one writer per socket as in knowdesk.

    `faulty` (for `--check-detector`): counting messages over all conversations, the 3rd is
    stored but never relayed live (lost), the 5th is relayed twice (the same seq twice) and the
    7th is stored twice (the same message under two seqs)."""
    frames: dict[str, list[str]] = defaultdict(list)  # conversation -> message frames, by seq
    numbered = itertools.count(1)
    live_copies = {3: 0, 5: 2} if faulty else {}
    stored_copies = {7: 2} if faulty else {}
    followers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
    conversation_of: dict[str, str] = {}  # contact -> conversation
    stored: dict[tuple[str, str], int] = {}  # (conversation, client_msg_id) -> seq

    async def write(ws: ServerConnection, outbox: asyncio.Queue[str]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(await outbox.get())

    def store(conversation_id: str, kind: str, frame: dict[str, Any]) -> str:
        seq = len(frames[conversation_id]) + 1
        message = {
            "conversation_id": conversation_id,
            "seq": seq,
            "client_msg_id": frame["client_msg_id"],
            "sender_kind": kind,
            "text": frame["text"],
        }
        encoded = json.dumps(
            {"type": "message", "conversation_id": conversation_id, "seq": seq, "message": message}
        )
        frames[conversation_id].append(encoded)
        return encoded

    async def handle(ws: ServerConnection) -> None:
        outbox: asyncio.Queue[str] = asyncio.Queue()
        writer = asyncio.create_task(write(ws, outbox))
        kind, contact = "contact", ""
        following: set[str] = set()

        def reply(frame: dict[str, Any]) -> None:
            outbox.put_nowait(json.dumps(frame))

        def follow(conversation_id: str, after_seq: int, ref: str) -> None:
            for frame in frames[conversation_id][after_seq:]:
                outbox.put_nowait(frame)
            followers[conversation_id].add(outbox)
            following.add(conversation_id)
            last_seq = len(frames[conversation_id])
            reply(
                {
                    "type": "resumed",
                    "id": ref,
                    "conversation_id": conversation_id,
                    "last_seq": last_seq,
                }
            )

        try:
            async for raw in ws:
                frame = json.loads(raw)
                ref = frame.get("id")
                if frame["type"] == "auth":
                    kind = "agent" if "token" in frame else "contact"
                    contact = frame.get("contact_token") or uuid.uuid4().hex
                    reply({"type": "welcome", "id": ref, "role": kind, "contact_token": contact})
                elif frame["type"] == "open":
                    conversation_id = conversation_of.setdefault(contact, uuid.uuid4().hex)
                    last_seq = len(frames[conversation_id])
                    conversation = {"id": conversation_id, "last_seq": last_seq}
                    reply({"type": "opened", "id": ref, "conversation": conversation})
                    follow(conversation_id, frame.get("after_seq", 0), ref)
                elif frame["type"] == "resume":
                    follow(frame["conversation_id"], frame.get("after_seq", 0), ref)
                elif frame["type"] == "send":
                    conversation_id = frame["conversation_id"]
                    key = (conversation_id, frame["client_msg_id"])
                    duplicate = key in stored
                    if not duplicate:
                        number = next(numbered)
                        stored[key] = len(frames[conversation_id]) + 1
                        for _ in range(stored_copies.get(number, 1)):
                            encoded = store(conversation_id, kind, frame)
                            for queue in followers[conversation_id]:
                                for _ in range(live_copies.get(number, 1)):
                                    queue.put_nowait(encoded)
                    reply(
                        {
                            "type": "ack",
                            "id": ref,
                            "conversation_id": conversation_id,
                            "seq": stored[key],
                            "duplicate": duplicate,
                        }
                    )
        except ConnectionClosed:
            pass
        finally:
            for conversation_id in following:
                followers[conversation_id].discard(outbox)
            writer.cancel()

    async with serve(
        handle, "127.0.0.1", port, max_size=2**20, ping_interval=None, backlog=2048
    ) as server:
        await server.serve_forever()


@contextmanager
def _relay(log: Path, *, faulty: bool = False) -> Iterator[tuple[str, int]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, __file__, "--relay-port", str(port)]
    if faulty:
        command.append("--relay-faulty")
    with _process(command, url, log, dict(os.environ)) as process:
        yield url, process.pid


def relay_target(url: str, pid: int) -> Target:
    async def take(conversation_ids: Sequence[str]) -> None:
        return None  # anyone may write anywhere

    socket = url.replace("http", "ws")
    return Target(
        name="baseline",
        customer_url=socket,
        agent_url=socket,
        widget_token="relay",
        agent_auth={"type": "auth", "token": "relay"},
        processes=Processes({"relay": pid}),
        customer_node="relay",
        take=take,
    )


# -- the report -------------------------------------------------------------------------------


def _row(label: str, ours: Any, base: Any, ratio: str = "") -> str:
    if isinstance(ours, int | float) and isinstance(base, int | float) and base:
        ratio = f"{ours / base:.2f}"
    ours, base = ("n/a" if v is None else v for v in (ours, base))
    return f"{label:<46}{ours!s:>14}{base!s:>14}{ratio:>10}"


def _load_line(load: dict[str, Any]) -> str:
    cpu = ", ".join(f"{k} {v}" for k, v in load["server_cpu_ms_per_message"].items())
    return (
        f"    CPU ms per unit: {cpu}; cores busy: servers {load['server_cores']}, "
        f"client {load['client_cores']}, others {load['other_cores']}"
    )


def report(ours: dict[str, Any], base: dict[str, Any], args: argparse.Namespace) -> None:
    print(_row("", "knowdesk", "baseline", "ratio"))
    print(f"connect {args.connections} customers ({SIGN_IN_CONCURRENCY} at a time)")
    for key in ("held", "sign_ins_per_second", "kb_per_connection"):
        print(_row(f"  {key}", ours[key], base[key]))
    print(_load_line(ours["load"]))
    print(_load_line(base["load"]))
    for mine, theirs in zip(ours["traffic"], base["traffic"], strict=True):
        print(
            f"traffic at {mine['rate']:g} messages/s for {args.seconds:g} s, {args.active} active"
        )
        for key in mine:
            if key not in ("rate", "load"):
                print(_row(f"  {key}", mine[key], theirs[key]))
        print(_load_line(mine["load"]))
        print(_load_line(theirs["load"]))
    print(
        f"reconnect storm: all {args.connections} at once, agents replying at {args.storm_rate:g}/s"
    )
    for key in ours["storm"]:
        if key != "load":
            print(_row(f"  {key}", ours["storm"][key], base["storm"][key]))
    print(_load_line(ours["storm"]["load"]) + " (unit: one reconnect)")
    print(_load_line(base["storm"]["load"]) + " (unit: one reconnect)")


def check_detector(args: argparse.Namespace, logs: Path) -> None:
    """Run the bench, small, against a relay that loses one message and repeats two: it must
    report them, or the zeros it prints elsewhere mean nothing."""
    args.connections, args.active, args.rates, args.seconds = 20, 10, [20.0], 1.0
    args.storm_rate, args.wait = 10.0, 3.0
    with _relay(logs / "chat-load-faulty-relay.log", faulty=True) as (url, pid):
        figures = asyncio.run(measure(relay_target(url, pid), args))
    lost, duplicates = figures["traffic"][0]["lost"], figures["traffic"][0]["duplicates"]
    gaps = figures["traffic"][0]["gaps"]
    print(
        f"faulty relay (1 message lost, 2 repeated): lost {lost}, duplicates {duplicates}, "
        f"gaps {gaps}"
    )
    # Each repeat shows twice: at the agent, and as the sender's own message coming back.
    if lost != 1 or duplicates != 4 or gaps < 1:
        raise SystemExit(
            "the bench did not see the faults: its loss and duplicate counts are wrong"
        )
    print("the bench detects loss and duplicates")


def _raise_open_files_limit() -> None:
    """Each connection is a file in this process and another in the server: 5,000 of them need
    more than the usual soft limit of 1,024 (the servers inherit the raised limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--connections", type=int, default=5000, help="customer sockets held (default 5000)"
    )
    parser.add_argument(
        "--active", type=int, default=500, help="of them, customers who send (default 500)"
    )
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[100.0, 250.0, 500.0],
        help="messages per second, one traffic step each (default 100,250,500)",
    )
    parser.add_argument(
        "--seconds", type=float, default=20, help="length of each traffic step (default 20)"
    )
    parser.add_argument(
        "--storm-rate",
        type=float,
        default=50,
        help="agents' replies per second during the storm (default 50)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=60,
        help="seconds to wait after a phase's last send before a message not arrived counts as "
        "lost (default 60)",
    )
    server = parser.add_argument_group(
        "server", "default: start two nodes on a temporary embedded PostgreSQL, stop them after"
    )
    server.add_argument(
        "--url", help="instead, load this running knowdesk (customers' node), e.g. http://host:8000"
    )
    server.add_argument(
        "--agent-url",
        help="with --url: the node the agent uses (default: the same node; a second node's URL "
        "makes every message cross nodes)",
    )
    server.add_argument(
        "--email",
        default=os.environ.get("KNOWDESK_EMAIL"),
        help="with --url: a workspace owner to sign in as (default: sign up a new workspace, "
        "which needs KNOWDESK_ALLOW_SIGNUP=true on the server)",
    )
    server.add_argument("--password", default=os.environ.get("KNOWDESK_PASSWORD"))
    server.add_argument("--workspace", help="with --email: which of the owner's workspaces")
    server.add_argument("--profile", type=Path, help="run node A under cProfile, saved here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--check-detector",
        action="store_true",
        help="only check, in a few seconds, that the bench reports loss and duplicates: run it "
        "small against a relay that loses and repeats messages on purpose",
    )
    parser.add_argument("--relay-port", type=int, help=argparse.SUPPRESS)  # the baseline server
    parser.add_argument("--relay-faulty", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay_port:
        asyncio.run(relay(args.relay_port, faulty=args.relay_faulty))
        return
    if args.email and not args.password:
        parser.error("--email needs --password")
    if not args.url and (args.agent_url or args.email):
        parser.error("--agent-url and --email go with --url")
    # Stopped from outside (timeout, kill): still stop the servers and their database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _raise_open_files_limit()
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    if args.check_detector:
        check_detector(args, logs)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    if args.url:
        node_a = args.url.rstrip("/")
        node_b = (args.agent_url or args.url).rstrip("/")
        processes = running_processes({"node_a": node_a, "node_b": node_b})
        print(
            f"knowdesk: running at {node_a} (customers), {node_b} (agent); measured processes: "
            f"{processes.describe()}",
            flush=True,
        )
        ours = asyncio.run(measure(knowdesk_target(node_a, node_b, processes, args), args))
    else:
        with ExitStack() as servers:
            # Entered first, so removed last: after both servers and their database have stopped.
            data = Path(
                servers.enter_context(
                    tempfile.TemporaryDirectory(
                        prefix="knowdesk-chat-load-", ignore_cleanup_errors=True
                    )
                )
            )
            node_a, pid_a = servers.enter_context(
                _knowdesk(data, logs / "chat-load-a.log", args.profile)
            )
            node_b, pid_b = servers.enter_context(_knowdesk(data, logs / "chat-load-b.log"))
            processes = Processes({"node_a": pid_a, "node_b": pid_b}, postgres_data=data)
            ours = asyncio.run(measure(knowdesk_target(node_a, node_b, processes, args), args))
    with _relay(logs / "chat-load-relay.log") as (url, pid):
        base = asyncio.run(measure(relay_target(url, pid), args))
    report(ours, base, args)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"knowdesk": ours, "baseline": base}, indent=2))


if __name__ == "__main__":
    main()
