"""Business hours: a weekly schedule in a time zone, per channel.

    {"timezone": "Asia/Shanghai",
     "weekly": {"mon": [["09:00", "18:00"]], "sat": [["10:00", "14:00"]]},
     "holidays": ["2026-10-01"]}

Days missing from `weekly` are closed; a range ends before its closing minute; "24:00" closes at
midnight. No schedule at all means always open.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: str) -> str:
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{value!r} is not HH:MM")
    if not (0 <= int(hours) <= 24 and 0 <= int(minutes) < 60) or (
        int(hours) == 24 and int(minutes) != 0
    ):
        raise ValueError(f"{value!r} is not a time of day")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _weekly(value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    unknown = set(value) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown days {sorted(unknown)}: use {', '.join(DAYS)}")
    for day, ranges in value.items():
        for start, end in ranges:
            if _minutes(start) >= _minutes(end):
                raise ValueError(f"{day}: {start}–{end} ends before it starts")
    return value


Clock = Annotated[str, AfterValidator(_clock)]


class BusinessHours(BaseModel):
    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    weekly: Annotated[dict[str, list[tuple[Clock, Clock]]], AfterValidator(_weekly)] = Field(
        default_factory=dict
    )
    holidays: list[date] = Field(default_factory=list, max_length=400)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(schedule: dict[str, Any] | None, at: datetime) -> bool:
    """Whether a channel with `schedule` (stored form of BusinessHours) is open at `at`."""
    if not schedule:
        return True
    hours = BusinessHours.model_validate(schedule)
    local = at.astimezone(ZoneInfo(hours.timezone))
    if local.date() in hours.holidays:
        return False
    now = local.hour * 60 + local.minute
    ranges = hours.weekly.get(DAYS[local.weekday()], [])
    return any(_minutes(start) <= now < _minutes(end) for start, end in ranges)
