"""The feedback loop: questions that real traffic showed an entry answers become candidate
similar questions of that entry, and reach customers only through the entry's review.

Where candidates come from:
- an agent says so (`record`): "this customer question is answered by that entry";
- a customer confirms it: they rated the entry's direct answer helpful, or picked the entry
  among the bot's suggestions after a clarification (`collect`, a query over stored messages).

Candidates of an archived entry are dismissed when proposed: it no longer answers anyone.

`propose` turns an entry's pending candidates into one new version of the entry with the
questions added as similar questions, and sends it to review (an entry someone is still editing
as a draft gets the questions in its draft and stays with its author). Questions the entry
already holds are marked `known` and change nothing.

Every function works inside the caller's transaction and never commits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.analytics.models import FeedbackCandidate
from knowdesk.analytics.repository import FeedbackRepository
from knowdesk.analytics.schemas import FeedbackApplyResult, ProposedEntry
from knowdesk.chat.models import SenderKind
from knowdesk.chat.repository import MessageRepository
from knowdesk.errors import ConflictError, InvalidInputError
from knowdesk.kb.models import EntryKind, EntryStatus
from knowdesk.kb.repository import EntryRepository
from knowdesk.kb.schemas import EntryUpdate
from knowdesk.kb.service import KB
from knowdesk.text.tokenize import normalize

MAX_SIMILAR = 200  # what an FAQ entry holds (kb.schemas.FaqContent)
NOTE = "similar questions from customers' conversations"


def _key(text: str) -> str:
    return " ".join(normalize(text).split())


@dataclass
class Feedback:
    session: AsyncSession
    principal: Principal

    def __post_init__(self) -> None:
        self.candidates = FeedbackRepository(self.session, self.principal.workspace_id)

    async def record(self, *, message_id: uuid.UUID, entry_id: uuid.UUID) -> FeedbackCandidate:
        """An agent's word that `entry_id` answers the customer's message `message_id`."""
        ws = self.principal.workspace_id
        message = await MessageRepository(self.session, ws).get_or_raise(message_id)
        if message.sender_kind != SenderKind.CONTACT or not message.text.strip():
            raise InvalidInputError("Name a message in which the customer asked something.")
        entry = await EntryRepository(self.session, ws).get_or_raise(entry_id)
        if entry.kind != EntryKind.FAQ:
            raise InvalidInputError("Similar questions belong to FAQ entries, not documents.")
        return await self.candidates.add_if_new(
            FeedbackCandidate(
                entry_id=entry.id,
                message_id=message.id,
                question=message.text.strip()[:1000],
                source="agent",
                created_by=self.principal.user_id,
            )
        )

    async def collect(self) -> None:
        """Add the customers' confirmations stored since the last time (idempotent)."""
        await self.candidates.collect_confirmations()

    async def listing(
        self, *, status: str | None, entry_id: uuid.UUID | None, limit: int
    ) -> Sequence[FeedbackCandidate]:
        await self.collect()
        return await self.candidates.listing(status=status, entry_id=entry_id, limit=limit)

    async def dismiss(self, candidate_id: uuid.UUID) -> FeedbackCandidate:
        candidate = await self.candidates.get_or_raise(candidate_id)
        if candidate.status != "pending":
            raise ConflictError(f"Only a pending candidate can be dismissed ({candidate.status}).")
        candidate.status = "dismissed"
        candidate.decided_at = datetime.now(UTC)
        return candidate

    async def propose(self, entry_ids: Sequence[uuid.UUID] | None) -> FeedbackApplyResult:
        """One new version per entry with its pending candidates as similar questions, in
        review (see the module's docstring)."""
        await self.collect()
        by_entry: dict[uuid.UUID, list[FeedbackCandidate]] = defaultdict(list)
        for candidate in await self.candidates.pending_for_update(entry_ids):
            by_entry[candidate.entry_id].append(candidate)
        kb = KB(self.session, self.principal)
        result = FeedbackApplyResult(proposed=[], known=0)
        for entry_id, candidates in by_entry.items():
            proposed, known = await self._propose_to(kb, entry_id, candidates)
            result.known += known
            if proposed is not None:
                result.proposed.append(proposed)
        return result

    async def _propose_to(
        self, kb: KB, entry_id: uuid.UUID, candidates: list[FeedbackCandidate]
    ) -> tuple[ProposedEntry | None, int]:
        entry = await kb.entry_for_update(entry_id)
        now = datetime.now(UTC)
        if entry.status == EntryStatus.ARCHIVED:  # withdrawn: its questions lead nowhere
            for candidate in candidates:
                candidate.status, candidate.decided_at = "dismissed", now
            return None, 0
        content = await kb.current_content(entry)
        held = {_key(content["question"]), *(_key(s) for s in content["similar"])}
        new: list[str] = []
        known = 0
        for candidate in candidates:
            key = _key(candidate.question)
            candidate.decided_at = now
            if key in held or len(content["similar"]) + len(new) >= MAX_SIMILAR:
                candidate.status = "known"
                known += 1
                continue
            held.add(key)
            new.append(candidate.question)
            candidate.status = "proposed"
        if not new:
            return None, known
        was = entry.status
        await kb.update_entry(
            entry.id,
            EntryUpdate(
                expected_version=entry.current_version,
                similar=[*content["similar"], *new],
                note=NOTE,
            ),
        )
        if was != EntryStatus.DRAFT:  # a draft stays with the person writing it
            await kb.submit_for_review(entry.id)
        for candidate in candidates:
            if candidate.status == "proposed":
                candidate.proposed_version = entry.current_version
        proposal = ProposedEntry(
            entry_id=entry.id,
            version=entry.current_version,
            status=entry.status.value,
            questions=new,
        )
        return proposal, known
