"""One attempt at delivering a webhook: the request, sending it, and what its outcome means.

The HTTP request runs between two short transactions, never inside one, so that a slow receiver
holds no database locks. Receivers get each delivery at least once: they de-duplicate on the
event id (or the delivery id).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk import __version__
from knowdesk.webhooks.events import PING
from knowdesk.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from knowdesk.webhooks.repository import DeliveryRepository, WebhookRepository

# How much of a receiver's answer the log keeps.
RESPONSE_SNIPPET_BYTES = 2048


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    duration_ms: int
    status_code: int | None
    response: str
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`: binding the timestamp lets a
    receiver refuse old requests replayed with a valid signature."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def body_of(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "occurred_at": delivery.occurred_at.isoformat(),
        "workspace_id": str(delivery.workspace_id),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def _finish(delivery: WebhookDelivery, status: DeliveryStatus, reason: str | None = None) -> None:
    delivery.status = status
    delivery.finished_at = datetime.now(UTC)
    delivery.next_attempt_at = None
    delivery.failure_reason = reason


async def prepare(
    session: AsyncSession, workspace_id: uuid.UUID, delivery_id: uuid.UUID
) -> Request | None:
    """The request for the next attempt, or None when there is nothing (left) to send."""
    delivery = await DeliveryRepository(session, workspace_id).get_for_update(delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    webhook = await WebhookRepository(session, workspace_id).get_or_raise(delivery.webhook_id)
    if not webhook.active and delivery.event != PING:
        _finish(delivery, DeliveryStatus.FAILED, "The webhook was deactivated.")
        return None
    timestamp = str(int(time.time()))
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"knowdesk-webhooks/{__version__}",
        "X-Knowdesk-Event": delivery.event,
        "X-Knowdesk-Delivery": str(delivery.id),
        "X-Knowdesk-Timestamp": timestamp,
        "X-Knowdesk-Signature": signature(webhook.secret, timestamp, body),
    }
    return Request(url=webhook.url, headers=headers, body=body)


async def _read_snippet(response: httpx.Response) -> str:
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= RESPONSE_SNIPPET_BYTES:
            break
    return head[:RESPONSE_SNIPPET_BYTES].decode(response.encoding or "utf-8", errors="replace")


async def send(request: Request, timeout: float) -> Outcome:
    """POST the request; a 2xx answer within `timeout` seconds in all is a success. Redirects
    are not followed: a receiver that moved must be updated, not guessed."""
    started_at, clock = datetime.now(UTC), time.monotonic()
    status_code, response, error = None, "", None
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", request.url, content=request.body, headers=request.headers) as r,
        ):
            status_code, response = r.status_code, await _read_snippet(r)
            if not r.is_success:
                error = f"HTTP {r.status_code}"
    except TimeoutError:
        error = f"No answer within {timeout:g} s."
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}".removesuffix(": ")
    duration_ms = round((time.monotonic() - clock) * 1000)
    return Outcome(started_at, duration_ms, status_code, response, error)


async def record(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    delivery_id: uuid.UUID,
    outcome: Outcome,
    backoff: Sequence[int],
) -> datetime | None:
    """Log the attempt; returns when to make the next one, or None when the delivery is
    finished. `backoff[n]` is the wait in seconds after the (n+1)th failed attempt."""
    delivery = await DeliveryRepository(session, workspace_id).get_for_update(delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    delivery.attempts += 1
    delivery.attempt_log.append(
        WebhookAttempt(
            number=delivery.attempts,
            at=outcome.started_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            response=outcome.response,
            error=outcome.error,
        )
    )
    if outcome.succeeded:
        _finish(delivery, DeliveryStatus.DELIVERED)
        return None
    if delivery.attempts > len(backoff):
        _finish(delivery, DeliveryStatus.FAILED, f"Gave up after {delivery.attempts} attempts.")
        return None
    delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=backoff[delivery.attempts - 1])
    return delivery.next_attempt_at
