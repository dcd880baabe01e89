"""What the chat service announces, and to whom: topics, event shapes, and the node's hooks.

Services call these functions inside a transaction; the events go out once it commits (see
outbox.py). The running node binds its bus and bot at start-up; without them (a command-line
tool, say) events have no listeners and are dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.chat.bus import Bus, PayloadTooLargeError
from knowdesk.chat.models import Conversation, Message
from knowdesk.chat.outbox import after_commit
from knowdesk.chat.schemas import ConversationRead, MessageRead

log = logging.getLogger(__name__)

BotScheduler = Callable[[uuid.UUID, uuid.UUID, uuid.UUID], None]

_bus: Bus | None = None
_schedule_bot: BotScheduler | None = None


def bind(bus: Bus | None, schedule_bot: BotScheduler | None) -> None:
    global _bus, _schedule_bot
    _bus, _schedule_bot = bus, schedule_bot


def conversation_topic(conversation_id: uuid.UUID) -> str:
    """Everyone following one conversation: its customer and agents."""
    return f"conversation:{conversation_id}"


def agents_topic(workspace_id: uuid.UUID) -> str:
    """A workspace's agents: queue and assignment changes, presence."""
    return f"agents:{workspace_id}"


def message_event(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation_id": str(message.conversation_id),
        "seq": message.seq,
        "message": MessageRead.model_validate(message).model_dump(mode="json"),
    }


def conversation_event(conversation: Conversation) -> dict[str, Any]:
    return {
        "type": "conversation",
        "conversation": ConversationRead.model_validate(conversation).model_dump(mode="json"),
    }


async def _publish(topic: str, event: dict[str, Any]) -> None:
    if _bus is None:
        return
    try:
        await _bus.publish(topic, event)
    except PayloadTooLargeError:
        # Too big for one notification: say where it is; receivers read it from the database.
        if event.get("type") != "message":
            raise
        await _bus.publish(topic, {k: v for k, v in event.items() if k != "message"})


def publish(session: AsyncSession, topic: str, event: dict[str, Any]) -> None:
    """Announce `event` on `topic` once the session's transaction commits."""

    async def action() -> None:
        await _publish(topic, event)

    after_commit(session, action)


async def publish_now(topic: str, event: dict[str, Any]) -> None:
    """Announce something that is not stored (typing): no transaction to wait for."""
    await _publish(topic, event)


def start_bot(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
) -> None:
    """Let the bot answer `message_id` once it is committed (off the sender's request)."""

    async def action() -> None:
        if _schedule_bot is not None:
            _schedule_bot(workspace_id, conversation_id, message_id)

    after_commit(session, action)
