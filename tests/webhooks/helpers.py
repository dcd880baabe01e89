from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx

from tests.webhooks.receiver import Received


def make_webhook(
    client: httpx.Client, url: str, events: list[str], **fields: Any
) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json={"url": url, "events": events, **fields})
    assert r.status_code == 201, r.text
    return dict(r.json())


def wait_finished(client: httpx.Client, delivery_id: str, timeout: float = 40) -> dict[str, Any]:
    """Poll a delivery until it is delivered or given up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = client.get(f"/api/v1/webhooks/deliveries/{delivery_id}").json()
        if delivery["status"] != "pending":
            return dict(delivery)
        time.sleep(0.2)
    raise AssertionError(f"delivery {delivery_id} still pending after {timeout} s")


def signature_is_valid(request: Received, secret: str) -> bool:
    """Verify as docs/webhooks.md tells receivers to."""
    timestamp = request.headers["x-knowdesk-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(request.headers["x-knowdesk-signature"], f"sha256={expected}")
