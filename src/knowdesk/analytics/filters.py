"""The report filters every analytics page and endpoint takes from the query string."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from knowdesk.analytics.schemas import Interval, MetricsFilters
from knowdesk.errors import InvalidInputError

DEFAULT_DAYS = 30
T = TypeVar("T")


def _optional(parse: Callable[[str], T], name: str, raw: str | None) -> T | None:
    """A query value, where an empty one (a form's "all" choice) means none."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {raw!r} is not a valid value.") from exc


def metrics_filters(
    start: Annotated[
        str | None, Query(description="First day, YYYY-MM-DD (default: 30 days before the end).")
    ] = None,
    end: Annotated[str | None, Query(description="Last day, inclusive (default: today).")] = None,
    interval: Interval = Interval.DAY,
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the days.")] = "UTC",
    channel_id: Annotated[str | None, Query(description="A chat channel's id.")] = None,
    team_id: Annotated[str | None, Query(description="A team's id.")] = None,
    category: Annotated[str | None, Query(max_length=100, description="Ticket category.")] = None,
) -> MetricsFilters:
    """The filters of a report; empty values (as a form sends for "all") mean no filter."""
    try:
        today = datetime.now(zoneinfo.ZoneInfo(tz)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(f"Unknown time zone {tz!r}.") from exc
    last = _optional(date.fromisoformat, "end", end) or today
    first = _optional(date.fromisoformat, "start", start)
    return MetricsFilters(
        start=first or last - timedelta(days=DEFAULT_DAYS - 1),
        end=last,
        interval=interval,
        tz=tz,
        channel_id=_optional(uuid.UUID, "channel_id", channel_id),
        team_id=_optional(uuid.UUID, "team_id", team_id),
        category=(category or "").strip() or None,
    )


FiltersDep = Annotated[MetricsFilters, Depends(metrics_filters)]
