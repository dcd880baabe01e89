"""Webhooks API: owners configure where events go and watch how their delivery goes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from knowdesk.web.deps import CanManageSettings, SessionDep
from knowdesk.webhooks.events import EVENTS
from knowdesk.webhooks.models import DeliveryStatus
from knowdesk.webhooks.schemas import (
    DeliveryRead,
    EventRead,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
)
from knowdesk.webhooks.service import Webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.get("/events", response_model=list[EventRead], summary="Events a webhook can subscribe to")
async def list_events(principal: CanManageSettings) -> list[EventRead]:
    return [EventRead(name=name, description=text) for name, text in EVENTS.items()]


@router.get("", response_model=list[WebhookRead], summary="Webhooks of the workspace")
async def list_webhooks(principal: CanManageSettings, session: SessionDep) -> list[WebhookRead]:
    rows = await Webhooks(session, principal).webhooks.oldest_first()
    return [WebhookRead.model_validate(w) for w in rows]


@router.post("", response_model=WebhookRead, status_code=201, summary="Add a webhook")
async def create_webhook(
    body: WebhookCreate, principal: CanManageSettings, session: SessionDep
) -> WebhookRead:
    return WebhookRead.model_validate(await Webhooks(session, principal).create(body))


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryRead, summary="A delivery and its attempts"
)
async def get_delivery(
    delivery_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> DeliveryRead:
    delivery = await Webhooks(session, principal).deliveries.get_or_raise(delivery_id)
    return DeliveryRead.model_validate(delivery)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryRead,
    status_code=202,
    summary="Send a delivery's event again, as a new delivery",
)
async def redeliver(
    delivery_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> DeliveryRead:
    return DeliveryRead.model_validate(await Webhooks(session, principal).redeliver(delivery_id))


@router.get("/{webhook_id}", response_model=WebhookRead, summary="One webhook")
async def get_webhook(
    webhook_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> WebhookRead:
    webhook = await Webhooks(session, principal).webhooks.get_or_raise(webhook_id)
    return WebhookRead.model_validate(webhook)


@router.patch("/{webhook_id}", response_model=WebhookRead, summary="Change a webhook")
async def update_webhook(
    webhook_id: uuid.UUID, body: WebhookUpdate, principal: CanManageSettings, session: SessionDep
) -> WebhookRead:
    return WebhookRead.model_validate(await Webhooks(session, principal).update(webhook_id, body))


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook and its log")
async def delete_webhook(
    webhook_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> Response:
    await Webhooks(session, principal).delete(webhook_id)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    summary="A webhook's deliveries, newest first, with their attempts",
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    principal: CanManageSettings,
    session: SessionDep,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryRead]:
    webhooks = Webhooks(session, principal)
    await webhooks.webhooks.get_or_raise(webhook_id)
    rows = await webhooks.deliveries.of_webhook(webhook_id, status=status, limit=limit)
    return [DeliveryRead.model_validate(d) for d in rows]


@router.post(
    "/{webhook_id}/test",
    response_model=DeliveryRead,
    status_code=202,
    summary="Send a ping event to this webhook",
)
async def test_webhook(
    webhook_id: uuid.UUID, principal: CanManageSettings, session: SessionDep
) -> DeliveryRead:
    return DeliveryRead.model_validate(await Webhooks(session, principal).ping(webhook_id))
