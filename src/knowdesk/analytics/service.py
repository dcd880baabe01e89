"""Knowledge gaps and drafts: what the bot failed, grouped into topics, and FAQ drafts made from
topics, resolved conversations and solved tickets.

Drafts go into the knowledge base through `KB` like anything a person writes: a draft entry,
submitted for review at once, so the normal review workflow decides what customers see. Every
draft records where it came from (`DraftSource`), so a question, a conversation or a ticket
becomes a draft once.

Every function works inside the caller's transaction and never commits.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.analytics import gaps
from knowdesk.analytics.metrics import check_filters
from knowdesk.analytics.repository import (
    AskedQuestion,
    DraftSourceRepository,
    InsightRepository,
    QuestionVectorRepository,
)
from knowdesk.analytics.schemas import (
    DraftRead,
    GapQuestion,
    GapReport,
    GapTopic,
    MetricsFilters,
)
from knowdesk.chat.handoff import asks_for_human
from knowdesk.chat.models import ConversationState, SenderKind
from knowdesk.chat.repository import ConversationRepository, MessageRepository
from knowdesk.config import get_settings
from knowdesk.errors import ConflictError, NotFoundError
from knowdesk.kb.models import Entry
from knowdesk.kb.service import KB
from knowdesk.retrieval.embedding import FloatMatrix, default_embedder
from knowdesk.text.keywords import CorpusStats
from knowdesk.text.tokenize import cjk_bigrams, detect_language, normalize, words
from knowdesk.tickets.models import AuthorKind, TicketStatus
from knowdesk.tickets.repository import CommentRepository, TicketRepository

# A report embeds at most this many new questions (about 10 s on one core); the rest wait for
# the next report, so a first look at a large workspace still answers.
MAX_NEW_EMBEDDINGS = 300
TOPIC_SAMPLE = 20
MAX_SIMILAR = 30
MAX_ANSWER_CHARS = 20000
MISSING_ANSWER = {
    "zh": "（待补充：还没有人工回答过这些问题，请在审核前写好答案。）",
    "en": "(To be written: no agent has answered these questions yet; write the answer before "
    "approving.)",
}


def _same(a: str, b: str) -> bool:
    return " ".join(normalize(a).split()) == " ".join(normalize(b).split())


def _distinct(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        key = " ".join(normalize(t).split())
        if key and key not in seen:
            seen.add(key)
            out.append(t.strip())
    return out


def typical_answer(answers: Sequence[str]) -> str | None:
    """The agent answer that shares most words with the others: how agents usually answer.

    An answer given several times counts each time; with nothing to compare, the longest."""
    answers = [a.strip() for a in answers if a.strip()]
    if not answers:
        return None
    try:
        vectorizer = TfidfVectorizer(analyzer=lambda t: words(t) + cjk_bigrams(t))
        matrix = vectorizer.fit_transform(answers)
    except ValueError:  # no words at all (emoji, punctuation)
        return max(answers, key=len)
    closeness = np.asarray((matrix @ matrix.T).sum(axis=1)).ravel()
    best = float(closeness.max())
    return max((a for a, c in zip(answers, closeness, strict=True) if c >= best - 1e-9), key=len)


@dataclass
class Insights:
    """Knowledge gaps and drafts of one caller's workspace."""

    session: AsyncSession
    principal: Principal

    def __post_init__(self) -> None:
        ws = self.principal.workspace_id
        self.insights = InsightRepository(self.session, ws)
        self.vectors = QuestionVectorRepository(self.session, ws)
        self.sources = DraftSourceRepository(self.session, ws)

    # -- embeddings ---------------------------------------------------------------------------

    async def _vectors(
        self, questions: Sequence[AskedQuestion], *, budget: int | None
    ) -> dict[uuid.UUID, list[float]]:
        """Stored vectors of `questions`, embedding (and storing) up to `budget` missing ones."""
        embedder = default_embedder(get_settings().embedding_threads)
        ids = [q.message_id for q in questions]
        known = await self.vectors.for_messages(ids, embedder.name)
        missing = [q for q in questions if q.message_id not in known][:budget]
        if missing:
            texts = [q.text for q in missing]
            matrix = await asyncio.to_thread(embedder.embed_queries, texts)
            new = {q.message_id: row.tolist() for q, row in zip(missing, matrix, strict=True)}
            await self.vectors.store(new, embedder.name)
            known.update(new)
        return known

    # -- gaps ---------------------------------------------------------------------------------

    async def gap_report(
        self,
        filters: MetricsFilters,
        *,
        min_confidence: float | None = None,
        min_count: int = 1,
        limit: int = 50,
        rising_first: bool = False,
    ) -> GapReport:
        period = check_filters(filters)
        start, end = period.bounds()
        labels, edges = period.edges()
        asked = await self.insights.failed_questions(
            start=start,
            end=end,
            channel_id=filters.channel_id,
            team_id=filters.team_id,
            min_confidence=min_confidence,
            limit=gaps.MAX_CLUSTERED + 1,
        )
        truncated = len(asked) > gaps.MAX_CLUSTERED
        asked = asked[: gaps.MAX_CLUSTERED]
        known = await self._vectors(asked, budget=MAX_NEW_EMBEDDINGS)
        ready = [q for q in asked if q.message_id in known]
        topics = self._topics(ready, known, edges) if ready else []
        topics = [t for t in topics if t.count >= min_count]
        if rising_first:
            topics.sort(key=lambda t: (not t.rising, -t.growth, -t.count))
        return GapReport(
            buckets=labels,
            questions=len(ready),
            truncated=truncated,
            pending=len(asked) - len(ready),
            topics=topics[:limit],
        )

    def _topics(
        self,
        asked: Sequence[AskedQuestion],
        known: dict[uuid.UUID, list[float]],
        edges: Sequence[Any],
    ) -> list[GapTopic]:
        matrix: FloatMatrix = np.asarray([known[q.message_id] for q in asked], dtype=np.float32)
        languages = [detect_language(q.text) for q in asked]
        corpus = CorpusStats.from_texts(q.text for q in asked)
        topics = []
        for members in gaps.cluster_by_language(matrix, languages):
            ordered = gaps.by_centrality(matrix, members)
            questions = [asked[i] for i in ordered]
            series = gaps.bucket_counts([q.asked_at for q in questions], edges)
            keywords = gaps.topic_keywords([q.text for q in questions], corpus)
            drafted = {e for q in questions for e in q.drafted_entry_ids}
            topics.append(
                GapTopic(
                    key=questions[0].message_id,
                    label=gaps.topic_label(keywords, questions[0].text),
                    keywords=keywords,
                    representative=questions[0].text,
                    language=languages[ordered[0]],
                    count=len(questions),
                    conversations=len({q.conversation_id for q in questions}),
                    first_asked=min(q.asked_at for q in questions),
                    last_asked=max(q.asked_at for q in questions),
                    series=series,
                    growth=gaps.growth(series),
                    rising=gaps.is_rising(series),
                    answered_by_agents=sum(1 for q in questions if q.agent_answer),
                    question_ids=[q.message_id for q in questions],
                    questions=[_gap_question(q) for q in questions[:TOPIC_SAMPLE]],
                    drafted_entry_ids=sorted(drafted),
                )
            )
        return topics

    # -- drafts -------------------------------------------------------------------------------

    async def _draft(
        self,
        *,
        collection_id: uuid.UUID,
        question: str,
        similar: list[str],
        answer: str,
        tag: str,
        sources: list[dict[str, Any]],
    ) -> DraftRead:
        kb = KB(self.session, self.principal)
        entry = await kb.create_faq(
            collection_id=collection_id,
            question=question[:1000],
            similar=[s[:1000] for s in similar],
            answer=answer[:MAX_ANSWER_CHARS],
            tags=[tag],
        )
        claimed = await self.sources.claim(
            [{**s, "entry_id": entry.id, "created_by": self.principal.user_id} for s in sources]
        )
        if claimed < len(sources):
            raise ConflictError("Someone drafted from the same source a moment ago.")
        await kb.submit_for_review(entry.id)
        return await _read(kb, entry, len(sources))

    async def draft_from_gap(
        self,
        message_ids: Sequence[uuid.UUID],
        *,
        collection_id: uuid.UUID,
        question: str | None,
        answer: str | None,
    ) -> DraftRead:
        """A draft FAQ entry from a topic's questions: the most typical question, the others as
        similar questions, and the answer agents gave most typically (or the caller's)."""
        found = await self.insights.questions(list(dict.fromkeys(message_ids)))
        missing = set(message_ids) - {q.message_id for q in found}
        if missing:
            raise NotFoundError("Customer question", sorted(missing)[0])
        fresh = [q for q in found if not q.drafted_entry_ids]
        if not fresh:
            raise ConflictError("These questions are already in a draft.")
        known = await self._vectors(fresh, budget=None)
        matrix: FloatMatrix = np.asarray([known[q.message_id] for q in fresh], dtype=np.float32)
        ordered = [fresh[i] for i in gaps.by_centrality(matrix, range(len(fresh)))]
        main = question or ordered[0].text
        similar = [t for t in _distinct([q.text for q in ordered]) if not _same(t, main)]
        drafted = answer or typical_answer([q.agent_answer for q in ordered if q.agent_answer])
        return await self._draft(
            collection_id=collection_id,
            question=main,
            similar=similar[:MAX_SIMILAR],
            answer=drafted or MISSING_ANSWER[detect_language(main)],
            tag="from-gaps",
            sources=[
                {
                    "kind": "gap",
                    "source_key": f"message:{q.message_id}",
                    "message_id": q.message_id,
                    "conversation_id": q.conversation_id,
                }
                for q in fresh
            ],
        )

    async def draft_from_conversation(
        self, conversation_id: uuid.UUID, *, collection_id: uuid.UUID
    ) -> DraftRead:
        """A draft from a resolved conversation: the customer's question before a person
        stepped in, and what the people answered."""
        ws = self.principal.workspace_id
        conversation = await ConversationRepository(self.session, ws).get_or_raise(conversation_id)
        if conversation.state != ConversationState.RESOLVED:
            raise ConflictError("Only a resolved conversation can become a draft.")
        key = f"conversation:{conversation.id}"
        if await self.sources.taken([key]):
            raise ConflictError("This conversation is already in a draft.")
        messages = await MessageRepository(self.session, ws).after(
            conversation.id, 0, until_seq=None, limit=10_000
        )
        agent = [m for m in messages if m.sender_kind == SenderKind.AGENT and m.text.strip()]
        if not agent:
            raise ConflictError("No agent answered in this conversation.")
        asked = [
            m.text.strip()
            for m in messages
            if m.sender_kind == SenderKind.CONTACT
            and m.seq < agent[0].seq
            and m.text.strip()
            and not asks_for_human(m.text)
        ]
        if not asked:
            raise ConflictError("The customer asked nothing before the agent answered.")
        return await self._draft(
            collection_id=collection_id,
            question=max(asked, key=len),
            similar=[],
            answer="\n".join(m.text.strip() for m in agent),
            tag="from-conversation",
            sources=[
                {"kind": "conversation", "source_key": key, "conversation_id": conversation.id}
            ],
        )

    async def draft_from_ticket(
        self, ticket_id: uuid.UUID, *, collection_id: uuid.UUID
    ) -> DraftRead:
        """A draft from a solved ticket: its subject, and the agents' public replies."""
        ws = self.principal.workspace_id
        ticket = await TicketRepository(self.session, ws).get_or_raise(ticket_id)
        if ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            raise ConflictError("Only a solved ticket can become a draft.")
        key = f"ticket:{ticket.id}"
        if await self.sources.taken([key]):
            raise ConflictError("This ticket is already in a draft.")
        comments = await CommentRepository(self.session, ws).of_ticket(ticket.id, public_only=True)
        replies = [c.body.strip() for c in comments if c.author_kind == AuthorKind.AGENT]
        replies = [r for r in replies if r]
        if not replies:
            raise ConflictError("No agent replied to the customer on this ticket.")
        return await self._draft(
            collection_id=collection_id,
            question=ticket.subject,
            similar=[],
            answer="\n\n".join(replies),
            tag="from-ticket",
            sources=[{"kind": "ticket", "source_key": key, "ticket_id": ticket.id}],
        )


def _gap_question(q: AskedQuestion) -> GapQuestion:
    return GapQuestion(
        message_id=q.message_id,
        conversation_id=q.conversation_id,
        text=q.text,
        asked_at=q.asked_at,
        signals=q.signals,
        agent_answer=q.agent_answer,
    )


async def _read(kb: KB, entry: Entry, sources: int) -> DraftRead:
    content = await kb.current_content(entry)
    return DraftRead(
        entry_id=entry.id,
        status=entry.status.value,
        question=content["question"],
        similar=content["similar"],
        answer=content["answer"],
        sources=sources,
    )
