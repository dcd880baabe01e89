"""Routing rules (order, stop, validation) and assignment strategies, as pure functions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from knowdesk.tickets.routing import (
    Actions,
    AgentLoad,
    Condition,
    Rule,
    Strategy,
    apply_rules,
    choose_assignee,
    find_cycle,
    rule_set_problems,
)

BILLING, VIP_DESK, SUPPORT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def rule(name: str, *conditions: Condition, stop: bool = False, **actions: object) -> Rule:
    return Rule(name, tuple(conditions), Actions(**actions), stop=stop)  # type: ignore[arg-type]


def test_rules_apply_in_order_and_later_ones_see_earlier_results() -> None:
    rules = [
        rule("refunds to billing", Condition("category", "eq", "refund"), team_id=BILLING),
        rule("vip first", Condition("contact.tier", "in", ["vip", "gold"]), priority="high"),
        rule(
            "billing vip",
            Condition("team", "eq", str(BILLING)),
            Condition("priority", "eq", "high"),
            tags=("vip-billing",),
        ),
    ]
    outcome = apply_rules(
        rules, {"category": "Refund", "contact.tier": "VIP", "priority": "normal"}
    )
    assert outcome.team_id == BILLING and outcome.priority == "high"
    assert outcome.tags == ["vip-billing"]
    assert outcome.matched == ["refunds to billing", "vip first", "billing vip"]


def test_a_later_rule_wins_and_stop_ends_the_run() -> None:
    rules = [
        rule("all to support", team_id=SUPPORT),
        rule("chinese to vip desk", Condition("language", "eq", "zh"), team_id=VIP_DESK, stop=True),
        rule("never reached for zh", tags=("late",)),
    ]
    assert apply_rules(rules, {"language": "zh"}).team_id == VIP_DESK
    assert apply_rules(rules, {"language": "zh"}).tags == []
    english = apply_rules(rules, {"language": "en"})
    assert english.team_id == SUPPORT and english.tags == ["late"]


def test_operators() -> None:
    facts = {"subject": "Refund for order 42", "contact.spend": 1200, "tags": ["a", "b"]}
    assert Condition("subject", "contains", "refund").holds(facts)
    assert Condition("subject", "not_contains", "bug").holds(facts)
    assert Condition("contact.spend", "gte", 1000).holds(facts)
    assert not Condition("contact.spend", "lte", 1000).holds(facts)
    assert Condition("tags", "contains", "b").holds(facts)
    assert Condition("tags", "not_in", ["c"]).holds(facts)
    assert not Condition("channel", "exists").holds(facts)
    assert not Condition("contact.missing", "gte", 1).holds(facts)


def test_contradictory_conditions_in_one_rule() -> None:
    bad = rule(
        "impossible",
        Condition("category", "eq", "refund"),
        Condition("category", "eq", "bug"),
        team_id=BILLING,
    )
    problems = rule_set_problems([bad])
    assert problems and "can never both hold" in problems[0]
    also_bad = rule(
        "in and not",
        Condition("language", "eq", "zh"),
        Condition("language", "neq", "zh"),
        team_id=BILLING,
    )
    assert rule_set_problems([also_bad])
    assert rule_set_problems(
        [
            rule(
                "range",
                Condition("contact.spend", "gte", 10),
                Condition("contact.spend", "lte", 5),
                team_id=BILLING,
            )
        ]
    )


def test_same_conditions_different_teams_contradict() -> None:
    a = rule("a", Condition("category", "eq", "refund"), team_id=BILLING)
    b = rule("b", Condition("category", "eq", "refund"), team_id=SUPPORT)
    problems = rule_set_problems([a, b])
    assert problems and "'a' and 'b'" in problems[0]
    # With `stop` the first one ends the run: the second is for other tickets, no contradiction.
    a_stops = rule("a", Condition("category", "eq", "refund"), team_id=BILLING, stop=True)
    assert rule_set_problems([a_stops, b]) == []


def test_rules_that_trigger_each_other_are_a_cycle() -> None:
    to_billing = rule("urgent to billing", Condition("priority", "eq", "urgent"), team_id=BILLING)
    billing_urgent = rule(
        "billing is urgent", Condition("team", "eq", str(BILLING)), priority="urgent"
    )
    assert find_cycle([to_billing, billing_urgent]) == [
        "urgent to billing",
        "billing is urgent",
        "urgent to billing",
    ]
    assert rule_set_problems([to_billing, billing_urgent])
    # A chain is fine: setting a value the other rule does not test for is no edge.
    billing_high = rule("billing is high", Condition("team", "eq", str(SUPPORT)), priority="high")
    assert find_cycle([to_billing, billing_high]) is None


def agents(*loads: int) -> list[AgentLoad]:
    ids = sorted(uuid.uuid4() for _ in loads)
    return [AgentLoad(i, load) for i, load in zip(ids, loads, strict=True)]


def test_round_robin_walks_the_team_in_turn() -> None:
    team = agents(5, 0, 9)
    picks, last = [], None
    for _ in range(4):
        last = choose_assignee(team, Strategy.ROUND_ROBIN, last_assigned_user_id=last)
        picks.append(last)
    assert picks == [team[0].user_id, team[1].user_id, team[2].user_id, team[0].user_id]


def test_least_loaded_takes_the_fewest_open_tickets_then_the_longest_idle() -> None:
    team = agents(3, 1, 1)
    now = datetime.now(UTC)
    team[1] = AgentLoad(team[1].user_id, 1, last_assigned_at=now)
    team[2] = AgentLoad(team[2].user_id, 1, last_assigned_at=now - timedelta(hours=1))
    assert choose_assignee(team, Strategy.LEAST_LOADED) == team[2].user_id


def test_skills_keeps_only_agents_with_every_skill() -> None:
    a, b, c = agents(0, 4, 2)
    team = [
        AgentLoad(a.user_id, 0, frozenset({"english"})),
        AgentLoad(b.user_id, 4, frozenset({"billing", "chinese"})),
        AgentLoad(c.user_id, 2, frozenset({"Billing", "chinese", "english"})),
    ]
    chosen = choose_assignee(
        team, Strategy.SKILLS, required_skills=frozenset({"billing", "chinese"})
    )
    assert chosen == c.user_id
    assert choose_assignee(team, Strategy.SKILLS, required_skills=frozenset({"legal"})) is None


def test_full_agents_and_manual_teams_get_nothing() -> None:
    team = agents(3, 3)
    assert choose_assignee(team, Strategy.LEAST_LOADED, max_open=3) is None
    assert choose_assignee(agents(0), Strategy.MANUAL) is None
    assert choose_assignee([], Strategy.ROUND_ROBIN) is None
