"""Serving a customer with what is already known about them.

- Suggested articles when the chat window opens: entries that match the page they are on, their
  recent questions and open tickets, their product, and what customers ask most, combined by
  weighted reciprocal rank (each list ranks in its own way; ranks combine without a common scale).
- Answers that prefer the collection(s) of the contact's product: `answer_for_contact` runs the
  normal answer path and, only when it could not answer (it would clarify or hand off), asks
  again within the product's collections. Narrowing removes other products' look-alikes (the
  runner-up that made the question ambiguous); it cannot raise the best score, so a question
  the knowledge base does not cover is still handed off.
- Context for the agent: the contact's attributes, products, recent questions, open tickets and
  the articles suggested to them.

A workspace opts out with `workspaces.settings["personalisation"]["enabled"] = false`: then
suggestions use the page and popularity only, and answers ignore the contact.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.models import Workspace
from knowdesk.accounts.principal import Principal
from knowdesk.analytics.repository import InsightRepository
from knowdesk.analytics.schemas import (
    ContactContext,
    OpenTicket,
    PersonalisationSettings,
    RecentQuestion,
    SuggestedArticle,
)
from knowdesk.audit.service import record
from knowdesk.chat.models import Contact
from knowdesk.chat.repository import ContactRepository
from knowdesk.config import get_settings
from knowdesk.retrieval import workspace_calibration
from knowdesk.retrieval.answer import answer_question
from knowdesk.retrieval.embedding import default_embedder
from knowdesk.retrieval.fusion import ScoreScale, fuse
from knowdesk.retrieval.schemas import AnswerResult, Decision
from knowdesk.retrieval.search import find_units, keyword_query

SETTINGS_KEY = "personalisation"
RRF_K = 10  # reciprocal-rank constant: small, because the lists are short
WEIGHTS = {"page": 1.0, "history": 0.8, "product": 0.6, "popular": 0.3}
SEARCH_DEPTH = 10
HISTORY_QUESTIONS = 3
POPULAR_DAYS = 30
# An uncalibrated knowledge base has no measured scale: a guess of e5's usual cosine spread.
_FALLBACK_SCALE = ScoreScale(0.8, 0.05, 0.1, 0.1)

# URL words that say nothing about the subject of a page.
_URL_NOISE = frozenset(
    "www com cn net org html htm php aspx jsp index page pages default home en zh zh-cn "
    "hans hant us utm".split()
)
_URL_SPLIT = re.compile(r"[/\-_.+~,;=&|\s]+")
_SEARCH_PARAMS = frozenset({"q", "query", "search", "s", "keyword", "keywords", "kw", "wd"})


def page_words(url: str) -> str:
    """The words of a page address that may say what it is about: path segments and search
    terms, without hosts, file endings, numbers and tracking parameters."""
    parts = urlsplit(url.strip())
    pieces = [unquote(p) for p in _URL_SPLIT.split(parts.path)]
    pieces += [
        unquote(value) for name, value in parse_qsl(parts.query) if name.lower() in _SEARCH_PARAMS
    ]
    kept = [
        p for p in pieces if p and p.lower() not in _URL_NOISE and not p.isdigit() and len(p) > 1
    ]
    return " ".join(kept)


def contact_products(attributes: dict[str, Any], names: Sequence[str]) -> list[str]:
    """The product names a contact's attributes hold (a string, or a list of strings)."""
    found: list[str] = []
    for name in names:
        value = attributes.get(name)
        values = value if isinstance(value, list) else [value]
        found += [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return list(dict.fromkeys(found))


async def load_settings(session: AsyncSession, workspace_id: uuid.UUID) -> PersonalisationSettings:
    workspace = await session.get(Workspace, workspace_id)
    stored = (workspace.settings or {}).get(SETTINGS_KEY) if workspace else None
    return PersonalisationSettings.model_validate(stored or {})


async def save_settings(
    session: AsyncSession, principal: Principal, new: PersonalisationSettings
) -> PersonalisationSettings:
    workspace = await session.get(Workspace, principal.workspace_id)
    assert workspace is not None, "a principal's workspace exists"
    workspace.settings = {**(workspace.settings or {}), SETTINGS_KEY: new.model_dump()}
    record(
        session,
        principal,
        "personalisation.settings",
        target_type="workspace",
        target_id=workspace.id,
        enabled=new.enabled,
    )
    return new


@dataclass
class _Ranked:
    """One kind of evidence: entries best first, with what to show for each.

    Entries from `tied_from` on share one rank: they are in the list without anything that
    orders them (an entry nobody used lately is no more wanted for being newer).
    """

    reason: str
    entries: list[tuple[uuid.UUID, uuid.UUID, str]] = field(default_factory=list)
    tied_from: int | None = None

    def rank(self, index: int) -> int:
        return index if self.tied_from is None else min(index, self.tied_from)


def combine(lists: Sequence[_Ranked], limit: int) -> list[SuggestedArticle]:
    """Weighted reciprocal-rank fusion of the lists (ties: the title)."""
    scores: dict[uuid.UUID, float] = defaultdict(float)
    reasons: dict[uuid.UUID, list[str]] = defaultdict(list)
    shown: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for ranked in lists:
        for index, (entry_id, collection_id, title) in enumerate(ranked.entries):
            scores[entry_id] += WEIGHTS[ranked.reason] / (RRF_K + ranked.rank(index) + 1)
            reasons[entry_id].append(ranked.reason)
            shown.setdefault(entry_id, (collection_id, title))
    best = sorted(scores, key=lambda e: (-scores[e], shown[e][1], str(e)))[:limit]
    return [
        SuggestedArticle(
            entry_id=e,
            collection_id=shown[e][0],
            title=shown[e][1],
            reasons=reasons[e],
            score=round(scores[e], 4),
        )
        for e in best
    ]


class Personaliser:
    """What one workspace knows about its contacts, put to use."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.insights = InsightRepository(session, workspace_id)
        self.contacts = ContactRepository(session, workspace_id)

    async def _matching(
        self, text: str, reason: str, collection_ids: Sequence[uuid.UUID] | None
    ) -> _Ranked:
        """Published entries that match `text`, best first; only those above the knowledge
        base's average match (fused score above 0), so an unrelated page suggests nothing."""
        ranked = _Ranked(reason)
        if not text.strip():
            return ranked
        query = await keyword_query(self.session, self.workspace_id, text)
        embedder = default_embedder(get_settings().embedding_threads)
        vector = (await asyncio.to_thread(embedder.embed_queries, [text]))[0]
        found = await find_units(
            self.session,
            self.workspace_id,
            query,
            vector,
            collection_ids=collection_ids,
            top_k=SEARCH_DEPTH,
        )
        calibration = await workspace_calibration.stored(self.session, self.workspace_id)
        candidates = fuse(
            [f.score for f in found],
            keyword_ceiling=query.ceiling,
            scale=calibration.scale if calibration else _FALLBACK_SCALE,
        )
        units = {str(f.entry_id): f for f in found}
        for candidate in candidates[:SEARCH_DEPTH]:
            if candidate.score > 0:
                unit = units[candidate.entry_id]
                ranked.entries.append((unit.entry_id, unit.collection_id, unit.title))
        return ranked

    async def _popular(
        self,
        reason: str,
        collection_ids: Sequence[uuid.UUID] | None,
        only: Sequence[uuid.UUID] | None = None,
    ) -> _Ranked:
        """Entries most used in the bot's answers lately, then (tied) other published ones."""
        since = datetime.now(UTC) - timedelta(days=POPULAR_DAYS)
        popular = await self.insights.popular_entries(
            since=since, collection_ids=only if only is not None else collection_ids, limit=20
        )
        live = await self.insights.live_entries(collection_ids=collection_ids, only=only, limit=20)
        rows = {r.entry_id: (r.entry_id, r.collection_id, r.title) for r in [*popular, *live]}
        return _Ranked(reason, list(rows.values()), tied_from=len(popular))

    async def preferred_collections(
        self, contact: Contact, settings: PersonalisationSettings
    ) -> list[uuid.UUID]:
        products = contact_products(contact.attributes or {}, settings.product_attributes)
        return await self.insights.product_collections(products)

    async def _history_text(self, contact: Contact) -> str:
        questions = await self.insights.recent_questions(contact.id, limit=HISTORY_QUESTIONS)
        tickets = await self.insights.open_tickets(contact.id, limit=HISTORY_QUESTIONS)
        return "\n".join([*(q.text for q in questions), *(t.subject for t in tickets)])

    async def suggestions(
        self,
        *,
        contact: Contact | None,
        page_url: str | None,
        collection_ids: Sequence[uuid.UUID] | None,
        limit: int = 5,
    ) -> tuple[list[SuggestedArticle], bool]:
        """Articles to offer, and whether the contact's own data shaped them."""
        settings = await load_settings(self.session, self.workspace_id)
        lists = [await self._matching(page_words(page_url or ""), "page", collection_ids)]
        personalised = contact is not None and settings.enabled
        if contact is not None and settings.enabled:
            history = await self._history_text(contact)
            lists.append(await self._matching(history, "history", collection_ids))
            preferred = await self.preferred_collections(contact, settings)
            if collection_ids is not None:
                preferred = [c for c in preferred if c in collection_ids]
            if preferred:
                lists.append(await self._popular("product", collection_ids, preferred))
        lists.append(await self._popular("popular", collection_ids))
        return combine(lists, limit), personalised

    async def context(self, contact_id: uuid.UUID) -> ContactContext:
        """What an agent should know about a contact before answering them."""
        contact = await self.contacts.get_or_raise(contact_id)
        settings = await load_settings(self.session, self.workspace_id)
        suggested, personalised = await self.suggestions(
            contact=contact, page_url=None, collection_ids=None
        )
        questions = await self.insights.recent_questions(contact.id, limit=10)
        tickets = await self.insights.open_tickets(contact.id, limit=10)
        return ContactContext(
            contact_id=contact.id,
            name=contact.name,
            email=contact.email,
            attributes=contact.attributes or {},
            personalised=personalised,
            products=contact_products(contact.attributes or {}, settings.product_attributes),
            preferred_collection_ids=await self.preferred_collections(contact, settings)
            if settings.enabled
            else [],
            recent_questions=[RecentQuestion(**q._asdict()) for q in questions],
            open_tickets=[OpenTicket(**t._asdict()) for t in tickets],
            suggestions=suggested,
        )


async def answer_for_contact(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    question: str,
    *,
    contact_id: uuid.UUID | None,
    history: Sequence[str] = (),
    collection_ids: Sequence[uuid.UUID] | None = None,
) -> AnswerResult:
    """The answer path, preferring the contact's product collections when it is unsure.

    Same arguments as `retrieval.answer.answer_question`, plus the contact; the chat bot can
    pass it in place of `answer_question`.
    """
    result = await answer_question(
        session, workspace_id, question, history=history, collection_ids=collection_ids
    )
    if result.decision in (Decision.DIRECT, Decision.GROUNDED) or contact_id is None:
        return result
    settings = await load_settings(session, workspace_id)
    contact = await ContactRepository(session, workspace_id).get(contact_id)
    if not settings.enabled or contact is None:
        return result
    personaliser = Personaliser(session, workspace_id)
    preferred = await personaliser.preferred_collections(contact, settings)
    if collection_ids is not None:
        preferred = [c for c in preferred if c in collection_ids]
    if not preferred or (collection_ids is not None and set(preferred) == set(collection_ids)):
        return result
    narrowed = await answer_question(
        session, workspace_id, question, history=history, collection_ids=preferred
    )
    return narrowed if narrowed.decision in (Decision.DIRECT, Decision.GROUNDED) else result
