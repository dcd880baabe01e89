"""Rules of webhooks: which URLs and events a webhook may have, and how events become deliveries.

Every function works inside the caller's transaction and never commits. A delivery and the job
that sends it are written in that same transaction, so an event goes out exactly when the work
that emitted it is committed.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.audit.service import record
from knowdesk.errors import InvalidInputError
from knowdesk.jobs.queue import defer
from knowdesk.webhooks.events import ALL, EVENTS, PING
from knowdesk.webhooks.models import Webhook, WebhookDelivery
from knowdesk.webhooks.repository import DeliveryRepository, WebhookRepository
from knowdesk.webhooks.schemas import WebhookCreate, WebhookUpdate
from knowdesk.webhooks.tasks import deliver


def checked_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number, a broken IPv6 address
        valid = False
    if not valid or any(c.isspace() for c in url):
        raise InvalidInputError(f"A webhook URL must be http:// or https:// with a host: {url!r}")
    return url


def checked_events(events: Sequence[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENTS and e != ALL]
    if unknown:
        raise InvalidInputError(
            f"Unknown events: {', '.join(unknown)}. Known: {', '.join([*EVENTS, ALL])}."
        )
    return list(dict.fromkeys(events))


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def _queue_delivery(
    session: AsyncSession,
    webhook: Webhook,
    *,
    event: str,
    event_id: uuid.UUID,
    occurred_at: datetime,
    payload: dict[str, Any],
    redelivery_of: uuid.UUID | None = None,
) -> WebhookDelivery:
    delivery = DeliveryRepository(session, webhook.workspace_id).add(
        WebhookDelivery(
            webhook_id=webhook.id,
            event=event,
            event_id=event_id,
            occurred_at=occurred_at,
            payload=payload,
            redelivery_of=redelivery_of,
            attempt_log=[],
        )
    )
    await session.flush()
    await defer(
        session, deliver, workspace_id=str(webhook.workspace_id), delivery_id=str(delivery.id)
    )
    return delivery


async def emit(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    event: str,
    payload: dict[str, Any],
    *,
    subscribed: bool = True,
) -> list[uuid.UUID]:
    """Queue `event` for every active webhook of the workspace that subscribes to it; returns
    the new deliveries' ids. `payload` may hold UUIDs, datetimes, enums and pydantic models.

    `subscribed=False` is for a caller that found, in this transaction, that no webhook takes
    the event (a hot path asks along with a query it makes anyway): nothing to look up."""
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}: list it in knowdesk/webhooks/events.py")
    if not subscribed:
        return []
    webhooks = await WebhookRepository(session, workspace_id).subscribed_to(event)
    if not webhooks:
        return []
    data = to_jsonable_python(payload)
    event_id, occurred_at = uuid.uuid4(), datetime.now(UTC)
    deliveries = [
        await _queue_delivery(
            session, w, event=event, event_id=event_id, occurred_at=occurred_at, payload=data
        )
        for w in webhooks
    ]
    return [d.id for d in deliveries]


@dataclass
class Webhooks:
    """The webhooks of one caller's workspace."""

    session: AsyncSession
    principal: Principal

    def __post_init__(self) -> None:
        self.webhooks = WebhookRepository(self.session, self.principal.workspace_id)
        self.deliveries = DeliveryRepository(self.session, self.principal.workspace_id)

    def _audit(self, action: str, webhook_id: uuid.UUID, **details: Any) -> None:
        record(
            self.session,
            self.principal,
            action,
            target_type="webhook",
            target_id=webhook_id,
            **details,
        )

    async def create(self, body: WebhookCreate) -> Webhook:
        webhook = self.webhooks.add(
            Webhook(
                url=checked_url(body.url),
                events=checked_events(body.events),
                description=body.description,
                active=body.active,
                secret=body.secret or new_secret(),
            )
        )
        await self.session.flush()
        self._audit("webhook.create", webhook.id, url=webhook.url, events=webhook.events)
        return webhook

    async def update(self, webhook_id: uuid.UUID, body: WebhookUpdate) -> Webhook:
        webhook = await self.webhooks.get_or_raise(webhook_id)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in changes:
            changes["url"] = checked_url(changes["url"])
        if "events" in changes:
            changes["events"] = checked_events(changes["events"])
        for field, value in changes.items():
            setattr(webhook, field, value)
        await self.session.flush()
        self._audit("webhook.update", webhook.id, fields=sorted(changes))
        return webhook

    async def delete(self, webhook_id: uuid.UUID) -> None:
        webhook = await self.webhooks.get_or_raise(webhook_id)
        await self.webhooks.delete(webhook)
        self._audit("webhook.delete", webhook_id, url=webhook.url)

    async def ping(self, webhook_id: uuid.UUID) -> WebhookDelivery:
        """Send a `ping` event to this webhook alone, active or not, to check the receiver."""
        webhook = await self.webhooks.get_or_raise(webhook_id)
        payload = {"webhook_id": str(webhook.id), "message": "Hello from knowdesk."}
        return await _queue_delivery(
            self.session,
            webhook,
            event=PING,
            event_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            payload=payload,
        )

    async def redeliver(self, delivery_id: uuid.UUID) -> WebhookDelivery:
        """A new delivery of the same event (same event id) to the same webhook, with fresh
        attempts; the original stays in the log as it was."""
        original = await self.deliveries.get_or_raise(delivery_id)
        webhook = await self.webhooks.get_or_raise(original.webhook_id)
        delivery = await _queue_delivery(
            self.session,
            webhook,
            event=original.event,
            event_id=original.event_id,
            occurred_at=original.occurred_at,
            payload=original.payload,
            redelivery_of=original.id,
        )
        self._audit("webhook.redeliver", webhook.id, delivery_id=str(delivery_id))
        return delivery
