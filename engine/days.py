"""Calendar days as people type them into filters: ISO `YYYY-MM-DD`, counted in company time."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

YEARS = (1900, 9998)  # outside, the day after or a time-zone offset would overflow `datetime`
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: object) -> date | None:
    """The day `value` names (a `YYYY-MM-DD` text within YEARS, or a date), else None."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if YEARS[0] <= day.year <= YEARS[1] else None


def day_start(day: date, timezone: str) -> datetime:
    """The instant `day` begins in `timezone`."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))
