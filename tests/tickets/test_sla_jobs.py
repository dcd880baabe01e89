"""SLA warnings, breaches and escalation fired by the real job queue, with short targets."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from knowdesk.config import get_settings
from knowdesk.db.session import dispose_engine, sync_engine
from knowdesk.jobs.queue import queue
from knowdesk.tickets.tasks import sweep_sla
from tests.conftest import Tenant
from tests.tickets.helpers import make_agent, make_team, make_ticket, ok, patch, wait_for


def add_policy(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": f"{fields['priority']} targets", **fields}
    return dict(ok(client.post("/api/v1/sla-policies", json=body), 201))


def history_kinds(client: httpx.Client, ticket_id: str) -> list[tuple[str, Any]]:
    events = ok(client.get(f"/api/v1/tickets/{ticket_id}/history"))
    return [(e["kind"], e["data"].get("target")) for e in events]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_warning_then_breach_then_escalation(tenant: Tenant) -> None:
    _, tier2_agent = make_agent(tenant)
    tier2 = make_team(tenant.client, [tier2_agent])
    add_policy(
        tenant.client,
        priority="normal",
        # The worker looks for due jobs every 5 s: the warning gets a window that long.
        first_response_seconds=12,
        resolution_seconds=600,
        warn_before_seconds=6,
        escalation_team_id=tier2,
    )
    ticket = make_ticket(tenant.client)
    due = when(ticket["first_response_due_at"]) - when(ticket["created_at"])
    assert 11.5 < due.total_seconds() < 12.5
    url = f"/api/v1/tickets/{ticket['id']}"

    def breached() -> bool:
        return ("sla_breached", "first_response") in history_kinds(tenant.client, ticket["id"])

    wait_for(breached, timeout=40, what="first-response breach")
    kinds = history_kinds(tenant.client, ticket["id"])
    assert kinds.index(("sla_warning", "first_response")) < kinds.index(
        ("sla_breached", "first_response")
    )
    assert ("escalated", None) in kinds
    escalated = ok(tenant.client.get(url))
    assert escalated["response_breached_at"] and escalated["escalation_level"] == 1
    assert escalated["priority"] == "high" and escalated["team_id"] == tier2
    assert escalated["assignee_id"] == tier2_agent
    breaches = ok(tenant.client.get("/api/v1/tickets", params={"breached": True}))
    assert [t["id"] for t in breaches] == [ticket["id"]]
    # A breach fires once, however many timers run later.
    time.sleep(1)
    assert history_kinds(tenant.client, ticket["id"]).count(("sla_breached", "first_response")) == 1


def test_the_clock_pauses_while_waiting_on_the_customer(tenant: Tenant) -> None:
    add_policy(tenant.client, priority="low", resolution_seconds=6)
    ticket = make_ticket(tenant.client, priority="low")
    url = f"/api/v1/tickets/{ticket['id']}"
    pending = ok(patch(tenant.client, ticket, status="pending"))
    assert pending["resolution_due_at"] is None  # no due time while paused
    time.sleep(8)  # longer than the target: nothing may fire while paused
    assert ("sla_breached", "resolution") not in history_kinds(tenant.client, ticket["id"])
    resumed_at = datetime.now(UTC)
    opened = ok(patch(tenant.client, pending, status="open"))
    left = (when(opened["resolution_due_at"]) - resumed_at).total_seconds()
    assert 3 < left < 6.5  # the time used before the pause is not given back
    wait_for(
        lambda: ok(tenant.client.get(url))["resolution_breached_at"],
        timeout=30,
        what="resolution breach after resuming",
    )


def test_solved_tickets_do_not_breach(tenant: Tenant) -> None:
    add_policy(tenant.client, priority="urgent", first_response_seconds=3)
    ticket = make_ticket(tenant.client, priority="urgent")
    ok(
        tenant.client.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "Fixed.", "public": True}
        ),
        201,
    )
    time.sleep(9)  # past the target and a job-queue poll
    stored = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert stored["first_responded_at"] and stored["response_breached_at"] is None


async def test_the_sweep_fires_timers_whose_jobs_were_lost(tenant: Tenant) -> None:
    assert any(
        t.task.name == "tickets.sla_sweep" for t in queue.periodic_registry.periodic_tasks.values()
    )
    add_policy(tenant.client, priority="high", first_response_seconds=2)
    ticket = make_ticket(tenant.client, priority="high")
    engine = sync_engine(get_settings())
    try:
        with engine.begin() as connection:  # a crash lost the timer jobs
            connection.execute(
                text(
                    "delete from procrastinate_jobs where task_name = 'tickets.check_sla' "
                    "and args->>'ticket_id' = :t and status = 'todo'"
                ),
                {"t": ticket["id"]},
            )
    finally:
        engine.dispose()
    time.sleep(2.5)
    assert ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))["response_breached_at"] is None
    try:
        fired = await sweep_sla(datetime.now(UTC))
    finally:
        await dispose_engine()
    assert fired >= 1
    stored = ok(tenant.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert stored["response_breached_at"] is not None
