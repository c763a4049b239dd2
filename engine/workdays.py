"""Working days in company time: Monday to Friday, except the holidays the company lists, plus the
weekend days it lists as working days (调休) — processes/calendar.yaml, kept by the company each year.

"One working day" is the deadline of an approval where the rules name none (issue 12): a request
approved on Friday afternoon is due on Monday afternoon, not on Saturday.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from engine.config import COMPANY_TZ, calendar_file

_TZ = ZoneInfo(COMPANY_TZ)
MAX_DAYS = 366  # a deadline further away than a year of working days is a modelling error


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days worked instead of a holiday

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def load(path: Path | None = None) -> Calendar:
    return _load(path or calendar_file())


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> Calendar:
    if not path.exists():
        return Calendar()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Calendar(frozenset(_days(raw.get("holidays"), path, "holidays")),
                    frozenset(_days(raw.get("workdays"), path, "workdays")))


def _days(values: object, path: Path, name: str) -> list[date]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValueError(f"{path}: {name} must be a list of dates")
    return [v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values]


def add_working_days(start: datetime, days: int, calendar: Calendar | None = None) -> datetime:
    """`days` working days after `start` (company time, same time of day): Friday 15:00 + 1 is Monday
    15:00; from a weekend or a holiday the count starts with the next working day."""
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
        raise ValueError(f"working days must be a whole number from 0 to {MAX_DAYS}")
    calendar = calendar or load()
    moment = start.astimezone(_TZ)
    while days:
        moment += timedelta(days=1)
        if calendar.is_working(moment.date()):
            days -= 1
    return moment
