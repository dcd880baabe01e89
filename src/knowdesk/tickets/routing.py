"""Routing rules and assignment strategies, as pure functions.

A rule is conditions (all must hold) on a ticket's facts and actions that set its team,
assignee, priority or add tags. Rules run once, in their order; a later rule sees what earlier
ones set, and one marked `stop` ends the run. Facts are a flat dict: `category`, `channel`,
`language`, `priority`, `team`, `intent`, `subject`, `tags`, and the customer's attributes as
`contact.<name>` (plus `contact.email`).

A rule set is refused when it cannot mean what its author thinks:
- *contradictory*: one rule's conditions can never all hold, or two rules with the same
  conditions set the same field to different values (the later silently wins);
- *cyclic*: rule A sets what rule B tests and B sets what A tests, so their meaning depends on
  an order the author did not intend (and re-running them would never settle).
Unknown teams and assignees are checked by the service, which knows the workspace.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

Operator = Literal["eq", "neq", "in", "not_in", "contains", "not_contains", "gte", "lte", "exists"]
OPERATORS: tuple[str, ...] = get_args(Operator)
FIXED_FIELDS = ("category", "channel", "language", "priority", "team", "intent", "subject", "tags")
CONTACT_PREFIX = "contact."
# Fields that actions write, and so that a later rule may read.
WRITTEN = {"team_id": "team", "assignee_id": "assignee", "priority": "priority", "tags": "tags"}


def valid_field(name: str) -> bool:
    return name in FIXED_FIELDS or (name.startswith(CONTACT_PREFIX) and len(name) > 8)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def holds(self, facts: Mapping[str, Any]) -> bool:
        actual = facts.get(self.field)
        if self.op == "exists":
            return actual not in (None, "", [])
        if isinstance(actual, list):  # tags: a list holds a value when it contains it
            return _list_holds(self.op, actual, self.value)
        return _scalar_holds(self.op, actual, self.value)


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _list_holds(op: str, actual: list[Any], value: Any) -> bool:
    items = {_norm(v) for v in actual}
    wanted = {_norm(v) for v in value} if isinstance(value, list) else {_norm(value)}
    if op in ("eq", "contains", "in"):
        return bool(items & wanted)
    if op in ("neq", "not_contains", "not_in"):
        return not items & wanted
    return False


def _scalar_holds(op: str, actual: Any, value: Any) -> bool:
    a, v = _norm(actual), _norm(value)
    if op == "eq":
        return bool(a == v)
    if op == "neq":
        return bool(a != v)
    if op == "in":
        return a in {_norm(x) for x in value}
    if op == "not_in":
        return a not in {_norm(x) for x in value}
    if op == "contains":
        return isinstance(a, str) and isinstance(v, str) and v in a
    if op == "not_contains":
        return not (isinstance(a, str) and isinstance(v, str) and v in a)
    try:
        if op == "gte":
            return actual is not None and float(actual) >= float(value)
        if op == "lte":
            return actual is not None and float(actual) <= float(value)
    except (TypeError, ValueError):
        return False
    return False


@dataclass(frozen=True)
class Actions:
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()

    def writes(self) -> dict[str, Any]:
        """The facts these actions set: {fact name: value}."""
        out: dict[str, Any] = {}
        if self.team_id is not None:
            out["team"] = str(self.team_id)
        if self.assignee_id is not None:
            out["assignee"] = str(self.assignee_id)
        if self.priority is not None:
            out["priority"] = self.priority
        if self.tags:
            out["tags"] = list(self.tags)
        return out


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    actions: Actions
    stop: bool = False
    id: uuid.UUID | None = None

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.conditions)


@dataclass
class Outcome:
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # names of the rules that applied


def apply_rules(rules: Sequence[Rule], facts: Mapping[str, Any]) -> Outcome:
    """Run `rules` in order over `facts`; what the matching ones set, later ones winning."""
    seen = dict(facts)
    seen["tags"] = list(facts.get("tags") or [])
    outcome = Outcome()
    for rule in rules:
        if not rule.matches(seen):
            continue
        actions = rule.actions
        outcome.matched.append(rule.name)
        if actions.team_id is not None:
            outcome.team_id = actions.team_id
        if actions.assignee_id is not None:
            outcome.assignee_id = actions.assignee_id
        if actions.priority is not None:
            outcome.priority = actions.priority
        for tag in actions.tags:
            if tag not in outcome.tags:
                outcome.tags.append(tag)
            if tag not in seen["tags"]:
                seen["tags"].append(tag)
        seen.update({k: v for k, v in actions.writes().items() if k != "tags"})
        if rule.stop:
            break
    return outcome


# -- validation ---------------------------------------------------------------------------------


def _contradiction(a: Condition, b: Condition) -> bool:
    """Whether two conditions on the same scalar field can never both hold."""
    if a.op == "eq" and b.op == "eq":
        return bool(_norm(a.value) != _norm(b.value))
    if a.op == "eq" and b.op in ("neq", "not_in", "in"):
        values = {_norm(x) for x in b.value} if isinstance(b.value, list) else {_norm(b.value)}
        return (_norm(a.value) in values) == (b.op != "in")
    if a.op == "in" and b.op == "in":
        return not {_norm(x) for x in a.value} & {_norm(x) for x in b.value}
    if a.op == "gte" and b.op == "lte":
        try:
            return float(a.value) > float(b.value)
        except (TypeError, ValueError):
            return False
    return False


def impossible_conditions(rule: Rule) -> str | None:
    """Why a rule's conditions can never all hold, or None."""
    for i, a in enumerate(rule.conditions):
        for b in rule.conditions[i + 1 :]:
            if a.field != b.field or a.field == "tags":
                continue
            if _contradiction(a, b) or _contradiction(b, a):
                return f"rule {rule.name!r}: conditions on {a.field!r} can never both hold"
    return None


def _could_satisfy(condition: Condition, value: Any) -> bool:
    """Whether a fact set to `value` by an action could make `condition` hold."""
    if condition.field == "tags":
        return condition.op in ("eq", "in", "contains", "exists") and Condition(
            "tags", condition.op, condition.value
        ).holds({"tags": value})
    return Condition(condition.field, condition.op, condition.value).holds({condition.field: value})


def _triggers(a: Rule, b: Rule) -> bool:
    """Whether what rule `a` sets can make one of rule `b`'s conditions hold."""
    written = a.actions.writes()
    return any(c.field in written and _could_satisfy(c, written[c.field]) for c in b.conditions)


def find_cycle(rules: Sequence[Rule]) -> list[str] | None:
    """Names of rules that trigger each other in a loop (A → B → … → A), or None."""
    edges = {
        i: [j for j, b in enumerate(rules) if i != j and _triggers(a, b)]
        for i, a in enumerate(rules)
    }
    state = dict.fromkeys(edges, 0)  # 0 unseen, 1 on the path, 2 done
    path: list[int] = []

    def visit(node: int) -> list[int] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges[node]:
            if state[nxt] == 1:
                return path[path.index(nxt) :] + [nxt]
            if state[nxt] == 0 and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in edges:
        if state[start] == 0 and (cycle := visit(start)):
            return [rules[i].name for i in cycle]
    return None


def _condition_key(rule: Rule) -> frozenset[tuple[str, str, str]]:
    return frozenset((c.field, c.op, repr(_norm(c.value))) for c in rule.conditions)


def conflicting_pairs(rules: Sequence[Rule]) -> list[str]:
    """Rules with the same conditions that set one field to different values."""
    problems = []
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if _condition_key(a) != _condition_key(b) or a.stop:
                continue
            wa, wb = a.actions.writes(), b.actions.writes()
            for name in sorted(set(wa) & set(wb) - {"tags"}):
                if wa[name] != wb[name]:
                    problems.append(
                        f"rules {a.name!r} and {b.name!r} have the same conditions but set "
                        f"{name} to different values"
                    )
    return problems


def rule_set_problems(rules: Sequence[Rule]) -> list[str]:
    """Everything that makes a rule set contradictory or cyclic (empty: it is sound)."""
    problems = [p for p in (impossible_conditions(r) for r in rules) if p]
    problems += conflicting_pairs(rules)
    cycle = find_cycle(rules)
    if cycle:
        problems.append("rules trigger each other in a loop: " + " → ".join(cycle))
    return problems


# -- assignment ---------------------------------------------------------------------------------


class Strategy(enum.StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    SKILLS = "skills"
    MANUAL = "manual"  # tickets wait in the team's queue for someone to take them


@dataclass(frozen=True)
class AgentLoad:
    user_id: uuid.UUID
    open_tickets: int
    skills: frozenset[str] = frozenset()
    last_assigned_at: datetime | None = None


def _least_loaded(agents: Sequence[AgentLoad]) -> AgentLoad:
    return min(
        agents,
        key=lambda a: (
            a.open_tickets,
            a.last_assigned_at.timestamp() if a.last_assigned_at else float("-inf"),
            a.user_id,
        ),
    )


def choose_assignee(
    agents: Sequence[AgentLoad],
    strategy: Strategy,
    *,
    last_assigned_user_id: uuid.UUID | None = None,
    required_skills: frozenset[str] = frozenset(),
    max_open: int | None = None,
) -> uuid.UUID | None:
    """Who of a team's `agents` gets the next ticket, or None (nobody fits: it waits).

    Round robin walks the agents in a fixed order (by id) after the previous one; least loaded
    takes the fewest open tickets (ties: longest since an assignment); skills keeps the agents
    who have every required skill, then takes the least loaded of them. Agents at `max_open`
    open tickets are skipped.
    """
    free = sorted(
        (a for a in agents if max_open is None or a.open_tickets < max_open),
        key=lambda a: a.user_id,
    )
    if not free or strategy == Strategy.MANUAL:
        return None
    if strategy == Strategy.ROUND_ROBIN:
        after = [a for a in free if last_assigned_user_id and a.user_id > last_assigned_user_id]
        return (after or free)[0].user_id
    if strategy == Strategy.SKILLS:
        wanted = {s.casefold() for s in required_skills}
        free = [a for a in free if wanted <= {s.casefold() for s in a.skills}]
        if not free:
            return None
    return _least_loaded(free).user_id
