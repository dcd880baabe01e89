"""Queries of webhook tables, always inside one workspace."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from knowdesk.db.repository import ScopedRepository
from knowdesk.webhooks.events import ALL
from knowdesk.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery


class WebhookRepository(ScopedRepository[Webhook]):
    model = Webhook

    async def oldest_first(self) -> Sequence[Webhook]:
        return await self.list(self.select().order_by(Webhook.created_at))

    async def subscribed_to(self, event: str) -> Sequence[Webhook]:
        stmt = self.select().where(Webhook.active, Webhook.events.overlap([event, ALL]))
        return await self.list(stmt)


class DeliveryRepository(ScopedRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def get_for_update(self, ident: uuid.UUID) -> WebhookDelivery | None:
        stmt = self.select().where(WebhookDelivery.id == ident).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def of_webhook(
        self, webhook_id: uuid.UUID, *, status: DeliveryStatus | None, limit: int
    ) -> Sequence[WebhookDelivery]:
        stmt = self.select().where(WebhookDelivery.webhook_id == webhook_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        return await self.list(stmt.order_by(WebhookDelivery.created_at.desc()).limit(limit))
