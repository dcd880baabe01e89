"""Chat's part of a running node: the bus, the hub of local sockets, the bot, flood control,
and two timers (the agents' presence heartbeat, and the sweep that assigns waiting chats when
agents free up or business hours begin).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

from knowdesk.chat import events, outbox
from knowdesk.chat.bot import BotRunner
from knowdesk.chat.bus import Bus, LocalBus, PostgresBus
from knowdesk.chat.hub import Hub
from knowdesk.chat.ratelimit import RateLimits
from knowdesk.chat.repository import touch_agents, workspaces_with_queue
from knowdesk.chat.service import Chat, now
from knowdesk.config import Settings
from knowdesk.db.server import plain_database_url
from knowdesk.db.session import transaction
from knowdesk.retrieval.answer import answer_question

log = logging.getLogger(__name__)


class ChatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KNOWDESK_CHAT_", env_file=".env", extra="ignore")

    bus: Literal["postgres", "local"] = "postgres"  # local: a single node, no LISTEN/NOTIFY
    heartbeat_seconds: float = 20.0
    sweep_seconds: float = 10.0


@dataclass
class ChatRuntime:
    bus: Bus
    hub: Hub
    bot: BotRunner
    limits: RateLimits
    settings: ChatSettings
    timers: list[asyncio.Task[None]] = field(default_factory=list)


async def start_chat(settings: Settings) -> ChatRuntime:
    chat_settings = ChatSettings()
    bus: Bus = (
        PostgresBus(plain_database_url(settings)) if chat_settings.bus == "postgres" else LocalBus()
    )
    runtime = ChatRuntime(
        bus=bus,
        hub=Hub(),
        bot=BotRunner(answer_question),
        limits=RateLimits(),
        settings=chat_settings,
    )
    bus.listen(runtime.hub.on_event)
    await bus.start()
    events.bind(bus, runtime.bot.schedule)
    runtime.timers = [
        _every(chat_settings.heartbeat_seconds, lambda: _heartbeat(runtime), "presence"),
        _every(chat_settings.sweep_seconds, _sweep_queues, "queue-sweep"),
    ]
    return runtime


async def stop_chat(runtime: ChatRuntime) -> None:
    for timer in runtime.timers:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
    await runtime.bot.stop()
    await outbox.drain()
    events.bind(None, None)
    await runtime.bus.stop()


def _every(seconds: float, job: Callable[[], Awaitable[None]], name: str) -> asyncio.Task[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # a failed round is retried at the next tick
                log.exception("chat timer %s failed", name)

    return asyncio.create_task(loop(), name=f"chat-{name}")


async def _heartbeat(runtime: ChatRuntime) -> None:
    """Keep this node's connected agents present (their presence expires otherwise)."""
    agents = runtime.hub.connected_agents()
    if agents:
        async with transaction() as session:
            await touch_agents(session, agents, now())


async def _sweep_queues() -> None:
    """Assign waiting conversations: presence expired, hours began, capacity freed elsewhere."""
    async with transaction() as session:
        workspace_ids = await workspaces_with_queue(session)
    for workspace_id in workspace_ids:
        async with transaction() as session:
            await Chat(session, workspace_id).assign_waiting()
