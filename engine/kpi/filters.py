"""The dashboard's filters: `from` and `to` (ISO dates, company time, both days included) and `process`.

Untrusted input (query strings): every value is checked here, and a bad one is refused with a
message per field in both languages (InvalidData -> 422, or a form message on the page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine.days import day_start, parse_day
from engine.errors import InvalidData
from engine.store.models import ProcessVersion

KNOWN = ("from", "to", "process")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC (None: open-ended) and an optional process key."""

    start: datetime | None
    end: datetime | None
    process: str | None
    day_from: date | None = None
    day_to: date | None = None

    def contains(self, instant: datetime) -> bool:
        return (self.start is None or instant >= self.start) and (self.end is None or instant < self.end)

    def narrow(self, query: Select, at: InstrumentedAttribute, process: InstrumentedAttribute | None = None) -> Select:
        """The query kept to rows whose `at` falls in the window and, given the `process` column, whose
        process is the window's (when it names one): the same bounds for every figure that counts by time."""
        if self.start is not None:
            query = query.where(at >= self.start)
        if self.end is not None:
            query = query.where(at < self.end)
        if process is not None and self.process is not None:
            query = query.where(process == self.process)
        return query

    def as_dict(self) -> dict:
        return {"from": self.day_from.isoformat() if self.day_from else None,
                "to": self.day_to.isoformat() if self.day_to else None, "process": self.process}


def _day(raw: object, name: str, errors: dict) -> date | None:
    if raw is None:  # absent; an empty text is a wrong date (the page leaves empty fields out)
        return None
    day = parse_day(raw)
    if day is None:
        errors[name] = {"zh": "请输入日期，格式为 YYYY-MM-DD（例如 2026-03-01）",
                        "en": "Enter a date as YYYY-MM-DD (for example 2026-03-01)"}
    return day


def _process(session: Session, raw: object, errors: dict) -> str | None:
    if raw is None:
        return None
    known = select(ProcessVersion.id).where(ProcessVersion.key == raw).limit(1)
    if isinstance(raw, str) and _KEY.match(raw) and session.scalar(known) is not None:
        return raw
    errors["process"] = {"zh": "没有这个已部署的流程", "en": "No deployed process has this key"}
    return None


def parse(session: Session, filters: dict, timezone: str) -> Window:
    errors: dict[str, dict[str, str]] = {}
    unknown = sorted(str(k) for k in filters if k not in KNOWN)
    for name in unknown:
        errors[name] = {"zh": "未知的筛选条件（可用：from、to、process）",
                        "en": "Unknown filter (known: from, to, process)"}
    day_from = _day(filters.get("from"), "from", errors)
    day_to = _day(filters.get("to"), "to", errors)
    if day_from and day_to and day_from > day_to:
        errors["to"] = {"zh": "结束日期不能早于开始日期", "en": "The end date is before the start date"}
    process = _process(session, filters.get("process"), errors)
    if errors:
        raise InvalidData("invalid KPI filter: " + ", ".join(sorted(errors)), errors)
    start = day_start(day_from, timezone) if day_from else None
    # `to` is a whole day: the window ends at midnight after it
    end = day_start(day_to + timedelta(days=1), timezone) if day_to else None
    return Window(start, end, process, day_from, day_to)
