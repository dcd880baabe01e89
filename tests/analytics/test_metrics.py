"""Metrics over generated activity: conversations told through the chat service at chosen
moments, tickets made through the API and moved back in time, figures read through the API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from knowdesk.retrieval.schemas import Decision
from tests.analytics.activity import (
    Json,
    Person,
    activity,
    answer,
    days_ago,
    make_channel,
    make_person,
    make_team,
    move_ticket,
    ok,
)
from tests.conftest import Tenant


def make_ticket(tenant: Tenant, subject: str, **fields: Any) -> Json:
    body = {"subject": subject, "priority": "normal", **fields}
    return dict(ok(tenant.client.post("/api/v1/tickets", json=body), 201))


def reply(agent: Person, ticket: Json, words: str) -> None:
    url = f"/api/v1/tickets/{ticket['id']}/comments"
    ok(agent.client.post(url, json={"body": words, "public": True}), 201)


def solve(agent: Person, ticket: Json) -> None:
    current = ok(agent.client.get(f"/api/v1/tickets/{ticket['id']}"))
    body = {"version": current["version"], "status": "solved"}
    ok(agent.client.patch(f"/api/v1/tickets/{ticket['id']}", json=body))


async def generate(tenant: Tenant) -> dict[str, Any]:
    """Two days ago: four conversations (one self-served, one handed off by the bot, one by
    the customer, one left unsure) and an empty one; forty days ago one more. Three days ago:
    three tickets, one solved in time, one answered late, one waiting."""
    agent = make_person(tenant)
    team = make_team(tenant, "Support", [agent])
    web = make_channel(tenant, "web", team_id=team["id"])
    app = make_channel(tenant, "app")
    for name in ("billing", "bug"):
        ok(tenant.client.post("/api/v1/ticket-categories", json={"name": name}), 201)
    policy = {
        "name": "normal",
        "priority": "normal",
        "first_response_seconds": 3600,
        "resolution_seconds": 86400,
    }
    ok(tenant.client.post("/api/v1/sla-policies", json=policy), 201)
    me = str(agent.user_id)
    on_time = make_ticket(tenant, "Charged twice", category="billing", assignee_id=me)
    late = make_ticket(tenant, "App crashes", category="bug", assignee_id=me)
    waiting = make_ticket(tenant, "Button does nothing", category="bug")
    reply(agent, on_time, "Refunded the second charge.")
    solve(agent, on_time)
    reply(agent, late, "Fixed in version 2.1.")
    opened = days_ago(3)
    await move_ticket(on_time["id"], opened=opened, responded_after=1800, solved_after=7200)
    await move_ticket(late["id"], opened=opened, responded_after=7200)
    await move_ticket(waiting["id"], opened=opened)

    day = days_ago(2)
    async with activity(tenant) as act:
        await act.on_duty(agent)
        served = await act.story(web, await act.contact("Ann"), day)
        await served.ask(0, "How do I reset my password?")
        await served.rate(
            await served.bot(2, answer(Decision.DIRECT, question="x", entry_id=uuid.uuid4())),
            "helpful",
        )
        await served.finish()

        handed = await act.story(web, await act.contact("Bo"), day)
        await handed.ask(0, "Where is my refund?")
        await handed.rate(
            await handed.bot(2, answer(Decision.GROUNDED, question="x", entry_id=uuid.uuid4())),
            "not_helpful",
        )
        await handed.ask(30, "I still have not received the money")
        await handed.hand_off(32, "not_covered")
        await handed.take(40, agent)
        await handed.reply(92, agent, "The refund left us yesterday.")
        await handed.resolve(600, agent)
        await handed.finish()

        asked = await act.story(app, await act.contact("Chen"), day)
        await asked.ask(0, "我要投诉")
        await asked.ask(5, "转人工")  # the customer asks for a person
        await asked.take(10, agent)
        await asked.reply(305, agent, "您好，请讲。")
        await asked.resolve(1200, agent)
        await asked.finish()

        unsure = await act.story(web, await act.contact("Dee"), day)
        await unsure.ask(0, "pricing?")
        await unsure.bot(2, answer(Decision.CLARIFY, question="pricing?"))
        await unsure.finish()

        await (await act.story(web, await act.contact("Eve"), day)).finish()  # said nothing

        old = await act.story(web, await act.contact("Fay"), days_ago(40))
        await old.ask(0, "Opening hours?")
        await old.bot(1, answer(Decision.DIRECT, question="x", entry_id=uuid.uuid4()))
        await old.finish()
    return {"agent": agent, "team": team, "web": web, "app": app, "opened": opened, "day": day}


async def test_metrics_of_generated_activity(tenant: Tenant) -> None:
    made = await generate(tenant)
    report = ok(tenant.client.get("/api/v1/analytics/metrics"))
    s = report["summary"]
    assert (s["conversations"], s["deflected"], s["handed_off"], s["resolved"]) == (4, 1, 2, 2)
    assert (s["deflection_rate"], s["handoff_rate"]) == (0.25, 0.5)
    assert (s["direct"], s["grounded"], s["clarify"], s["handoff"]) == (1, 1, 1, 1)
    assert (s["helpful"], s["not_helpful"], s["csat"]) == (1, 1, 0.5)
    assert s["chat_first_response"] == {
        "count": 2,
        "mean_seconds": 180.0,
        "median_seconds": 180.0,
        "p90_seconds": 276.0,
    }
    assert s["chat_resolution"]["median_seconds"] == 900.0
    assert (s["tickets_created"], s["tickets_solved"], s["backlog"]) == (3, 1, 2)
    assert s["ticket_first_response"]["median_seconds"] == 4500.0
    assert s["ticket_resolution"]["median_seconds"] == 7200.0
    assert (s["sla_response_met"], s["sla_response_breached"]) == (1, 1)
    assert (s["sla_resolution_met"], s["sla_resolution_breached"]) == (1, 0)
    assert s["sla_attainment"] == 0.6667

    decisions = {d["decision"]: (d["count"], d["share"]) for d in report["decisions"]}
    assert decisions == {
        "direct": (1, 0.25),
        "grounded": (1, 0.25),
        "clarify": (1, 0.25),
        "handoff": (1, 0.25),
    }
    reasons = {r["reason"]: r["count"] for r in report["handoff_reasons"]}
    assert reasons == {"customer_asked": 1, "not_covered": 1}

    channels = {c["name"]: c for c in report["channels"]}
    assert channels["web"]["conversations"] == 3 and channels["web"]["deflected"] == 1
    assert channels["web"]["median_first_response_seconds"] == 60.0
    assert channels["app"]["conversations"] == 1 and channels["app"]["handoff_rate"] == 1.0
    teams = {t["name"]: t["conversations"] for t in report["teams"]}
    assert teams == {"Support": 3, "(none)": 1}

    categories = {c["category"]: c for c in report["categories"]}
    assert (categories["billing"]["tickets_solved"], categories["billing"]["sla_met"]) == (1, 2)
    assert (categories["bug"]["open_now"], categories["bug"]["sla_breached"]) == (2, 1)
    assert sum(b["count"] for b in report["backlog"]) == 2

    [agent] = report["agents"]
    assert agent["user_id"] == str(made["agent"].user_id)
    assert (agent["conversations_assigned"], agent["conversations_resolved"]) == (2, 2)
    assert (agent["chat_messages"], agent["median_first_response_seconds"]) == (2, 180.0)
    assert (agent["tickets_open"], agent["tickets_solved"], agent["ticket_replies"]) == (1, 1, 2)

    by_day = {row["bucket"]: row for row in report["series"]}
    assert len(by_day) == 30
    conversations_day = by_day[made["day"].date().isoformat()]
    assert (conversations_day["conversations"], conversations_day["handed_off"]) == (4, 2)
    tickets_day = by_day[made["opened"].date().isoformat()]
    assert (tickets_day["tickets_created"], tickets_day["tickets_solved"]) == (3, 1)
    assert tickets_day["backlog"] == 2
    before = by_day[(made["opened"] - timedelta(days=1)).date().isoformat()]
    assert before["backlog"] == 0


async def test_filters_narrow_every_figure(tenant: Tenant) -> None:
    made = await generate(tenant)

    def summary(**params: Any) -> Json:
        return dict(ok(tenant.client.get("/api/v1/analytics/metrics", params=params))["summary"])

    app = summary(channel_id=made["app"]["id"])
    assert (app["conversations"], app["handed_off"], app["tickets_created"]) == (1, 1, 0)
    support = summary(team_id=made["team"]["id"])
    assert (support["conversations"], support["deflected"]) == (3, 1)
    billing = summary(category="billing")
    assert (billing["tickets_created"], billing["backlog"], billing["conversations"]) == (1, 0, 0)

    long_ago = days_ago(40).date().isoformat()
    old = summary(start=long_ago, end=long_ago)
    assert (old["conversations"], old["deflected"], old["tickets_created"]) == (1, 1, 0)

    weekly = ok(
        tenant.client.get(
            "/api/v1/analytics/metrics", params={"interval": "week", "tz": "Asia/Shanghai"}
        )
    )
    assert sum(r["conversations"] for r in weekly["series"]) == 4
    assert all(
        r["bucket"] == weekly["series"][0]["bucket"]
        or date.fromisoformat(r["bucket"]).weekday() == 0
        for r in weekly["series"]
    )


async def test_every_table_exports_as_csv(tenant: Tenant) -> None:
    await generate(tenant)
    for table in (
        "summary",
        "series",
        "decisions",
        "handoff_reasons",
        "channels",
        "teams",
        "categories",
        "agents",
        "backlog",
        "gaps",
    ):
        r = tenant.client.get(f"/api/v1/analytics/export/{table}.csv")
        assert r.status_code == 200, (table, r.text)
        assert r.headers["content-type"].startswith("text/csv")
        assert (
            f'filename="{table if table != "gaps" else "knowledge-gaps"}.csv"'
            in (r.headers["content-disposition"])
        )
        assert r.text.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
        if table == "channels":
            assert sorted(row["name"] for row in rows) == ["app", "web"]
        if table == "summary":
            values = {row["metric"]: row["value"] for row in rows}
            assert values["conversations"] == "4"
            assert values["chat_first_response.median_seconds"] == "180.0"
    assert tenant.client.get("/api/v1/analytics/export/secrets.csv").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"tz": "Mars/Olympus"},
        {"start": "2026-02-01", "end": "2026-01-01"},
        {"start": "2000-01-01", "end": "2026-01-01"},
        {"start": "yesterday"},
        {"channel_id": "not-a-uuid"},
        {"interval": "hour"},
    ],
)
def test_filters_that_cannot_be_reported_are_refused(tenant: Tenant, params: Json) -> None:
    r = tenant.client.get("/api/v1/analytics/metrics", params=params)
    assert r.status_code == 422, r.text


def test_a_new_workspace_has_nothing_to_divide(tenant: Tenant) -> None:
    s = ok(tenant.client.get("/api/v1/analytics/metrics"))["summary"]
    assert s["conversations"] == 0 and s["deflection_rate"] is None and s["csat"] is None
    assert s["chat_first_response"] == {
        "count": 0,
        "mean_seconds": None,
        "median_seconds": None,
        "p90_seconds": None,
    }
