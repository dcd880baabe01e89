"""Business-time arithmetic for service-level targets: calendars, holidays and a pausable clock.

A calendar is a weekly schedule of opening ranges in a time zone, minus holidays (whole local
dates). Targets count business seconds only: a four-hour resolution target set on Friday at
17:00 in a 09:00–18:00 week is due on Monday at 12:00. No calendar means round the clock.

The clock of a ticket counts business seconds from its creation, stops counting while the
ticket waits on the customer (paused) and counts on when they answer. Everything here is pure:
the service stores a clock's two numbers on the ticket and asks these functions for due times.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar that finds no business time within this many days is refused: it never opens.
_SEARCH_DAYS = 3 * 366


class CalendarError(ValueError):
    """A calendar that cannot measure time (bad clock, unknown zone, never open)."""


def _minutes(clock: str) -> int:
    hours, sep, minutes = clock.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise CalendarError(f"{clock!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 24 * 60:
        raise CalendarError(f"{clock!r} is not a time of day")
    return value


@dataclass(frozen=True)
class Calendar:
    """Opening ranges per weekday (0 = Monday) in minutes after local midnight, and holidays."""

    timezone: str = "UTC"
    weekly: Mapping[int, Sequence[tuple[int, int]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def from_schedule(cls, schedule: Mapping[str, Any]) -> Calendar:
        """Read the stored form: {"timezone", "weekly": {"mon": [["09:00", "18:00"]]},
        "holidays": ["2026-10-01"]}. Raises CalendarError for anything that cannot work."""
        zone = str(schedule.get("timezone") or "UTC")
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {zone!r}") from exc
        weekly: dict[int, list[tuple[int, int]]] = {}
        for day, ranges in (schedule.get("weekly") or {}).items():
            if day not in DAYS:
                raise CalendarError(f"unknown day {day!r}: use {', '.join(DAYS)}")
            spans = sorted((_minutes(start), _minutes(end)) for start, end in ranges)
            for (start, end), following in zip(spans, [*spans[1:], None], strict=True):
                if start >= end:
                    raise CalendarError(f"{day}: a range ends before it starts")
                if following is not None and following[0] < end:
                    raise CalendarError(f"{day}: ranges overlap")
            weekly[DAYS.index(day)] = spans
        if not any(weekly.values()):
            raise CalendarError("a calendar needs at least one opening range")
        try:
            holidays = frozenset(date.fromisoformat(str(d)) for d in schedule.get("holidays", []))
        except ValueError as exc:
            raise CalendarError(f"a holiday is not a date (YYYY-MM-DD): {exc}") from exc
        return cls(timezone=zone, weekly=weekly, holidays=holidays)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def open_ranges(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The opening ranges of one local date, as aware UTC datetimes."""
        if day in self.holidays:
            return
        midnight = datetime.combine(day, time(), self.zone)
        for start, end in self.weekly.get(day.weekday(), ()):
            yield _local(midnight, start), _local(midnight, end)


def _local(midnight: datetime, minutes: int) -> datetime:
    """Local wall-clock time `minutes` after midnight, in UTC (24:00 is the next midnight)."""
    days, minute = divmod(minutes, 24 * 60)
    wall = (midnight + timedelta(days=days)).replace(hour=minute // 60, minute=minute % 60)
    return wall.astimezone(UTC)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return at.astimezone(UTC)


def _intervals_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals at or after `start`, in order, the first one cut at `start`."""
    first_day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    empty_days = 0
    for offset in range(_SEARCH_DAYS * 10):
        found = False
        for open_at, close_at in calendar.open_ranges(first_day + timedelta(days=offset)):
            if close_at > start:
                found = True
                yield max(open_at, start), close_at
        empty_days = 0 if found else empty_days + 1
        if empty_days > _SEARCH_DAYS:
            raise CalendarError("the calendar has no business time left (every day a holiday?)")


def business_seconds(calendar: Calendar | None, start: datetime, end: datetime) -> float:
    """Business seconds between `start` and `end` (0 when end is not after start)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds()
    total = 0.0
    for open_at, close_at in _intervals_from(calendar, start):
        if open_at >= end:
            break
        total += (min(close_at, end) - open_at).total_seconds()
    return total


def add_business_seconds(calendar: Calendar | None, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of business time after `start` have passed.

    With zero or negative seconds: `start` itself (a target already used up is due at once).
    """
    start = _utc(start)
    if seconds <= 0:
        return start
    if calendar is None:
        return start + timedelta(seconds=seconds)
    left = seconds
    for open_at, close_at in _intervals_from(calendar, start):
        span = (close_at - open_at).total_seconds()
        if left <= span:
            return open_at + timedelta(seconds=left)
        left -= span
    raise AssertionError("unreachable: _intervals_from raises before it runs out")


@dataclass(frozen=True)
class SlaClock:
    """Business seconds counted so far, and since when it counts on (None: paused or stopped).

    `elapsed` holds the business seconds up to `running_since`; while running, the time since
    then is added on demand, so the clock never needs a tick to stay right.
    """

    elapsed: float = 0.0
    running_since: datetime | None = None

    @classmethod
    def started(cls, at: datetime) -> SlaClock:
        return cls(0.0, _utc(at))

    @property
    def running(self) -> bool:
        return self.running_since is not None

    def elapsed_at(self, calendar: Calendar | None, at: datetime) -> float:
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + business_seconds(calendar, self.running_since, at)

    def paused(self, calendar: Calendar | None, at: datetime) -> SlaClock:
        if self.running_since is None:
            return self
        return SlaClock(self.elapsed_at(calendar, at), None)

    def resumed(self, at: datetime) -> SlaClock:
        if self.running_since is not None:
            return self
        return replace(self, running_since=_utc(at))

    def due_at(self, calendar: Calendar | None, target_seconds: float) -> datetime | None:
        """When `target_seconds` of business time will have been used (None while paused)."""
        if self.running_since is None:
            return None
        return add_business_seconds(calendar, self.running_since, target_seconds - self.elapsed)

    def remaining(self, calendar: Calendar | None, at: datetime, target_seconds: float) -> float:
        """Business seconds left before `target_seconds` is used up (negative: overdue)."""
        return target_seconds - self.elapsed_at(calendar, at)
