"""`knowdesk tickets …`: tickets, routing rules, SLA policies and classifier examples of a
running server, over its REST API (signed in like `knowdesk kb`).

Tickets are named by number (`#12` or `12`) or id. Changes read the ticket first and send the
version they read, so a change made meanwhile by someone else is reported, never overwritten.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from knowdesk.cli.kb import (
    DEFAULT_URL,
    ApiKeyOption,
    EmailOption,
    PasswordOption,
    UrlOption,
    WorkspaceOption,
    err,
    fail,
    out,
)
from knowdesk.client.errors import KnowdeskAPIError
from knowdesk.client.http import DEFAULT_TIMEOUT, ApiSession

tickets_app = typer.Typer(
    help="Tickets of a running knowdesk server: list, show, create, reply, change; routing "
    "rules, SLA policies and classifier examples.",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    help="Routing rules, applied in order to new tickets.", no_args_is_help=True
)
sla_app = typer.Typer(help="Service-level policies per priority.", no_args_is_help=True)
examples_app = typer.Typer(help="Labelled examples the classifier learns.", no_args_is_help=True)
tickets_app.add_typer(rules_app, name="rules")
tickets_app.add_typer(sla_app, name="sla")
tickets_app.add_typer(examples_app, name="examples")

TicketArgument = Annotated[str, typer.Argument(help="Ticket number (#12 or 12) or id.")]
_DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@contextmanager
def connected(
    url: str, api_key: str | None, email: str | None, password: str | None, workspace: str | None
) -> Iterator[ApiSession]:
    """A signed-in API session; API errors and unreachable servers end the command with 1."""
    if not api_key and not email:
        raise fail("give --api-key or --email (or set KNOWDESK_API_KEY or KNOWDESK_EMAIL)")
    api = ApiSession(url, api_key=api_key, token=None, workspace=workspace, timeout=DEFAULT_TIMEOUT)
    try:
        if not api_key:
            secret = password or typer.prompt(f"Password for {email}", hide_input=True)
            login = {"email": email, "password": secret}
            api.use_token(api.request("POST", "/api/v1/auth/login", json=login).json()["token"])
        yield api
    except KnowdeskAPIError as exc:
        raise fail(f"{exc.message} ({exc.status})") from None
    except httpx.TransportError as exc:
        raise fail(f"cannot reach {url}: {exc}") from None
    finally:
        api.close()


def seconds(value: str) -> int:
    """`90`, `90s`, `15m`, `4h`, `2d` → seconds."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise typer.BadParameter(f"{value!r}: use a number with s, m, h or d (e.g. 4h)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def find_ticket(api: ApiSession, ref: str) -> dict[str, Any]:
    text = ref.strip().lstrip("#")
    if text.isdigit():
        found = api.request("GET", "/api/v1/tickets", params={"number": int(text)}).json()
        if not found:
            raise fail(f"no ticket #{text}")
        text = found[0]["id"]
    try:
        ticket_id = uuid.UUID(text)
    except ValueError:
        raise fail(f"{ref!r} is neither a ticket number nor an id") from None
    return dict(api.request("GET", f"/api/v1/tickets/{ticket_id}").json())


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table("#", "status", "priority", "category", "subject", "updated", box=None)
    for t in rows:
        table.add_row(
            str(t["number"]),
            t["status"],
            t["priority"],
            t["category"] or ("(triage)" if t["needs_triage"] else ""),
            t["subject"],
            t["updated_at"][:16].replace("T", " "),
        )
    return table


@tickets_app.command("list")
def list_tickets(
    status: Annotated[list[str] | None, typer.Option(help="new, open, pending, …")] = None,
    priority: Annotated[str | None, typer.Option()] = None,
    team: Annotated[str | None, typer.Option(help="Team id.")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Words")] = None,
    breached: Annotated[bool, typer.Option(help="Only tickets past an SLA target.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Tickets, most recently changed first."""
    params: dict[str, Any] = {"limit": limit, "status": status or []}
    for name, value in (("priority", priority), ("team_id", team), ("q", search)):
        if value:
            params[name] = value
    if breached:
        params["breached"] = True
    with connected(url, api_key, email, password, workspace) as api:
        rows = api.request("GET", "/api/v1/tickets", params=params).json()
    out.print(_table(rows))
    out.print(f"{len(rows)} tickets")


@tickets_app.command("show")
def show(
    ticket: TicketArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A ticket with its thread (notes marked as such)."""
    with connected(url, api_key, email, password, workspace) as api:
        t = find_ticket(api, ticket)
    out.print(f"#{t['number']} {t['subject']}", markup=False)
    out.print(
        f"status {t['status']} · priority {t['priority']} · category {t['category'] or '-'} · "
        f"version {t['version']} · id {t['id']}"
    )
    for label, key in (
        ("first response due", "first_response_due_at"),
        ("resolution due", "resolution_due_at"),
    ):
        if t[key]:
            out.print(f"{label}: {t[key]}")
    out.print()
    out.print(t["description"], markup=False)
    for c in t["comments"]:
        kind = "reply" if c["public"] else "NOTE"
        out.print(
            f"\n--- {kind} by {c['author_name'] or c['author_kind']} at {c['created_at'][:16]}"
        )
        out.print(c["body"], markup=False)


@tickets_app.command("create")
def create(
    subject: Annotated[str, typer.Option(help="One line.")],
    description: Annotated[str, typer.Option()] = "",
    requester: Annotated[str | None, typer.Option(help="The customer's e-mail.")] = None,
    priority: Annotated[str | None, typer.Option(help="Unset: assessed from the text.")] = None,
    category: Annotated[str | None, typer.Option(help="Unset: predicted.")] = None,
    team: Annotated[str | None, typer.Option(help="Team id (unset: routing decides).")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Open a ticket; prints its number."""
    body: dict[str, Any] = {"subject": subject, "description": description}
    if requester:
        body["requester"] = {"email": requester}
    for name, value in (("priority", priority), ("category", category), ("team_id", team)):
        if value:
            body[name] = value
    with connected(url, api_key, email, password, workspace) as api:
        t = api.request("POST", "/api/v1/tickets", json=body).json()
    out.print(f"#{t['number']} {t['status']} {t['priority']} {t['category'] or ''} {t['id']}")


@tickets_app.command("reply")
def reply(
    ticket: TicketArgument,
    text: Annotated[str, typer.Argument(help="What to write.")],
    note: Annotated[bool, typer.Option(help="An internal note instead of a reply.")] = False,
    status: Annotated[str | None, typer.Option(help="Also move the ticket (e.g. pending).")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer the customer (or, with --note, write for colleagues only)."""
    with connected(url, api_key, email, password, workspace) as api:
        t = find_ticket(api, ticket)
        body: dict[str, Any] = {"body": text, "public": not note}
        if status:
            body |= {"status": status, "version": t["version"]}
        api.request("POST", f"/api/v1/tickets/{t['id']}/comments", json=body)
    out.print(f"#{t['number']}: {'note' if note else 'reply'} added")


@tickets_app.command("set")
def set_fields(
    ticket: TicketArgument,
    status: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    team: Annotated[str | None, typer.Option(help="Team id.")] = None,
    assignee: Annotated[str | None, typer.Option(help="User id.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Replace the tags (repeat).")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Change fields of a ticket (refused if someone changed it since it was read)."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("status", status),
            ("priority", priority),
            ("category", category),
            ("team_id", team),
            ("assignee_id", assignee),
            ("tags", tag),
        )
        if value is not None
    }
    if not changes:
        raise fail("nothing to change: give --status, --priority, --category, --team, …")
    with connected(url, api_key, email, password, workspace) as api:
        t = find_ticket(api, ticket)
        body = {"version": t["version"], **changes}
        changed = api.request("PATCH", f"/api/v1/tickets/{t['id']}", json=body).json()
    out.print(f"#{changed['number']}: version {changed['version']}, status {changed['status']}")


# -- rules ---------------------------------------------------------------------------------------


@rules_app.command("list")
def list_rules(
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The rules in the order they run."""
    with connected(url, api_key, email, password, workspace) as api:
        rules = api.request("GET", "/api/v1/ticket-rules").json()
    for r in rules:
        conditions = " and ".join(
            f"{c['field']} {c['op']} {c.get('value')!r}" for c in r["conditions"]
        )
        actions = {k: r[k] for k in ("team_id", "assignee_id", "priority", "tags") if r[k]}
        flag = "" if r["enabled"] else " (off)"
        out.print(
            f"{r['position']}. {r['name']}{flag}: if {conditions or 'always'} → {actions}",
            markup=False,
        )


@rules_app.command("add")
def add_rule(
    rule_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A JSON rule, as the API takes.")
    ],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a rule; refused with the reason when it is unknown, contradictory or cyclic."""
    try:
        body = json.loads(rule_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{rule_file}: {exc}") from None
    with connected(url, api_key, email, password, workspace) as api:
        rule = api.request("POST", "/api/v1/ticket-rules", json=body).json()
    out.print(f"rule {rule['name']!r} added at position {rule['position']} ({rule['id']})")


@rules_app.command("remove")
def remove_rule(
    rule_id: Annotated[uuid.UUID, typer.Argument(help="The rule's id.")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    with connected(url, api_key, email, password, workspace) as api:
        api.request("DELETE", f"/api/v1/ticket-rules/{rule_id}")
    out.print("rule removed")


# -- SLA -----------------------------------------------------------------------------------------


@sla_app.command("list")
def list_policies(
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    with connected(url, api_key, email, password, workspace) as api:
        policies = api.request("GET", "/api/v1/sla-policies").json()
    for p in sorted(policies, key=lambda p: p["priority"]):
        out.print(
            f"{p['priority']}: first response {p['first_response_seconds']} s, resolution "
            f"{p['resolution_seconds']} s, warn {p['warn_before_seconds']} s before"
        )


@sla_app.command("set")
def set_policy(
    priority: Annotated[str, typer.Argument(help="low, normal, high or urgent.")],
    first_response: Annotated[str | None, typer.Option(help="e.g. 4h")] = None,
    resolution: Annotated[str | None, typer.Option(help="e.g. 2d")] = None,
    warn_before: Annotated[str, typer.Option(help="e.g. 30m")] = "0",
    calendar: Annotated[str | None, typer.Option(help="Calendar id (unset: 24/7).")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Create or replace the policy of one priority."""
    body = {
        "name": f"{priority} targets",
        "priority": priority,
        "first_response_seconds": seconds(first_response) if first_response else None,
        "resolution_seconds": seconds(resolution) if resolution else None,
        "warn_before_seconds": seconds(warn_before),
        "calendar_id": calendar,
    }
    with connected(url, api_key, email, password, workspace) as api:
        existing = [
            p
            for p in api.request("GET", "/api/v1/sla-policies").json()
            if p["priority"] == priority
        ]
        if existing:
            api.request("PUT", f"/api/v1/sla-policies/{existing[0]['id']}", json=body)
        else:
            api.request("POST", "/api/v1/sla-policies", json=body)
    out.print(f"{priority}: policy {'replaced' if existing else 'created'}")


# -- examples ------------------------------------------------------------------------------------


def read_examples(path: Path) -> list[dict[str, str]]:
    """`text,category` rows from CSV (with a header) or JSON lines."""
    text = path.read_text("utf-8-sig")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        rows = list(csv.DictReader(text.splitlines()))
    examples = []
    for number, row in enumerate(rows, start=1):
        if not str(row.get("text", "")).strip() or not str(row.get("category", "")).strip():
            raise fail(f"{path}: row {number} needs text and category")
        examples.append({"text": str(row["text"]), "category": str(row["category"])})
    return examples


@examples_app.command("import")
def import_examples(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .jsonl")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add labelled examples (columns text, category; "oos" for out of scope); the server
    retrains the classifier in the background."""
    try:
        examples = read_examples(path)
    except (OSError, ValueError, csv.Error) as exc:
        raise fail(f"{path}: {exc}") from None
    with connected(url, api_key, email, password, workspace) as api:
        added = api.request("POST", "/api/v1/ticket-examples", json={"examples": examples}).json()
    out.print(f"{len(added)} examples added; the classifier retrains in the background")


@examples_app.command("status")
def classifier_status(
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Whether a classifier is trained, on what, and how many examples came since."""
    with connected(url, api_key, email, password, workspace) as api:
        status = api.request("GET", "/api/v1/ticket-classifier").json()
    if not status["trained"]:
        err.print(f"not trained yet ({status['pending_examples']} examples)")
        return
    out.print(
        f"trained {status['trained_at'][:19]} on {status['example_count']} examples: "
        f"{', '.join(status['categories'])}; {status['pending_examples']} new since"
    )


@examples_app.command("train")
def train(
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Retrain the classifier now (a background job)."""
    with connected(url, api_key, email, password, workspace) as api:
        api.request("POST", "/api/v1/ticket-classifier/train")
    out.print("training queued")


# -- escalation and merging ------------------------------------------------------------------


@tickets_app.command("escalate")
def escalate(
    ticket: TicketArgument,
    reason: Annotated[str, typer.Option(help="Why; kept in the history.")] = "by hand",
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """One priority up and to the escalation team."""
    with connected(url, api_key, email, password, workspace) as api:
        t = find_ticket(api, ticket)
        body = {"version": t["version"], "reason": reason}
        up = api.request("POST", f"/api/v1/tickets/{t['id']}/escalate", json=body).json()
    out.print(f"#{up['number']}: priority {up['priority']}, level {up['escalation_level']}")


@tickets_app.command("merge")
def merge(
    ticket: TicketArgument,
    into: Annotated[str, typer.Option(help="The ticket that goes on (number or id).")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Merge a duplicate into another ticket (its thread moves; it is closed)."""
    with connected(url, api_key, email, password, workspace) as api:
        source, target = find_ticket(api, ticket), find_ticket(api, into)
        body = {"into_ticket_id": target["id"], "version": source["version"]}
        api.request("POST", f"/api/v1/tickets/{source['id']}/merge", json=body)
    out.print(f"#{source['number']} merged into #{target['number']}")


# -- setup: categories, calendars, teams, skills -----------------------------------------------


@tickets_app.command("categories")
def categories(
    add: Annotated[str | None, typer.Option(help="Add a category with this name.")] = None,
    team: Annotated[str | None, typer.Option(help="Its team id.")] = None,
    creates_ticket: Annotated[
        bool, typer.Option(help="A chat message of this category opens a ticket.")
    ] = False,
    skill: Annotated[list[str] | None, typer.Option(help="Skills it needs (repeat).")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """List the categories, or add one with --add."""
    with connected(url, api_key, email, password, workspace) as api:
        if add:
            body = {
                "name": add,
                "team_id": team,
                "creates_ticket": creates_ticket,
                "skills": skill or [],
            }
            api.request("POST", "/api/v1/ticket-categories", json=body)
        rows = api.request("GET", "/api/v1/ticket-categories").json()
    for c in rows:
        opens = " (opens tickets)" if c["creates_ticket"] else ""
        out.print(f"{c['name']}{opens}: team {c['team_id'] or '-'}, skills {c['skills']}")


@tickets_app.command("calendar")
def add_calendar(
    calendar_file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help='JSON: {"name", "timezone", "weekly": {"mon": [["09:00", "18:00"]]}, '
            '"holidays": ["2026-10-01"]}',
        ),
    ],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a business-hours calendar; prints its id for `sla set --calendar`."""
    try:
        body = json.loads(calendar_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"{calendar_file}: {exc}") from None
    with connected(url, api_key, email, password, workspace) as api:
        calendar = api.request("POST", "/api/v1/sla-calendars", json=body).json()
    out.print(f"calendar {calendar['name']!r}: {calendar['id']}")


@tickets_app.command("team")
def team_settings(
    team_id: Annotated[uuid.UUID, typer.Argument(help="The team's id.")],
    strategy: Annotated[
        str, typer.Option(help="round_robin, least_loaded, skills or manual.")
    ] = "round_robin",
    max_open: Annotated[int | None, typer.Option(help="Skip agents with this many.")] = None,
    escalate_to: Annotated[str | None, typer.Option(help="Escalation team id.")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """How a team's tickets are assigned, and where they escalate."""
    body = {"strategy": strategy, "max_open_per_agent": max_open, "escalation_team_id": escalate_to}
    with connected(url, api_key, email, password, workspace) as api:
        api.request("PUT", f"/api/v1/ticket-teams/{team_id}", json=body)
    out.print(f"team {team_id}: {strategy}")


@tickets_app.command("skills")
def skills(
    user_id: Annotated[uuid.UUID, typer.Argument(help="The agent's user id.")],
    names: Annotated[list[str], typer.Argument(help="Their skills (replaces the old ones).")],
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Set an agent's skills, for teams that assign by skills."""
    with connected(url, api_key, email, password, workspace) as api:
        row = api.request(
            "PUT", f"/api/v1/ticket-agents/{user_id}/skills", json={"skills": names}
        ).json()
    out.print(f"{user_id}: {', '.join(row['skills'])}")
