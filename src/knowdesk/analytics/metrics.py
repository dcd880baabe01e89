"""Support metrics, computed in SQL over what chat and tickets already store.

Conversations are counted by the day they started (in the report's time zone): a conversation
started in the period brings everything that happened in it (the bot's replies, the ratings of
them, the hand-off, the agent's first reply, the resolution). Tickets are counted by the day
they were opened, except `tickets_solved` (by the day they were solved) and the backlog (open
at a moment: opened before it and not solved before it).

What the stored events mean here:
- a customer "engaged" when they wrote at least once;
- a hand-off is a system message with `meta.event = "handoff"`; the bot decided it when its
  reason is `not_covered` or `bot_error` (others: the customer asked, no bot, an attachment);
- a conversation was deflected when the bot answered (`direct` or `grounded`) and it was never
  handed off nor turned into a ticket;
- chat first response: from the first hand-off to the first agent message after it;
- ticket SLA: a target is met when it was reached before its due time and no breach fired.

Tenancy: every query starts from the `convs` and `tks` common table expressions, which filter on
the caller's workspace (and the report's channel, team and category) in one place.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from knowdesk.analytics.schemas import (
    AgentRow,
    BacklogRow,
    BreakdownRow,
    CategoryRow,
    DecisionRow,
    DurationStats,
    HandoffReasonRow,
    Interval,
    MetricsFilters,
    MetricsReport,
    SeriesRow,
    Summary,
)
from knowdesk.errors import InvalidInputError

MAX_BUCKETS = 400
BOT_HANDOFF_REASONS = ("not_covered", "bot_error")
DECISIONS = ("direct", "grounded", "clarify", "handoff")

_SCOPE = """
with convs as (
    select c.id, c.channel_id, c.team_id, c.assignee_id, c.created_at, c.resolved_at
    from conversations c
    where c.workspace_id = :ws
      and (cast(:channel as uuid) is null or c.channel_id = cast(:channel as uuid))
      and (cast(:team as uuid) is null or c.team_id = cast(:team as uuid))
      and (cast(:category as text) is null or exists (
          select 1 from ticket_conversations tc join tickets t on t.id = tc.ticket_id
          where tc.conversation_id = c.id and t.category = cast(:category as text)))
),
tks as (
    select t.id, t.status, t.priority, t.category, t.team_id, t.assignee_id, t.created_at,
           t.first_responded_at, t.solved_at, t.first_response_due_at, t.resolution_due_at,
           t.response_breached_at, t.resolution_breached_at,
           t.status in ('new', 'open', 'pending', 'on_hold') as active
    from tickets t
    where t.workspace_id = :ws
      and (cast(:team as uuid) is null or t.team_id = cast(:team as uuid))
      and (cast(:category as text) is null or t.category = cast(:category as text))
      and (cast(:channel as uuid) is null or exists (
          select 1 from ticket_conversations tc join conversations c on c.id = tc.conversation_id
          where tc.ticket_id = t.id and c.channel_id = cast(:channel as uuid)))
),
cohort as (
    select c.*,
           coalesce(f.engaged, false) as engaged,
           f.handed_off_at,
           coalesce(f.bot_answered, false) as bot_answered,
           f.helpful, f.not_helpful,
           fr.first_agent_at, fr.first_agent_id,
           exists (select 1 from ticket_conversations tc where tc.conversation_id = c.id)
               as ticketed
    from convs c
    cross join lateral (
        select bool_or(m.sender_kind = 'contact') as engaged,
               min(m.created_at) filter (
                   where m.sender_kind = 'system' and m.meta ->> 'event' = 'handoff'
               ) as handed_off_at,
               bool_or(m.sender_kind = 'bot' and m.meta ->> 'decision' in ('direct', 'grounded'))
                   as bot_answered,
               count(*) filter (where m.rating = 'helpful') as helpful,
               count(*) filter (where m.rating = 'not_helpful') as not_helpful
        from chat_messages m where m.conversation_id = c.id
    ) f
    left join lateral (
        select a.created_at as first_agent_at, a.sender_id as first_agent_id
        from chat_messages a
        where a.conversation_id = c.id and a.sender_kind = 'agent'
          and a.created_at >= f.handed_off_at
        order by a.created_at limit 1
    ) fr on true
    where c.created_at >= :start and c.created_at < :end
),
engaged as (
    select *, bot_answered and handed_off_at is null and not ticketed as deflected,
           cast(extract(epoch from first_agent_at - handed_off_at) as float8)
               as first_response_s,
           cast(extract(epoch from resolved_at - created_at) as float8) as resolution_s
    from cohort where engaged
),
opened as (
    select *,
           cast(extract(epoch from first_responded_at - created_at) as float8)
               as first_response_s,
           cast(extract(epoch from solved_at - created_at) as float8) as resolution_s,
           case when response_breached_at is not null
                  or first_responded_at > first_response_due_at then 'breached'
                when first_responded_at is not null and first_response_due_at is not null
                  then 'met' end as response_sla,
           case when resolution_breached_at is not null
                  or solved_at > resolution_due_at then 'breached'
                when solved_at is not null and resolution_due_at is not null
                  then 'met' end as resolution_sla
    from tks where created_at >= :start and created_at < :end
)
"""


def _durations(column: str, source: str, where: str = "true") -> str:
    return f"""
    (select json_build_object(
        'count', count({column}),
        'mean', avg({column}),
        'median', percentile_cont(0.5) within group (order by {column}),
        'p90', percentile_cont(0.9) within group (order by {column}))
     from {source} where {column} is not null and {where})
    """


_SUMMARY = f"""
select
    (select count(*) from engaged) as conversations,
    (select count(*) from engaged where deflected) as deflected,
    (select count(*) from engaged where handed_off_at is not null) as handed_off,
    (select count(*) from engaged where resolved_at is not null) as resolved,
    (select coalesce(sum(helpful), 0) from engaged) as helpful,
    (select coalesce(sum(not_helpful), 0) from engaged) as not_helpful,
    {_durations("first_response_s", "engaged")} as chat_first_response,
    {_durations("resolution_s", "engaged")} as chat_resolution,
    (select count(*) from opened) as tickets_created,
    (select count(*) from tks where solved_at >= :start and solved_at < :end) as tickets_solved,
    {_durations("first_response_s", "opened")} as ticket_first_response,
    {_durations("resolution_s", "opened")} as ticket_resolution,
    (select count(*) from opened where response_sla = 'met') as sla_response_met,
    (select count(*) from opened where response_sla = 'breached') as sla_response_breached,
    (select count(*) from opened where resolution_sla = 'met') as sla_resolution_met,
    (select count(*) from opened where resolution_sla = 'breached') as sla_resolution_breached,
    (select count(*) from tks
     where created_at < :end and (solved_at is null or solved_at >= :end)) as backlog
"""

_DECISIONS = """
, said as (
    select m.sender_kind, m.meta from chat_messages m join engaged c on c.id = m.conversation_id
    where m.sender_kind in ('bot', 'system')
)
select meta ->> 'decision' as decision, count(*) as n from said
where sender_kind = 'bot' and meta ->> 'decision' is not null group by 1
union all
select 'handoff', count(*) from said
where sender_kind = 'system' and meta ->> 'event' = 'handoff'
  and meta ->> 'reason' in ('not_covered', 'bot_error')
"""

_HANDOFF_REASONS = """
select coalesce(m.meta ->> 'reason', 'unknown') as reason, count(*) as n
from chat_messages m join engaged c on c.id = m.conversation_id
where m.sender_kind = 'system' and m.meta ->> 'event' = 'handoff'
group by 1 order by 2 desc, 1
"""

_SERIES = """
, buckets as (
    select b as local_start,
           b at time zone :tz as starts,
           least((b + cast(:step as interval)) at time zone :tz, cast(:end as timestamptz))
               as ends
    from generate_series(
        date_trunc(:interval, cast(:start as timestamptz) at time zone :tz),
        (cast(:end as timestamptz) at time zone :tz) - interval '1 second',
        cast(:step as interval)) b
)
select cast(b.local_start as date) as bucket,
    (select count(*) from engaged e where e.created_at >= b.starts and e.created_at < b.ends)
        as conversations,
    (select count(*) from engaged e
     where e.deflected and e.created_at >= b.starts and e.created_at < b.ends) as deflected,
    (select count(*) from engaged e where e.handed_off_at is not null
       and e.created_at >= b.starts and e.created_at < b.ends) as handed_off,
    (select coalesce(sum(e.helpful), 0) from engaged e
     where e.created_at >= b.starts and e.created_at < b.ends) as helpful,
    (select coalesce(sum(e.not_helpful), 0) from engaged e
     where e.created_at >= b.starts and e.created_at < b.ends) as not_helpful,
    (select count(*) from opened o where o.created_at >= b.starts and o.created_at < b.ends)
        as tickets_created,
    (select count(*) from tks t where t.solved_at >= greatest(b.starts, :start)
       and t.solved_at < b.ends) as tickets_solved,
    (select count(*) from tks t where t.created_at < least(b.ends, now())
       and (t.solved_at is null or t.solved_at >= least(b.ends, now()))) as backlog
from buckets b order by b.local_start
"""

_BREAKDOWN = """
select e.{key} as id, coalesce(n.name, '(none)') as name,
    count(*) as conversations,
    count(*) filter (where e.deflected) as deflected,
    count(*) filter (where e.handed_off_at is not null) as handed_off,
    coalesce(sum(e.helpful), 0) as helpful,
    coalesce(sum(e.not_helpful), 0) as not_helpful,
    percentile_cont(0.5) within group (order by e.first_response_s)
        as median_first_response_seconds
from engaged e left join {table} n on n.id = e.{key}
group by e.{key}, n.name order by count(*) desc, name
"""

_CATEGORIES = """
select coalesce(t.category, '(none)') as category,
    count(*) filter (where t.created_at >= :start and t.created_at < :end) as tickets_created,
    count(*) filter (where t.solved_at >= :start and t.solved_at < :end) as tickets_solved,
    count(*) filter (where t.active) as open_now,
    percentile_cont(0.5) within group (
        order by cast(extract(epoch from t.solved_at - t.created_at) as float8)
    ) filter (where t.created_at >= :start and t.created_at < :end) as median_resolution_seconds,
    (select count(*) from opened o where o.category is not distinct from t.category
       and o.response_sla = 'met') + (select count(*) from opened o
       where o.category is not distinct from t.category and o.resolution_sla = 'met') as sla_met,
    (select count(*) from opened o where o.category is not distinct from t.category
       and o.response_sla = 'breached') + (select count(*) from opened o
       where o.category is not distinct from t.category and o.resolution_sla = 'breached')
        as sla_breached
from tks t
where (t.created_at >= :start and t.created_at < :end)
   or (t.solved_at >= :start and t.solved_at < :end) or t.active
group by t.category order by tickets_created desc, category
"""

_AGENTS = """
, said as (
    select m.sender_id from chat_messages m join engaged c on c.id = m.conversation_id
    where m.sender_kind = 'agent'
),
people as (
    select assignee_id as user_id from engaged where assignee_id is not null
    union select sender_id from said where sender_id is not null
    union select assignee_id from tks where assignee_id is not null
      and (active or (solved_at >= :start and solved_at < :end))
)
select * from (
select u.id as user_id, u.name,
    (select count(*) from engaged e where e.assignee_id = u.id) as conversations_assigned,
    (select count(*) from engaged e where e.assignee_id = u.id and e.resolved_at is not null)
        as conversations_resolved,
    (select count(*) from said s where s.sender_id = u.id) as chat_messages,
    (select percentile_cont(0.5) within group (order by e.first_response_s) from engaged e
     where e.first_agent_id = u.id) as median_first_response_seconds,
    (select count(*) from tks t where t.assignee_id = u.id and t.active) as tickets_open,
    (select count(*) from tks t where t.assignee_id = u.id
       and t.solved_at >= :start and t.solved_at < :end) as tickets_solved,
    (select count(*) from ticket_comments tc join tks t on t.id = tc.ticket_id
     where tc.workspace_id = :ws and tc.author_user_id = u.id and tc.public
       and tc.author_kind = 'agent' and tc.created_at >= :start and tc.created_at < :end)
        as ticket_replies
from people p join users u on u.id = p.user_id
) workload order by conversations_assigned + tickets_open desc, name
"""

_BACKLOG = """
select cast(status as text) as status, cast(priority as text) as priority, count(*) as count
from tks where created_at < :end and (solved_at is null or solved_at >= :end)
group by status, priority order by status, priority
"""


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _stats(value: dict[str, Any] | None) -> DurationStats:
    if not value:
        return DurationStats()
    return DurationStats(
        count=int(value["count"]),
        mean_seconds=_round(value["mean"]),
        median_seconds=_round(value["median"]),
        p90_seconds=_round(value["p90"]),
    )


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


@dataclass(frozen=True)
class Period:
    """The report's days, from `start` to `end` inclusive, in time zone `tz`."""

    start: date
    end: date
    tz: str
    interval: Interval

    def bounds(self) -> tuple[datetime, datetime]:
        zone = zoneinfo.ZoneInfo(self.tz)
        first = datetime.combine(self.start, time(), zone)
        after = datetime.combine(self.end + timedelta(days=1), time(), zone)
        return first.astimezone(UTC), after.astimezone(UTC)

    def buckets(self) -> int:
        days = (self.end - self.start).days + 1
        return {Interval.DAY: days, Interval.WEEK: days // 7 + 2, Interval.MONTH: days // 28 + 2}[
            self.interval
        ]

    def edges(self) -> tuple[list[date], list[datetime]]:
        """Each bucket's first day (as the SQL series labels it) and the moments between
        buckets: the period's start, each later bucket's start, the period's end (UTC)."""
        zone = zoneinfo.ZoneInfo(self.tz)
        start, end = self.bounds()
        labels, day = [], _truncate(self.start, self.interval)
        while day <= self.end:
            labels.append(day)
            day = _next_bucket(day, self.interval)
        moments = [start] + [
            datetime.combine(label, time(), zone).astimezone(UTC) for label in labels[1:]
        ]
        return labels, [*moments, end]


def _truncate(day: date, interval: Interval) -> date:
    if interval == Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval == Interval.MONTH:
        return day.replace(day=1)
    return day


def _next_bucket(day: date, interval: Interval) -> date:
    if interval == Interval.WEEK:
        return day + timedelta(days=7)
    if interval == Interval.MONTH:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def check_filters(filters: MetricsFilters) -> Period:
    """The filters' period, or InvalidInputError when it cannot be reported."""
    try:
        zoneinfo.ZoneInfo(filters.tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"Unknown time zone {filters.tz!r}.") from exc
    if filters.end < filters.start:
        raise InvalidInputError("The period ends before it starts.")
    period = Period(filters.start, filters.end, filters.tz, filters.interval)
    if period.buckets() > MAX_BUCKETS:
        raise InvalidInputError(
            f"At most {MAX_BUCKETS} {filters.interval.value}s: choose a longer interval."
        )
    return period


class Metrics:
    """The metrics of one workspace for one set of filters."""

    def __init__(
        self, session: AsyncSession, workspace_id: uuid.UUID, filters: MetricsFilters
    ) -> None:
        self.session = session
        self.filters = filters
        period = check_filters(filters)
        start, end = period.bounds()
        self._params: dict[str, Any] = {
            "ws": workspace_id,
            "start": start,
            "end": end,
            "tz": filters.tz,
            "interval": filters.interval.value,
            "step": f"1 {filters.interval.value}",
            "channel": filters.channel_id,
            "team": filters.team_id,
            "category": filters.category,
        }

    async def _rows(self, query: str) -> Sequence[Row[Any]]:
        result = await self.session.execute(text(_SCOPE + query), self._params)
        return result.all()

    async def report(self) -> MetricsReport:
        decisions = await self.decisions()
        return MetricsReport(
            filters=self.filters,
            summary=await self.summary(decisions),
            series=await self.series(),
            decisions=decisions,
            handoff_reasons=await self.handoff_reasons(),
            channels=await self.breakdown("channel_id", "chat_channels"),
            teams=await self.breakdown("team_id", "teams"),
            categories=await self.categories(),
            agents=await self.agents(),
            backlog=await self.backlog(),
        )

    async def summary(self, decisions: Sequence[DecisionRow]) -> Summary:
        row = (await self._rows(_SUMMARY))[0]
        counts = {d.decision: d.count for d in decisions}
        met = row.sla_response_met + row.sla_resolution_met
        decided = met + row.sla_response_breached + row.sla_resolution_breached
        helpful, not_helpful = int(row.helpful), int(row.not_helpful)
        return Summary(
            conversations=row.conversations,
            deflected=row.deflected,
            deflection_rate=_rate(row.deflected, row.conversations),
            handed_off=row.handed_off,
            handoff_rate=_rate(row.handed_off, row.conversations),
            resolved=row.resolved,
            bot_replies=sum(counts.get(d, 0) for d in ("direct", "grounded", "clarify")),
            direct=counts.get("direct", 0),
            grounded=counts.get("grounded", 0),
            clarify=counts.get("clarify", 0),
            handoff=counts.get("handoff", 0),
            helpful=helpful,
            not_helpful=not_helpful,
            csat=_rate(helpful, helpful + not_helpful),
            chat_first_response=_stats(row.chat_first_response),
            chat_resolution=_stats(row.chat_resolution),
            tickets_created=row.tickets_created,
            tickets_solved=row.tickets_solved,
            ticket_first_response=_stats(row.ticket_first_response),
            ticket_resolution=_stats(row.ticket_resolution),
            sla_response_met=row.sla_response_met,
            sla_response_breached=row.sla_response_breached,
            sla_resolution_met=row.sla_resolution_met,
            sla_resolution_breached=row.sla_resolution_breached,
            sla_attainment=_rate(met, decided),
            backlog=row.backlog,
        )

    async def decisions(self) -> list[DecisionRow]:
        counts = {r.decision: int(r.n) for r in await self._rows(_DECISIONS)}
        total = sum(counts.values())
        names = [*DECISIONS, *sorted(set(counts) - set(DECISIONS))]
        return [
            DecisionRow(decision=d, count=counts.get(d, 0), share=_rate(counts.get(d, 0), total))
            for d in names
        ]

    async def handoff_reasons(self) -> list[HandoffReasonRow]:
        return [
            HandoffReasonRow(reason=r.reason, count=r.n) for r in await self._rows(_HANDOFF_REASONS)
        ]

    async def series(self) -> list[SeriesRow]:
        return [SeriesRow(**r._asdict()) for r in await self._rows(_SERIES)]

    async def breakdown(self, key: str, table: str) -> list[BreakdownRow]:
        rows = await self._rows(_BREAKDOWN.format(key=key, table=table))
        return [
            BreakdownRow(
                id=r.id,
                name=r.name,
                conversations=r.conversations,
                deflected=r.deflected,
                deflection_rate=_rate(r.deflected, r.conversations),
                handed_off=r.handed_off,
                handoff_rate=_rate(r.handed_off, r.conversations),
                helpful=int(r.helpful),
                not_helpful=int(r.not_helpful),
                csat=_rate(int(r.helpful), int(r.helpful) + int(r.not_helpful)),
                median_first_response_seconds=_round(r.median_first_response_seconds),
            )
            for r in rows
        ]

    async def categories(self) -> list[CategoryRow]:
        return [
            CategoryRow(
                **{**r._asdict(), "median_resolution_seconds": _round(r.median_resolution_seconds)}
            )
            for r in await self._rows(_CATEGORIES)
        ]

    async def agents(self) -> list[AgentRow]:
        return [
            AgentRow(
                **{
                    **r._asdict(),
                    "median_first_response_seconds": _round(r.median_first_response_seconds),
                }
            )
            for r in await self._rows(_AGENTS)
        ]

    async def backlog(self) -> list[BacklogRow]:
        return [BacklogRow(**r._asdict()) for r in await self._rows(_BACKLOG)]
