"""Webhook tests use a server of their own with a back-off of 1 s, so retries take seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receiver import Receiver
from tests.webhooks.server import OwnServer, own_server

TIMEOUT_SECONDS = 2


@pytest.fixture(scope="package")
def webhook_server() -> Iterator[OwnServer]:
    env = {
        "KNOWDESK_WEBHOOK_BACKOFF_SECONDS": "1,1",
        "KNOWDESK_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
    }
    with own_server("server-webhooks.log", env) as server:
        yield server


@pytest.fixture(scope="package")
def base_url(webhook_server: OwnServer) -> str:
    """Tenants of these tests live on the webhook server (tests.conftest builds them)."""
    return webhook_server.url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
