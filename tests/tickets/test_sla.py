"""Business-hours arithmetic: weekends, holidays, time zones, daylight saving, pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from knowdesk.tickets.sla import (
    Calendar,
    CalendarError,
    SlaClock,
    add_business_seconds,
    business_seconds,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(**extra: object) -> Calendar:
    """09:00–18:00 on weekdays in Shanghai, with a lunch break on Wednesdays."""
    weekly: dict[str, list[list[str]]] = {d: [["09:00", "18:00"]] for d in WEEKDAYS}
    weekly["wed"] = [["09:00", "12:00"], ["13:00", "18:00"]]
    return Calendar.from_schedule({"timezone": "Asia/Shanghai", "weekly": weekly, **extra})


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def test_friday_evening_target_lands_on_monday() -> None:
    # 2026-11-27 is a Friday: one hour left that day, three more on Monday morning.
    due = add_business_seconds(office(), at(27, 17), 4 * HOUR)
    assert due == at(30, 12)
    assert business_seconds(office(), at(27, 17), due) == 4 * HOUR


def test_a_start_outside_hours_counts_from_the_next_opening() -> None:
    assert add_business_seconds(office(), at(28, 10), 30 * 60) == at(30, 9, 30)  # Saturday
    assert add_business_seconds(office(), at(30, 7), HOUR) == at(30, 10)  # before opening
    assert business_seconds(office(), at(28, 0), at(29, 23)) == 0  # a whole weekend


def test_holidays_are_skipped_like_weekends() -> None:
    # Thursday 2026-12-24 and Friday 2026-12-25 off: Wednesday 17:00 + 2 h → Monday 10:00.
    calendar = office(holidays=["2026-12-24", "2026-12-25"])
    due = add_business_seconds(calendar, at(23, 17, month=12), 2 * HOUR)
    assert due == at(28, 10, month=12)
    assert business_seconds(calendar, at(23, 17, month=12), due) == 2 * HOUR


def test_breaks_inside_a_day_are_not_business_time() -> None:
    assert add_business_seconds(office(), at(25, 11), 2 * HOUR) == at(25, 14)  # Wednesday
    assert business_seconds(office(), at(25, 11), at(25, 14)) == 2 * HOUR


def test_a_target_spanning_weeks_and_a_holiday() -> None:
    calendar = office(holidays=["2026-12-01"])  # a Tuesday
    # 5 business days of 9 h (Wednesday 8 h) from Monday 09:00, Tuesday off.
    due = add_business_seconds(calendar, at(30, 9), (9 + 8 + 9 + 9 + 9) * HOUR)
    assert due == at(7, 18, month=12)


def test_no_calendar_is_round_the_clock() -> None:
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert add_business_seconds(None, start, 2 * HOUR) == start + timedelta(hours=2)
    assert business_seconds(None, start, start + timedelta(minutes=5)) == 300


def test_daylight_saving_days_keep_wall_clock_hours() -> None:
    # Berlin moves to summer time on 2026-03-29 (a Sunday): Monday 09:00 is 07:00 UTC, not 08:00.
    calendar = Calendar.from_schedule(
        {"timezone": "Europe/Berlin", "weekly": {d: [["09:00", "17:00"]] for d in WEEKDAYS}}
    )
    friday_4pm = datetime(2026, 3, 27, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    due = add_business_seconds(calendar, friday_4pm, 2 * HOUR)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_clock_pauses_while_waiting_on_the_customer() -> None:
    calendar = office()
    clock = SlaClock.started(at(27, 16))  # Friday 16:00, target 4 h: due Monday 11:00
    assert clock.due_at(calendar, 4 * HOUR) == at(30, 11)
    paused = clock.paused(calendar, at(27, 17))  # one hour used, then waiting on the customer
    assert paused.elapsed == HOUR and paused.due_at(calendar, 4 * HOUR) is None
    assert paused.elapsed_at(calendar, at(1, 12, month=12)) == HOUR  # no time passes while paused
    resumed = paused.resumed(at(1, 9, month=12))  # the customer answers Tuesday 09:00
    assert resumed.due_at(calendar, 4 * HOUR) == at(1, 12, month=12)
    assert resumed.remaining(calendar, at(1, 13, month=12), 4 * HOUR) == -HOUR


def test_pause_and_resume_are_idempotent() -> None:
    clock = SlaClock.started(at(30, 9))
    once = clock.paused(None, at(30, 10))
    assert once.paused(None, at(30, 12)) == once
    running = once.resumed(at(30, 11))
    assert running.resumed(at(30, 12)) == running


@pytest.mark.parametrize(
    "schedule",
    [
        {"weekly": {}},
        {"weekly": {"mon": [["18:00", "09:00"]]}},
        {"weekly": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
        {"weekly": {"funday": [["09:00", "12:00"]]}},
        {"weekly": {"mon": [["9am", "12:00"]]}},
        {"timezone": "Mars/Olympus", "weekly": {"mon": [["09:00", "12:00"]]}},
        {"weekly": {"mon": [["09:00", "12:00"]]}, "holidays": ["not a date"]},
    ],
)
def test_calendars_that_cannot_work_are_refused(schedule: dict[str, object]) -> None:
    with pytest.raises(CalendarError):
        Calendar.from_schedule(schedule)


def test_a_calendar_whose_days_are_all_holidays_fails_instead_of_looping() -> None:
    only_jan_first = Calendar.from_schedule(
        {"weekly": {d: [["09:00", "10:00"]] for d in WEEKDAYS}, "holidays": []}
    )
    holidays = frozenset(
        datetime(2026, 1, 1).date() + timedelta(days=i) for i in range(3 * 366 + 10)
    )
    blocked = Calendar(only_jan_first.timezone, only_jan_first.weekly, holidays)
    with pytest.raises(CalendarError):
        add_business_seconds(blocked, datetime(2026, 1, 1, tzinfo=UTC), HOUR)
