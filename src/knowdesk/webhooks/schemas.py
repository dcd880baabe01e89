from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from knowdesk.webhooks.models import DeliveryStatus


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000, description="Where events are POSTed: http:// or https://.")
    events: list[str] = Field(
        min_length=1, max_length=50, description='Event names, or "*" for every event.'
    )
    description: str = Field(default="", max_length=200)
    active: bool = True
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="Signs every request. Default: a new random secret.",
    )


class WebhookUpdate(BaseModel):
    """A change to a webhook. Any field left out keeps its value."""

    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    secret: str | None = Field(default=None, min_length=16, max_length=200)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    description: str
    events: list[str]
    active: bool
    secret: str
    created_at: datetime
    updated_at: datetime


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    response: str = Field(description="The start of the receiver's answer.")
    error: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    webhook_id: uuid.UUID
    event: str
    event_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    finished_at: datetime | None
    failure_reason: str | None
    redelivery_of: uuid.UUID | None
    created_at: datetime
    attempt_log: list[AttemptRead]


class EventRead(BaseModel):
    name: str
    description: str
