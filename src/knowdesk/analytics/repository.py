"""Queries behind knowledge gaps, drafts, feedback and personalisation.

Every query is bound to the repository's workspace (`:ws`): the conversations, messages,
tickets and entries it reads are filtered on it, so nothing crosses tenants.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pgvector import Vector
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.analytics.models import DraftSource, FeedbackCandidate, QuestionVector
from knowdesk.db.repository import ScopedRepository


@dataclass(frozen=True)
class AskedQuestion:
    """A customer's question the bot failed, with why and how a person answered it."""

    message_id: uuid.UUID
    conversation_id: uuid.UUID
    text: str
    asked_at: datetime
    signals: list[str]
    agent_answer: str | None
    drafted_entry_ids: list[uuid.UUID]


# The customer's message each failure signal points at. A bot hand-off follows the question it
# could not answer; a rating or a clarification names it in `meta.reply_to`; a customer who asks
# for a person after a bot reply tells that the reply did not help.
_FAILED = """
with convs as (
    select c.id from conversations c
    where c.workspace_id = :ws
      and (cast(:channel as uuid) is null or c.channel_id = cast(:channel as uuid))
      and (cast(:team as uuid) is null or c.team_id = cast(:team as uuid))
),
events as (
    select m.* from chat_messages m join convs c on c.id = m.conversation_id
    where m.workspace_id = :ws and m.created_at >= :start and m.created_at < :end
      and m.sender_kind in ('bot', 'system')
),
signals as (
    select q.id as message_id, 'handoff' as signal
    from events h
    cross join lateral (
        select m.id from chat_messages m
        where m.conversation_id = h.conversation_id and m.seq < h.seq
          and m.sender_kind = 'contact' and btrim(m.text) <> ''
        order by m.seq desc limit 1
    ) q
    where h.sender_kind = 'system' and h.meta ->> 'event' = 'handoff'
      and h.meta ->> 'reason' in ('not_covered', 'bot_error')
    union all
    select q.id, 'asked_person'
    from events h
    cross join lateral (
        select m.id from chat_messages m
        where m.conversation_id = h.conversation_id and m.seq < h.seq
          and m.sender_kind = 'contact' and btrim(m.text) <> ''
          and exists (select 1 from chat_messages b
                      where b.conversation_id = m.conversation_id and b.sender_kind = 'bot'
                        and b.meta ->> 'reply_to' = cast(m.seq as text))
        order by m.seq desc limit 1
    ) q
    where h.sender_kind = 'system' and h.meta ->> 'event' = 'handoff'
      and h.meta ->> 'reason' = 'customer_asked'
    union all
    select q.id, 'unhelpful'
    from events b
    join chat_messages q on q.conversation_id = b.conversation_id
     and cast(q.seq as text) = b.meta ->> 'reply_to' and q.sender_kind = 'contact'
    where b.sender_kind = 'bot' and b.rating = 'not_helpful'
    union all
    select q.id, 'low_confidence'
    from events b
    join chat_messages q on q.conversation_id = b.conversation_id
     and cast(q.seq as text) = b.meta ->> 'reply_to' and q.sender_kind = 'contact'
    left join lateral (
        select n.text from chat_messages n
        where n.conversation_id = b.conversation_id and n.seq > b.seq
          and n.sender_kind = 'contact'
        order by n.seq limit 1
    ) chosen on true
    where b.sender_kind = 'bot'
      and (b.meta ->> 'decision' = 'clarify'
           or cast(b.meta ->> 'confidence' as float8) < cast(:min_confidence as float8))
      -- a clarification the customer settled by picking a suggestion was not a failure
      and not coalesce(btrim(chosen.text) in (
          select btrim(s ->> 'question') from jsonb_array_elements(b.meta -> 'suggestions') s
      ), false)
),
failed as (
    select message_id, array_agg(distinct signal order by signal) as signals
    from signals group by message_id
)
select q.id as message_id, q.conversation_id, q.text, q.created_at as asked_at, f.signals,
       answer.text as agent_answer,
       coalesce(array(
           select d.entry_id from analytics_draft_sources d
           where d.workspace_id = :ws and d.source_key = 'message:' || cast(q.id as text)
       ), '{}') as drafted_entry_ids
from failed f
join chat_messages q on q.id = f.message_id and q.workspace_id = :ws
left join lateral (
    -- the first turn of a person after the question: their messages until the customer speaks
    select string_agg(a.text, E'\\n' order by a.seq) as text
    from chat_messages a
    where a.conversation_id = q.conversation_id and a.sender_kind = 'agent' and a.seq > q.seq
      and btrim(a.text) <> ''
      and a.seq < coalesce((
          select min(n.seq) from chat_messages n
          where n.conversation_id = q.conversation_id and n.sender_kind = 'contact'
            and n.seq > (select min(f2.seq) from chat_messages f2
                         where f2.conversation_id = q.conversation_id
                           and f2.sender_kind = 'agent' and f2.seq > q.seq)
      ), 2147483647)
) answer on true
order by q.created_at desc, q.id
limit :limit
"""

# The same questions' text and agent answers, by message id (for drafting).
_QUESTIONS_BY_ID = """
select q.id as message_id, q.conversation_id, q.text, q.created_at as asked_at,
       cast(array[] as text[]) as signals, answer.text as agent_answer,
       coalesce(array(
           select d.entry_id from analytics_draft_sources d
           where d.workspace_id = :ws and d.source_key = 'message:' || cast(q.id as text)
       ), '{}') as drafted_entry_ids
from chat_messages q
left join lateral (
    select string_agg(a.text, E'\\n' order by a.seq) as text
    from chat_messages a
    where a.conversation_id = q.conversation_id and a.sender_kind = 'agent' and a.seq > q.seq
      and btrim(a.text) <> ''
      and a.seq < coalesce((
          select min(n.seq) from chat_messages n
          where n.conversation_id = q.conversation_id and n.sender_kind = 'contact'
            and n.seq > (select min(f2.seq) from chat_messages f2
                         where f2.conversation_id = q.conversation_id
                           and f2.sender_kind = 'agent' and f2.seq > q.seq)
      ), 2147483647)
) answer on true
where q.workspace_id = :ws and q.id = any(:ids) and q.sender_kind = 'contact'
  and btrim(q.text) <> ''
order by q.created_at, q.id
"""

# Confirmations that an entry answered a question: the customer rated the entry's direct
# answer helpful, or picked the entry among the bot's suggestions (and got its answer).
_CONFIRMATIONS = """
insert into analytics_feedback
    (id, workspace_id, entry_id, message_id, question, source, status, created_at)
select gen_random_uuid(), :ws, found.entry_id, found.message_id, found.question, found.source,
       'pending', now()
from (
    select distinct on (q.id, cast(b.meta -> 'sources' -> 0 ->> 'entry_id' as uuid))
           cast(b.meta -> 'sources' -> 0 ->> 'entry_id' as uuid) as entry_id,
           q.id as message_id, btrim(q.text) as question, 'helpful' as source
    from chat_messages b
    join chat_messages q on q.conversation_id = b.conversation_id
     and cast(q.seq as text) = b.meta ->> 'reply_to' and q.sender_kind = 'contact'
    where b.workspace_id = :ws and b.sender_kind = 'bot' and b.rating = 'helpful'
      and b.meta ->> 'decision' = 'direct'
      and b.meta ->> 'resolved_question' = regexp_replace(btrim(q.text), '\\s+', ' ', 'g')
    union all
    select distinct on (q.id, cast(s ->> 'entry_id' as uuid))
           cast(s ->> 'entry_id' as uuid), q.id, btrim(q.text), 'choice'
    from chat_messages b
    join chat_messages q on q.conversation_id = b.conversation_id
     and cast(q.seq as text) = b.meta ->> 'reply_to' and q.sender_kind = 'contact'
    cross join lateral (
        select n.text from chat_messages n
        where n.conversation_id = b.conversation_id and n.seq > b.seq
          and n.sender_kind = 'contact'
        order by n.seq limit 1
    ) chosen
    cross join lateral jsonb_array_elements(b.meta -> 'suggestions') s
    where b.workspace_id = :ws and b.sender_kind = 'bot' and b.meta ->> 'decision' = 'clarify'
      and b.meta ->> 'resolved_question' = regexp_replace(btrim(q.text), '\\s+', ' ', 'g')
      and btrim(chosen.text) = btrim(s ->> 'question')
) found
join kb_entries e on e.id = found.entry_id and e.workspace_id = :ws and e.kind = 'faq'
where length(found.question) between 2 and 1000
on conflict (message_id, entry_id) do nothing
"""

_RECENT_QUESTIONS = """
select m.conversation_id, m.text, m.created_at as asked_at
from chat_messages m join conversations c on c.id = m.conversation_id
where m.workspace_id = :ws and c.workspace_id = :ws and c.contact_id = :contact
  and m.sender_kind = 'contact' and char_length(btrim(m.text)) >= :min_chars
order by m.created_at desc limit :limit
"""

_OPEN_TICKETS = """
select t.id, t.number, t.subject, cast(t.status as text) as status, t.updated_at
from tickets t
where t.workspace_id = :ws and t.requester_id = :contact
  and t.status in ('new', 'open', 'pending', 'on_hold')
order by t.updated_at desc limit :limit
"""

# Entries the bot answered with most in the recent past: what customers need most often.
_POPULAR = """
select e.id as entry_id, e.collection_id, e.title, count(*) as uses
from chat_messages m
cross join lateral jsonb_array_elements(m.meta -> 'sources') s
join kb_entries e on e.id = cast(s ->> 'entry_id' as uuid) and e.workspace_id = :ws
where m.workspace_id = :ws and m.sender_kind = 'bot' and m.created_at >= :since
  and m.meta ->> 'decision' in ('direct', 'grounded')
  and e.published_version is not null and e.status <> 'archived'
  and (cast(:collections as uuid[]) is null or e.collection_id = any(:collections))
group by e.id, e.collection_id, e.title
order by uses desc, e.title limit :limit
"""

_LIVE_ENTRIES = """
select e.id as entry_id, e.collection_id, e.title
from kb_entries e
where e.workspace_id = :ws and e.published_version is not null and e.status <> 'archived'
  and (cast(:collections as uuid[]) is null or e.collection_id = any(:collections))
  and (cast(:only as uuid[]) is null or e.collection_id = any(:only))
order by e.kind, e.updated_at desc, e.id limit :limit
"""

# Collections of a product: named like it, or holding entries filed under it.
_PRODUCT_COLLECTIONS = """
select c.id from kb_collections c
where c.workspace_id = :ws and lower(c.name) = any(:names)
union
select e.collection_id from kb_entries e
join kb_categories k on k.id = e.category_id and k.workspace_id = :ws
where e.workspace_id = :ws and k.kind = 'product' and lower(k.name) = any(:names)
  and e.published_version is not null and e.status <> 'archived'
"""


class QuestionVectorRepository(ScopedRepository[QuestionVector]):
    model = QuestionVector

    async def for_messages(
        self, message_ids: Sequence[uuid.UUID], model: str
    ) -> dict[uuid.UUID, list[float]]:
        stmt = self.select(QuestionVector.message_id, QuestionVector.embedding).where(
            QuestionVector.message_id.in_(list(message_ids)), QuestionVector.model == model
        )
        rows = (await self.session.execute(stmt)).all()
        return {r.message_id: list(r.embedding) for r in rows}

    async def store(self, vectors: dict[uuid.UUID, list[float]], model: str) -> None:
        if not vectors:
            return
        stmt = insert(QuestionVector).values(
            [
                {
                    "workspace_id": self.workspace_id,
                    "message_id": message_id,
                    "model": model,
                    "embedding": Vector(vector),
                }
                for message_id, vector in vectors.items()
            ]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["message_id"],
                set_={"model": stmt.excluded.model, "embedding": stmt.excluded.embedding},
            )
        )


class DraftSourceRepository(ScopedRepository[DraftSource]):
    model = DraftSource

    async def taken(self, keys: Sequence[str]) -> set[str]:
        stmt = self.select(DraftSource.source_key).where(DraftSource.source_key.in_(list(keys)))
        return set((await self.session.execute(stmt)).scalars().all())

    async def claim(self, rows: Sequence[dict[str, Any]]) -> int:
        """Record where a draft came from; sources someone else claimed meanwhile are skipped.
        Returns how many were recorded."""
        stmt = insert(DraftSource).values(
            [{"id": uuid.uuid4(), "workspace_id": self.workspace_id, **row} for row in rows]
        )
        result = await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=["workspace_id", "source_key"]).returning(
                DraftSource.id
            )
        )
        return len(result.all())


class FeedbackRepository(ScopedRepository[FeedbackCandidate]):
    model = FeedbackCandidate

    async def collect_confirmations(self) -> None:
        await self.session.execute(text(_CONFIRMATIONS), {"ws": self.workspace_id})

    async def listing(
        self, *, status: str | None, entry_id: uuid.UUID | None, limit: int
    ) -> Sequence[FeedbackCandidate]:
        stmt = self.select()
        if status:
            stmt = stmt.where(FeedbackCandidate.status == status)
        if entry_id:
            stmt = stmt.where(FeedbackCandidate.entry_id == entry_id)
        order = (FeedbackCandidate.created_at.desc(), FeedbackCandidate.id)
        return await self.list(stmt.order_by(*order).limit(limit))

    async def pending_for_update(
        self, entry_ids: Sequence[uuid.UUID] | None
    ) -> Sequence[FeedbackCandidate]:
        stmt = self.select().where(FeedbackCandidate.status == "pending")
        if entry_ids is not None:
            stmt = stmt.where(FeedbackCandidate.entry_id.in_(list(entry_ids)))
        order = (FeedbackCandidate.entry_id, FeedbackCandidate.created_at, FeedbackCandidate.id)
        return await self.list(stmt.order_by(*order).with_for_update(skip_locked=True))

    async def add_if_new(self, row: FeedbackCandidate) -> FeedbackCandidate:
        stmt = (
            insert(FeedbackCandidate)
            .values(
                id=uuid.uuid4(),
                workspace_id=self.workspace_id,
                entry_id=row.entry_id,
                message_id=row.message_id,
                question=row.question,
                source=row.source,
                status="pending",
                created_by=row.created_by,
            )
            .on_conflict_do_nothing(index_elements=["message_id", "entry_id"])
        )
        await self.session.execute(stmt)
        found = self.select().where(
            FeedbackCandidate.message_id == row.message_id,
            FeedbackCandidate.entry_id == row.entry_id,
        )
        return (await self.session.execute(found)).scalar_one()


class InsightRepository:
    """Read-only queries over chat, tickets and the knowledge base of one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def _all(self, query: str, **params: Any) -> list[Any]:
        result = await self.session.execute(text(query), {"ws": self.workspace_id, **params})
        return list(result.all())

    async def failed_questions(
        self,
        *,
        start: datetime,
        end: datetime,
        channel_id: uuid.UUID | None,
        team_id: uuid.UUID | None,
        min_confidence: float | None,
        limit: int,
    ) -> list[AskedQuestion]:
        rows = await self._all(
            _FAILED,
            start=start,
            end=end,
            channel=channel_id,
            team=team_id,
            min_confidence=min_confidence,
            limit=limit,
        )
        return [AskedQuestion(**r._asdict()) for r in rows]

    async def questions(self, message_ids: Sequence[uuid.UUID]) -> list[AskedQuestion]:
        rows = await self._all(_QUESTIONS_BY_ID, ids=list(message_ids))
        return [AskedQuestion(**r._asdict()) for r in rows]

    async def recent_questions(
        self, contact_id: uuid.UUID, *, limit: int, min_chars: int = 4
    ) -> list[Any]:
        return await self._all(
            _RECENT_QUESTIONS, contact=contact_id, limit=limit, min_chars=min_chars
        )

    async def open_tickets(self, contact_id: uuid.UUID, *, limit: int) -> list[Any]:
        return await self._all(_OPEN_TICKETS, contact=contact_id, limit=limit)

    async def popular_entries(
        self, *, since: datetime, collection_ids: Sequence[uuid.UUID] | None, limit: int
    ) -> list[Any]:
        return await self._all(
            _POPULAR,
            since=since,
            collections=list(collection_ids) if collection_ids else None,
            limit=limit,
        )

    async def live_entries(
        self,
        *,
        collection_ids: Sequence[uuid.UUID] | None,
        only: Sequence[uuid.UUID] | None = None,
        limit: int,
    ) -> list[Any]:
        return await self._all(
            _LIVE_ENTRIES,
            collections=list(collection_ids) if collection_ids else None,
            only=list(only) if only is not None else None,
            limit=limit,
        )

    async def product_collections(self, products: Sequence[str]) -> list[uuid.UUID]:
        names = sorted({p.strip().lower() for p in products if p.strip()})
        if not names:
            return []
        return [r.id for r in await self._all(_PRODUCT_COLLECTIONS, names=names)]
