"""How a workspace runs its tickets: routing rules, team strategies and skills, SLA policies and
calendars, categories and the classifier's examples, and general settings.

Rules are checked as a whole before any change is kept: unknown teams or assignees, an
assignee outside the rule's team, contradictory or cyclic rules are refused (422) and the
stored rules stay as they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.accounts.principal import Principal
from knowdesk.audit.service import record
from knowdesk.errors import ConflictError, InvalidInputError
from knowdesk.tickets import classification
from knowdesk.tickets.models import (
    AgentSkills,
    BusinessCalendar,
    IntentExample,
    RoutingRule,
    SlaPolicy,
    TeamSettings,
    TicketCategory,
    TicketSettings,
)
from knowdesk.tickets.routing import Outcome, apply_rules, rule_set_problems
from knowdesk.tickets.schemas import (
    CalendarIn,
    CategoryIn,
    ClassifierStatus,
    ExampleIn,
    RuleIn,
    SettingsIn,
    SkillsIn,
    SlaPolicyIn,
    TeamSettingsIn,
)
from knowdesk.tickets.service import Tickets, rule_of


@dataclass
class Setup:
    """The ticket configuration of the caller's workspace."""

    tickets: Tickets
    principal: Principal

    @property
    def session(self) -> AsyncSession:
        return self.tickets.session

    def _audit(self, action: str, target_type: str, target_id: object, **details: Any) -> None:
        record(
            self.session,
            self.principal,
            action,
            target_type=target_type,
            target_id=target_id,
            **details,
        )

    # -- routing rules ------------------------------------------------------------------------

    async def _check_rule_refs(self, body: RuleIn) -> None:
        await self.tickets.check_team(body.team_id)
        await self.tickets.check_assignee(body.assignee_id)
        if body.team_id and body.assignee_id:
            members = await self.tickets.teams.member_ids(body.team_id)
            if body.assignee_id not in members:
                raise InvalidInputError(
                    f"Rule {body.name!r} is contradictory: assignee {body.assignee_id} is not a "
                    f"member of team {body.team_id}."
                )

    async def _save_order(self, rules: list[RoutingRule]) -> None:
        """Check the rule set as it would be, then store its order. A refused set raises, and
        the request's transaction takes every change back with it."""
        problems = rule_set_problems([rule_of(r) for r in rules if r.enabled])
        if problems:
            raise InvalidInputError("The routing rules would not work: " + "; ".join(problems))
        for position, rule in enumerate(rules):
            rule.position = position
        await self.session.flush()

    async def _others(self, body: RuleIn, rule_id: uuid.UUID | None) -> list[RoutingRule]:
        """The other rules, in order, after checking `body`'s references and name."""
        await self.tickets.rules.lock_all()
        await self._check_rule_refs(body)
        rules = [r for r in await self.tickets.rules.ordered() if r.id != rule_id]
        if any(r.name == body.name for r in rules):
            raise ConflictError(f"A rule named {body.name!r} already exists.")
        return rules

    async def create_rule(self, body: RuleIn) -> RoutingRule:
        rules = await self._others(body, None)
        rule = self.tickets.rules.add(RoutingRule(id=uuid.uuid4(), position=len(rules)))
        _fill_rule(rule, body)
        rules.insert(len(rules) if body.position is None else body.position, rule)
        await self._save_order(rules)
        self._audit("ticket_rule.create", "ticket_rule", rule.id, name=rule.name)
        return rule

    async def update_rule(self, rule_id: uuid.UUID, body: RuleIn) -> RoutingRule:
        rule = await self.tickets.rules.get_or_raise(rule_id)
        rules = await self._others(body, rule.id)
        rules.insert(rule.position if body.position is None else body.position, rule)
        _fill_rule(rule, body)
        await self._save_order(rules)
        self._audit("ticket_rule.update", "ticket_rule", rule.id, name=rule.name)
        return rule

    async def delete_rule(self, rule_id: uuid.UUID) -> None:
        repo = self.tickets.rules
        await repo.lock_all()
        rule = await repo.get_or_raise(rule_id)
        await repo.delete(rule)
        await self.session.flush()
        await self._save_order([r for r in await repo.ordered() if r.id != rule_id])
        self._audit("ticket_rule.delete", "ticket_rule", rule_id, name=rule.name)

    async def reorder_rules(self, rule_ids: Sequence[uuid.UUID]) -> list[RoutingRule]:
        repo = self.tickets.rules
        await repo.lock_all()
        rules = {r.id: r for r in await repo.ordered()}
        if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != set(rules):
            raise InvalidInputError("Send every rule id exactly once, in the new order.")
        ordered = [rules[i] for i in rule_ids]
        await self._save_order(ordered)
        self._audit("ticket_rule.reorder", "ticket_rule", None)
        return ordered

    async def preview(self, facts: dict[str, Any]) -> Outcome:
        rules = await self.tickets.rules.ordered(enabled_only=True)
        return apply_rules([rule_of(r) for r in rules], facts)

    # -- teams and agents ---------------------------------------------------------------------

    async def set_team_settings(self, team_id: uuid.UUID, body: TeamSettingsIn) -> TeamSettings:
        await self.tickets.teams.get_or_raise(team_id)
        if body.escalation_team_id == team_id:
            raise InvalidInputError("A team cannot escalate to itself.")
        await self.tickets.check_team(body.escalation_team_id)
        settings = await self.tickets.team_settings.for_team(team_id, lock=True)
        if settings is None:
            settings = self.tickets.team_settings.add(TeamSettings(team_id=team_id))
        settings.strategy = body.strategy
        settings.max_open_per_agent = body.max_open_per_agent
        settings.escalation_team_id = body.escalation_team_id
        await self.session.flush()
        self._audit("ticket_team.settings", "team", team_id, strategy=body.strategy.value)
        return settings

    async def set_skills(self, user_id: uuid.UUID, body: SkillsIn) -> AgentSkills:
        await self.tickets.check_assignee(user_id)
        row = await self.tickets.skills.for_user(user_id)
        if row is None:
            row = self.tickets.skills.add(AgentSkills(user_id=user_id))
        row.skills = sorted({s.strip().casefold() for s in body.skills if s.strip()})
        await self.session.flush()
        return row

    # -- SLA ----------------------------------------------------------------------------------

    async def create_calendar(self, body: CalendarIn) -> BusinessCalendar:
        repo = self.tickets.calendars
        if await repo.list(repo.select().where(BusinessCalendar.name == body.name)):
            raise ConflictError(f"A calendar named {body.name!r} already exists.")
        calendar = repo.add(BusinessCalendar(name=body.name, schedule=body.schedule()))
        await self.session.flush()
        self._audit("ticket_calendar.create", "ticket_calendar", calendar.id, name=body.name)
        return calendar

    async def update_calendar(self, calendar_id: uuid.UUID, body: CalendarIn) -> BusinessCalendar:
        calendar = await self.tickets.calendars.get_or_raise(calendar_id)
        calendar.name, calendar.schedule = body.name, body.schedule()
        await self.session.flush()
        return calendar

    async def delete_calendar(self, calendar_id: uuid.UUID) -> None:
        calendar = await self.tickets.calendars.get_or_raise(calendar_id)
        policies = self.tickets.policies
        if await policies.list(policies.select().where(SlaPolicy.calendar_id == calendar_id)):
            raise ConflictError("SLA policies count in this calendar: change them first.")
        await self.tickets.calendars.delete(calendar)

    async def _check_policy(self, body: SlaPolicyIn) -> None:
        if body.calendar_id and await self.tickets.calendars.get(body.calendar_id) is None:
            raise InvalidInputError(f"Unknown calendar {body.calendar_id}.")
        await self.tickets.check_team(body.escalation_team_id)
        for target in (body.first_response_seconds, body.resolution_seconds):
            if target is not None and body.warn_before_seconds >= target:
                raise InvalidInputError("warn_before_seconds must be shorter than each target.")

    async def create_policy(self, body: SlaPolicyIn) -> SlaPolicy:
        await self._check_policy(body)
        if await self.tickets.policies.for_priority(body.priority):
            raise ConflictError(f"Priority {body.priority.value} already has a policy.")
        policy = self.tickets.policies.add(SlaPolicy(**body.model_dump()))
        await self.session.flush()
        self._audit("sla_policy.create", "sla_policy", policy.id, priority=body.priority.value)
        return policy

    async def update_policy(self, policy_id: uuid.UUID, body: SlaPolicyIn) -> SlaPolicy:
        policy = await self.tickets.policies.get_or_raise(policy_id)
        await self._check_policy(body)
        other = await self.tickets.policies.for_priority(body.priority)
        if other is not None and other.id != policy.id:
            raise ConflictError(f"Priority {body.priority.value} already has a policy.")
        for name, value in body.model_dump().items():
            setattr(policy, name, value)
        await self.session.flush()
        self._audit("sla_policy.update", "sla_policy", policy.id)
        return policy

    async def delete_policy(self, policy_id: uuid.UUID) -> None:
        policy = await self.tickets.policies.get_or_raise(policy_id)
        await self.tickets.policies.delete(policy)
        self._audit("sla_policy.delete", "sla_policy", policy_id)

    # -- categories and examples --------------------------------------------------------------

    async def create_category(self, body: CategoryIn) -> TicketCategory:
        await self.tickets.check_team(body.team_id)
        if await self.tickets.categories.by_name(body.name):
            raise ConflictError(f"A category named {body.name!r} already exists.")
        category = self.tickets.categories.add(TicketCategory(**body.model_dump()))
        await self.session.flush()
        self._audit("ticket_category.create", "ticket_category", category.id, name=body.name)
        return category

    async def update_category(self, category_id: uuid.UUID, body: CategoryIn) -> TicketCategory:
        category = await self.tickets.categories.get_or_raise(category_id)
        await self.tickets.check_team(body.team_id)
        if body.name.lower() != category.name.lower():
            raise InvalidInputError("A category keeps its name (examples and tickets use it).")
        for name, value in body.model_dump().items():
            setattr(category, name, value)
        await self.session.flush()
        return category

    async def add_examples(self, examples: Sequence[ExampleIn]) -> list[IntentExample]:
        known = {c.name for c in await self.tickets.categories.list()} | {classification.OOS}
        unknown = sorted({e.category for e in examples} - known)
        if unknown:
            raise InvalidInputError(
                f"Unknown categories {unknown}: add them first (or label out-of-scope as 'oos')."
            )
        rows = [
            self.tickets.examples.add(
                IntentExample(text=e.text.strip(), category=e.category, source="manual")
            )
            for e in examples
        ]
        await self.session.flush()
        await classification.request_training(self.session, self.tickets.workspace_id)
        return rows

    async def delete_example(self, example_id: uuid.UUID) -> None:
        example = await self.tickets.examples.get_or_raise(example_id)
        await self.tickets.examples.delete(example)
        await classification.request_training(self.session, self.tickets.workspace_id)

    async def classifier_status(self) -> ClassifierStatus:
        stored = await classification.ModelRepository(
            self.session, self.tickets.workspace_id
        ).current()
        pending = await self.tickets.examples.count_since(stored.trained_at if stored else None)
        if stored is None:
            return ClassifierStatus(trained=False, pending_examples=pending)
        return ClassifierStatus(
            trained=True,
            trained_at=stored.trained_at,
            example_count=stored.example_count,
            categories=stored.categories,
            uses_embeddings=stored.uses_embeddings,
            pending_examples=pending,
        )

    # -- settings -----------------------------------------------------------------------------

    async def update_settings(self, body: SettingsIn) -> TicketSettings:
        settings = await self.tickets.settings.ensure()
        changes = body.model_dump(exclude_unset=True)
        if "default_team_id" in changes:
            await self.tickets.check_team(changes["default_team_id"])
        for name, value in changes.items():
            if value is not None or name == "default_team_id":
                setattr(settings, name, value)
        await self.session.flush()
        self._audit("ticket_settings.update", "ticket_settings", settings.id, **_plain(changes))
        return settings


def _fill_rule(rule: RoutingRule, body: RuleIn) -> None:
    rule.name = body.name
    rule.enabled = body.enabled
    rule.conditions = [c.model_dump() for c in body.conditions]
    rule.team_id = body.team_id
    rule.assignee_id = body.assignee_id
    rule.priority = body.priority
    rule.tags = list(dict.fromkeys(body.tags))
    rule.stop = body.stop


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in values.items()}
