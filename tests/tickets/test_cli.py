"""The real `knowdesk tickets` command line against the session's server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowdesk.cli.tickets import seconds
from tests.cli.helpers import knowdesk
from tests.conftest import Tenant
from tests.tickets.helpers import make_ticket, ok, patch


def env_of(tenant: Tenant, base_url: str) -> dict[str, str]:
    return {
        "KNOWDESK_URL": base_url,
        "KNOWDESK_EMAIL": tenant.owner_email,
        "KNOWDESK_PASSWORD": tenant.password,
    }


def test_create_reply_set_show_and_list(tenant: Tenant, base_url: str) -> None:
    env = env_of(tenant, base_url)
    made = knowdesk(
        "tickets",
        "create",
        "--subject",
        "Scanner offline",
        "--requester",
        "d@example.com",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    number = made.stdout.split()[0]
    assert number.startswith("#")

    replied = knowdesk(
        "tickets", "reply", number, "Is it plugged in?", "--status", "pending", env=env
    )
    assert replied.returncode == 0, replied.stderr
    noted = knowdesk("tickets", "reply", number, "probably the cable", "--note", env=env)
    assert noted.returncode == 0, noted.stderr
    changed = knowdesk("tickets", "set", number, "--priority", "high", "--tag", "hw", env=env)
    assert changed.returncode == 0 and "version 3" in changed.stdout, changed.stderr

    shown = knowdesk("tickets", "show", number, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Scanner offline" in shown.stdout and "status pending" in shown.stdout
    assert "--- reply" in shown.stdout and "--- NOTE" in shown.stdout

    listed = knowdesk("tickets", "list", "--status", "pending", env=env)
    assert (
        listed.returncode == 0
        and "Scanner offline" in listed.stdout
        and "1 tickets" in listed.stdout
    )
    missing = knowdesk("tickets", "show", "#99999", env=env)
    assert missing.returncode == 1 and "no ticket #99999" in missing.stderr


def test_stale_changes_and_bad_rules_are_reported(
    tenant: Tenant, base_url: str, tmp_path: Path
) -> None:
    env = env_of(tenant, base_url)
    ticket = make_ticket(tenant.client)
    ok(patch(tenant.client, ticket, subject="changed meanwhile"))
    # The CLI reads the current version itself, so it succeeds where a stale client fails.
    assert (
        knowdesk("tickets", "set", str(ticket["number"]), "--status", "open", env=env).returncode
        == 0
    )

    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"name": "r", "team_id": "00000000-0000-0000-0000-000000000009"}))
    refused = knowdesk("tickets", "rules", "add", rule, env=env)
    assert refused.returncode == 1 and "Unknown team" in refused.stderr

    policy = knowdesk(
        "tickets", "sla", "set", "urgent", "--first-response", "30m", "--resolution", "4h", env=env
    )
    assert policy.returncode == 0, policy.stderr
    listed = knowdesk("tickets", "sla", "list", env=env)
    assert "urgent: first response 1800 s, resolution 14400 s" in listed.stdout

    examples = tmp_path / "examples.csv"
    examples.write_text("text,category\nwhere is my parcel,nope\n")
    bad = knowdesk("tickets", "examples", "import", examples, env=env)
    assert bad.returncode == 1 and "nope" in bad.stderr


@pytest.mark.parametrize(
    ("text", "value"), [("90", 90), ("15m", 900), ("4h", 14400), ("2d", 172800)]
)
def test_durations(text: str, value: int) -> None:
    assert seconds(text) == value


def test_setup_escalate_and_merge(tenant: Tenant, base_url: str, tmp_path: Path) -> None:
    env = env_of(tenant, base_url)
    agent_id = ok(tenant.member("agent").get("/api/v1/me"))["user"]["id"]
    team = ok(
        tenant.client.post("/api/v1/chat/teams", json={"name": "tier2", "member_ids": [agent_id]}),
        201,
    )["id"]
    assert knowdesk("tickets", "team", team, "--strategy", "skills", env=env).returncode == 0
    assert ok(tenant.client.get(f"/api/v1/ticket-teams/{team}"))["strategy"] == "skills"
    set_skills = knowdesk("tickets", "skills", agent_id, "Billing", "zh", env=env)
    assert set_skills.returncode == 0 and "billing, zh" in set_skills.stdout
    added = knowdesk(
        "tickets",
        "categories",
        "--add",
        "refund",
        "--team",
        team,
        "--creates-ticket",
        "--skill",
        "billing",
        env=env,
    )
    assert added.returncode == 0 and "refund (opens tickets)" in added.stdout, added.stderr
    calendar = tmp_path / "office.json"
    calendar.write_text(json.dumps({"name": "office", "weekly": {"mon": [["09:00", "17:00"]]}}))
    made = knowdesk("tickets", "calendar", calendar, env=env)
    assert made.returncode == 0 and "calendar 'office'" in made.stdout, made.stderr

    refund = make_ticket(tenant.client, category="refund")
    assert refund["assignee_id"] == agent_id
    up = knowdesk("tickets", "escalate", str(refund["number"]), "--reason", "angry", env=env)
    assert up.returncode == 0 and "priority high, level 1" in up.stdout, up.stderr
    dup = make_ticket(tenant.client)
    merged = knowdesk(
        "tickets", "merge", str(dup["number"]), "--into", str(refund["number"]), env=env
    )
    assert merged.returncode == 0, merged.stderr
    assert ok(tenant.client.get(f"/api/v1/tickets/{dup['id']}"))["status"] == "closed"
