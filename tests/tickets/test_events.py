"""Ticket events reach the workspace's webhooks; SLA due times count in business hours."""

from __future__ import annotations

from datetime import datetime

from knowdesk.tickets.sla import Calendar, add_business_seconds
from tests.conftest import Tenant
from tests.tickets.helpers import make_ticket, ok, patch


def test_ticket_events_are_queued_for_subscribed_webhooks(tenant: Tenant) -> None:
    hook = ok(
        tenant.client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["ticket.created", "ticket.updated"]},
        ),
        201,
    )
    ticket = make_ticket(tenant.client)
    ok(patch(tenant.client, ticket, priority="high"))
    ok(
        tenant.client.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "internal", "public": False}
        ),
        201,
    )
    deliveries = ok(tenant.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))
    by_event = sorted((d["event"], d["occurred_at"]) for d in deliveries)
    assert [e for e, _ in by_event] == ["ticket.created", "ticket.updated", "ticket.updated"]
    payloads = [d["payload"] for d in deliveries]
    assert all(p["ticket"]["id"] == ticket["id"] for p in payloads)
    change = next(p for p in payloads if "changes" in p)
    assert change["changes"]["priority"] == ["normal", "high"]
    note = next(p for p in payloads if "comment" in p)
    assert note["comment"]["public"] is False  # the company's systems see notes, flagged


def test_due_times_count_business_hours_and_skip_holidays(tenant: Tenant) -> None:
    schedule = {
        "name": "Shanghai office",
        "timezone": "Asia/Shanghai",
        "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-12-25", "2027-01-01"],
    }
    calendar = ok(tenant.client.post("/api/v1/sla-calendars", json=schedule), 201)
    ok(
        tenant.client.post(
            "/api/v1/sla-policies",
            json={
                "name": "normal",
                "priority": "normal",
                "first_response_seconds": 4 * 3600,
                "resolution_seconds": 5 * 9 * 3600,
                "calendar_id": calendar["id"],
            },
        ),
        201,
    )
    ticket = make_ticket(tenant.client)
    expected = Calendar.from_schedule(calendar["schedule"])
    created = datetime.fromisoformat(ticket["created_at"])
    for field, target in (("first_response_due_at", 4 * 3600), ("resolution_due_at", 45 * 3600)):
        due = datetime.fromisoformat(ticket[field])
        assert abs((due - add_business_seconds(expected, created, target)).total_seconds()) < 2
    in_use = tenant.client.delete(f"/api/v1/sla-calendars/{calendar['id']}")
    assert in_use.status_code == 409
    never_open = tenant.client.post(
        "/api/v1/sla-calendars", json={"name": "closed", "weekly": {}, "holidays": []}
    )
    assert never_open.status_code == 422
    too_late = tenant.client.post(
        "/api/v1/sla-policies",
        json={"name": "x", "priority": "low", "resolution_seconds": 60, "warn_before_seconds": 60},
    )
    assert too_late.status_code == 422
