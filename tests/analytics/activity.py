"""Generated support activity for analytics tests.

Conversations are told step by step through the chat service (the same calls the widget, the
bot and the agents' console make), each step at a chosen moment: the service stamps messages
with the time of the call, so `Story.finish` moves every message and the conversation's own
timestamps to the moments the story gave them. Bot replies carry the `meta` the real bot
stores (`chat.bot.reply_meta`), so a test chooses the bot's decision instead of needing a
calibrated knowledge base to reach it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.chat.bot import reply_meta
from knowdesk.chat.models import AgentStatus, Contact, Conversation, Message, SenderKind
from knowdesk.chat.service import AgentActor, Chat, ContactActor
from knowdesk.db.session import dispose_engine, transaction
from knowdesk.retrieval.schemas import AnswerResult, Decision, Source, Suggestion
from tests.conftest import Tenant

Json = dict[str, Any]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def days_ago(days: float, hour: int = 10) -> datetime:
    """A moment `days` before today at `hour` o'clock UTC."""
    today = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


@dataclass
class Person:
    client: httpx.Client
    user_id: uuid.UUID
    name: str

    @property
    def actor(self) -> AgentActor:
        return AgentActor(user_id=self.user_id, name=self.name)


def make_person(tenant: Tenant, role: str = "agent") -> Person:
    client = tenant.member(role)
    me = ok(client.get("/api/v1/me"))["user"]
    return Person(client, uuid.UUID(me["id"]), me["name"])


def make_team(tenant: Tenant, name: str, members: list[Person]) -> Json:
    body = {"name": name, "routing": "round_robin", "member_ids": [str(p.user_id) for p in members]}
    return dict(ok(tenant.client.post("/api/v1/chat/teams", json=body), 201))


def make_channel(tenant: Tenant, name: str, **fields: Any) -> Json:
    body = {"name": name, "bot_enabled": True, **fields}
    return dict(ok(tenant.client.post("/api/v1/chat/channels", json=body), 201))


def answer(
    decision: Decision,
    *,
    question: str,
    entry_id: uuid.UUID | None = None,
    collection_id: uuid.UUID | None = None,
    confidence: float = 0.9,
    suggestions: Sequence[tuple[uuid.UUID, str]] = (),
) -> AnswerResult:
    """What the answer path would have returned (only what the bot stores matters here)."""
    sources = []
    if entry_id is not None:
        sources.append(
            Source(
                entry_id=entry_id,
                unit_id=uuid.uuid4(),
                collection_id=collection_id or uuid.uuid4(),
                kind="answer",
                title=question,
                text="…",
                score=confidence,
            )
        )
    return AnswerResult(
        decision=decision,
        answer=None if decision == Decision.HANDOFF else "…",
        sources=sources,
        suggestions=[Suggestion(entry_id=e, question=q) for e, q in suggestions],
        confidence=confidence,
        resolved_question=" ".join(question.split()),
        language="zh" if any("\u4e00" <= c <= "\u9fff" for c in question) else "en",
    )


_MOVE_MESSAGE = text(
    "update chat_messages set created_at = :t where conversation_id = :c and seq = :s"
)


@dataclass
class Story:
    """One conversation, told through the chat service at chosen moments."""

    session: AsyncSession
    chat: Chat
    conversation: Conversation
    customer: ContactActor
    start: datetime
    times: dict[int, datetime] = field(default_factory=dict)
    asked_seq: int = 0  # the customer's latest message: what the bot replies to

    async def _locked(self) -> Conversation:
        found = await self.chat.conversations.get_for_update(self.conversation.id)
        assert found is not None
        self.conversation = found
        return found

    def _stamp(self, before: int, seconds: float) -> None:
        for seq in range(before + 1, self.conversation.last_seq + 1):
            self.times[seq] = self.start + timedelta(seconds=seconds)

    async def ask(self, seconds: float, question: str) -> Message:
        before = self.conversation.last_seq
        message, _ = await self.chat.send(
            self.customer, self.conversation.id, client_msg_id=uuid.uuid4().hex, text=question
        )
        await self._locked()
        self._stamp(before, seconds)
        self.asked_seq = message.seq
        return message

    async def bot(self, seconds: float, result: AnswerResult) -> Message:
        conversation = await self._locked()
        before = conversation.last_seq
        message = await self.chat.append(
            conversation,
            SenderKind.BOT,
            text=result.answer or "",
            buttons=[{"label": s.question, "value": s.question} for s in result.suggestions],
            meta=reply_meta(result, self.asked_seq),
        )
        self._stamp(before, seconds)
        return message

    async def rate(self, message: Message, rating: str) -> None:
        await self.chat.rate(self.customer, self.conversation.id, message.seq, rating)

    async def hand_off(self, seconds: float, reason: str = "not_covered") -> None:
        conversation = await self._locked()
        before = conversation.last_seq
        await self.chat.hand_off(conversation, reason=reason)
        self._stamp(before, seconds)

    async def take(self, seconds: float, agent: Person) -> None:
        before = self.conversation.last_seq
        await self.chat.assign(self.conversation.id, user_id=agent.user_id, by=agent.actor)
        await self._locked()
        self._stamp(before, seconds)

    async def reply(self, seconds: float, agent: Person, words: str) -> Message:
        before = self.conversation.last_seq
        message, _ = await self.chat.send(
            agent.actor, self.conversation.id, client_msg_id=uuid.uuid4().hex, text=words
        )
        await self._locked()
        self._stamp(before, seconds)
        return message

    async def resolve(self, seconds: float, agent: Person) -> None:
        before = self.conversation.last_seq
        await self.chat.resolve(self.conversation.id, by=agent.actor)
        await self._locked()
        self._stamp(before, seconds)

    async def finish(self) -> None:
        """Put every message, and the conversation's milestones, at the story's moments."""
        await self.session.flush()
        cid = self.conversation.id
        for seq, moment in self.times.items():
            await self.session.execute(
                _MOVE_MESSAGE,
                {"t": moment, "c": cid, "s": seq},
            )
        await self.session.execute(
            text(
                """
                update conversations c set
                    created_at = :start,
                    last_message_at = (select max(created_at) from chat_messages
                                       where conversation_id = c.id),
                    queued_at = (select max(created_at) from chat_messages where conversation_id
                                 = c.id and meta ->> 'event' = 'handoff'),
                    assigned_at = (select max(created_at) from chat_messages where conversation_id
                                   = c.id and meta ->> 'event' = 'assigned'),
                    resolved_at = (select max(created_at) from chat_messages where conversation_id
                                   = c.id and meta ->> 'event' = 'resolved')
                where c.id = :c
                """
            ),
            {"c": cid, "start": self.start},
        )


class Activity:
    """Stories of one workspace, written in one transaction."""

    def __init__(self, session: AsyncSession, workspace_id: str) -> None:
        self.session = session
        self.chat = Chat(session, uuid.UUID(workspace_id))

    async def on_duty(self, agent: Person) -> None:
        """Put `agent` online with room for every story, so that hand-offs are routed to them
        at once, as in a staffed team (a hand-off nobody can take would become a ticket)."""
        await self.chat.set_presence(agent.actor, status=AgentStatus.ONLINE, capacity=100)

    async def contact(self, name: str = "", **attributes: Any) -> Contact:
        return await self.chat.upsert_contact(
            external_id=f"c-{uuid.uuid4().hex[:10]}", name=name, email="", attributes=attributes
        )

    async def story(self, channel: Json, contact: Contact, start: datetime) -> Story:
        customer = ContactActor(
            contact_id=contact.id, channel_id=uuid.UUID(channel["id"]), name=contact.name
        )
        conversation = await self.chat.open_conversation(customer)
        return Story(self.session, self.chat, conversation, customer, start)


@asynccontextmanager
async def activity(tenant: Tenant) -> AsyncIterator[Activity]:
    """Generate activity in the tenant's workspace; committed when the block ends."""
    try:
        async with transaction() as session:
            yield Activity(session, tenant.workspace_id)
    finally:
        await dispose_engine()


async def move_ticket(
    ticket_id: str,
    *,
    opened: datetime,
    responded_after: float | None = None,
    solved_after: float | None = None,
) -> None:
    """Move a ticket made through the API back to `opened`, its SLA due times with it, and its
    first response and solution to so many seconds after that."""

    def later(seconds: float | None) -> datetime | None:
        return None if seconds is None else opened + timedelta(seconds=seconds)

    try:
        async with transaction() as session:
            await session.execute(
                text(
                    """
                    update tickets set created_at = :opened,
                        first_response_due_at = first_response_due_at + (:opened - created_at),
                        resolution_due_at = resolution_due_at + (:opened - created_at),
                        first_responded_at = :responded, solved_at = :solved
                    where id = :id
                    """
                ),
                {
                    "id": uuid.UUID(ticket_id),
                    "opened": opened,
                    "responded": later(responded_after),
                    "solved": later(solved_after),
                },
            )
            await session.execute(
                text("update ticket_comments set created_at = :t where ticket_id = :id"),
                {"t": later(responded_after) or opened, "id": uuid.UUID(ticket_id)},
            )
    finally:
        await dispose_engine()
