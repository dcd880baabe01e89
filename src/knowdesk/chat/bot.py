"""The bot's turn in a conversation: every customer message in a bot conversation goes through
the answer path, and the reply (with its sources and suggested questions) or a hand-off follows.

Turns run as background tasks on the node that stored the message, after it was committed and
acknowledged, so the sender never waits for the answer path. Turns of one conversation run one
after another, in the order the messages came. No database lock is held while the answer path
thinks; the reply is dropped if an agent took the conversation in the meantime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from knowdesk.chat import events
from knowdesk.chat.models import ConversationState, SenderKind
from knowdesk.chat.service import BOT_ID, HISTORY_TURNS, Chat
from knowdesk.db.session import transaction
from knowdesk.retrieval.answer import MAX_QUESTION_CHARS
from knowdesk.retrieval.schemas import AnswerResult, Decision

log = logging.getLogger(__name__)

SOURCE_TEXT_CHARS = 300  # enough for the customer to see where an answer comes from
MAX_SOURCES = 3

# answer_question(session, workspace_id, question, *, history, collection_ids)
AnswerPath = Callable[..., Awaitable[AnswerResult]]


def reply_meta(result: AnswerResult, reply_to: int) -> dict[str, Any]:
    """What a bot reply carries besides its text: why, from where, and what to ask next."""
    return {
        "decision": result.decision.value,
        "confidence": round(result.confidence, 4),
        "reply_to": reply_to,
        "resolved_question": result.resolved_question,
        "language": result.language,
        "sources": [
            {
                "entry_id": str(s.entry_id),
                "collection_id": str(s.collection_id),
                "kind": s.kind,
                "title": s.title,
                "text": s.text[:SOURCE_TEXT_CHARS],
                "heading_path": s.heading_path,
                "page": s.page,
                "score": round(s.score, 4),
            }
            for s in result.sources[:MAX_SOURCES]
        ],
        "suggestions": [
            {"entry_id": str(s.entry_id), "question": s.question} for s in result.suggestions
        ],
    }


class BotRunner:
    """Runs bot turns in the background, one at a time per conversation."""

    def __init__(self, answer: AnswerPath) -> None:
        self._answer = answer
        self._last: dict[uuid.UUID, asyncio.Task[None]] = {}

    def schedule(
        self, workspace_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID
    ) -> None:
        previous = self._last.get(conversation_id)
        task = asyncio.create_task(
            self._after(previous, workspace_id, conversation_id, message_id),
            name=f"bot-{conversation_id}",
        )
        self._last[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(conversation_id, done))

    def _forget(self, conversation_id: uuid.UUID, task: asyncio.Task[None]) -> None:
        if self._last.get(conversation_id) is task:
            del self._last[conversation_id]

    async def _after(
        self,
        previous: asyncio.Task[None] | None,
        workspace_id: uuid.UUID,
        conversation_id: uuid.UUID,
        message_id: uuid.UUID,
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await self.turn(workspace_id, conversation_id, message_id)
        except Exception:
            log.exception("bot turn failed in conversation %s", conversation_id)

    async def stop(self) -> None:
        tasks = list(self._last.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def turn(
        self, workspace_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID
    ) -> None:
        """Answer one customer message, or hand the conversation to people."""
        async with transaction() as session:
            chat = Chat(session, workspace_id)
            conversation = await chat.conversations.get(conversation_id)
            message = await chat.messages.get(message_id)
            if conversation is None or message is None:
                return
            if conversation.state != ConversationState.BOT:
                return
            channel = await chat.channels.get_or_raise(conversation.channel_id)
            history = await chat.messages.contact_texts_before(
                conversation_id, message.seq, HISTORY_TURNS
            )
        if len(message.text) > MAX_QUESTION_CHARS:
            # Longer than any question: a story for a person to read, not a search query.
            await self._reply(workspace_id, conversation_id, message.seq, None, "too_long")
            return
        await self._typing(conversation_id, True)
        try:
            result = await self._ask(
                workspace_id, message.text, history=history, collection_ids=channel.collection_ids
            )
            await self._reply(workspace_id, conversation_id, message.seq, result)
        finally:
            await self._typing(conversation_id, False)

    async def _reply(
        self,
        workspace_id: uuid.UUID,
        conversation_id: uuid.UUID,
        reply_to: int,
        result: AnswerResult | None,
        reason: str = "bot_error",
    ) -> None:
        """Post the bot's reply, or hand off when there is none (`reason` says why)."""
        async with transaction() as session:
            chat = Chat(session, workspace_id)
            conversation = await chat.conversations.get_for_update(conversation_id)
            if conversation is None or conversation.state != ConversationState.BOT:
                return  # an agent took over (or it was resolved) while the bot was thinking
            if result is None:
                await chat.hand_off(conversation, reason=reason)
            elif result.decision == Decision.HANDOFF or not result.answer:
                await chat.hand_off(conversation, reason="not_covered")
            else:
                await chat.append(
                    conversation,
                    SenderKind.BOT,
                    text=result.answer,
                    buttons=[
                        {"label": s.question, "value": s.question} for s in result.suggestions
                    ],
                    meta=reply_meta(result, reply_to),
                )

    async def _ask(
        self,
        workspace_id: uuid.UUID,
        question: str,
        *,
        history: list[str],
        collection_ids: list[uuid.UUID] | None,
    ) -> AnswerResult | None:
        """The answer path's result; None when it failed (people take over then)."""
        try:
            async with transaction() as session:
                return await self._answer(
                    session, workspace_id, question, history=history, collection_ids=collection_ids
                )
        except Exception:
            log.exception("the answer path failed")
            return None

    async def _typing(self, conversation_id: uuid.UUID, typing: bool) -> None:
        await events.publish_now(
            events.conversation_topic(conversation_id),
            {
                "type": "typing",
                "conversation_id": str(conversation_id),
                "sender": {"kind": SenderKind.BOT.value, "id": str(BOT_ID), "name": "bot"},
                "typing": typing,
            },
        )
