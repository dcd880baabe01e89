"""Queries of the mail log, inside one workspace except where said."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.db.repository import ScopedRepository
from knowdesk.mail.models import MailDirection, MailMessage, MailStatus


class MailRepository(ScopedRepository[MailMessage]):
    model = MailMessage

    async def get_for_update(self, ident: uuid.UUID) -> MailMessage | None:
        stmt = self.select().where(MailMessage.id == ident).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def thread(self, token: str, limit: int) -> Sequence[MailMessage]:
        """The newest `limit` mails (either way) with this reply token, oldest first."""
        stmt = (
            self.select()
            .where(MailMessage.reply_token == token, MailMessage.message_id.is_not(None))
            .order_by(MailMessage.created_at.desc())
            .limit(limit)
        )
        return list(reversed(await self.list(stmt)))

    async def inbound_with_message_id(self, message_id: str) -> MailMessage | None:
        stmt = self.select().where(
            MailMessage.direction == MailDirection.INBOUND, MailMessage.message_id == message_id
        )
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def search(
        self,
        *,
        direction: MailDirection | None,
        status: MailStatus | None,
        token: str | None,
        limit: int,
    ) -> Sequence[MailMessage]:
        stmt = self.select()
        if direction is not None:
            stmt = stmt.where(MailMessage.direction == direction)
        if status is not None:
            stmt = stmt.where(MailMessage.status == status)
        if token is not None:
            stmt = stmt.where(MailMessage.reply_token == token)
        return await self.list(stmt.order_by(MailMessage.created_at.desc()).limit(limit))


async def workspace_of_reply(
    session: AsyncSession, token: str | None, answered_ids: Sequence[str]
) -> uuid.UUID | None:
    """The workspace whose outgoing mail a reply answers, found by its reply token or by the
    Message-IDs it quotes; None when unknown or ambiguous. Unscoped on purpose: the SMTP
    listener has no caller to scope by, and the token is what proves where a reply belongs."""
    conditions = []
    if token:
        conditions.append(MailMessage.reply_token == token)
    if answered_ids:
        conditions.append(MailMessage.message_id.in_(answered_ids))
    if not conditions:
        return None
    stmt = (
        select(MailMessage.workspace_id)
        .where(MailMessage.direction == MailDirection.OUTBOUND, or_(*conditions))
        .distinct()
        .limit(2)
    )
    found = (await session.execute(stmt)).scalars().all()
    return found[0] if len(found) == 1 else None
