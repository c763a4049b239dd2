"""Company months (`YYYY-MM` in the KPI time zone) of instants, in Python and in SQL alike.

The KPI page counts rows per month of a timestamp. Counting in SQL keeps a million rows out of Python;
the month of an instant depends on the zone, which neither SQLite nor PostgreSQL can be asked the same way,
so the month boundaries are computed here with zoneinfo and the rows are bucketed in SQL by a CASE over
them: the same labels as `month_of`, on both databases, for any zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, null, select
from sqlalchemy.orm import Session

from engine.days import day_start


def month_of(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def _following(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _first_day(instant: datetime, timezone: str) -> date:
    local = instant.astimezone(ZoneInfo(timezone))
    return date(local.year, local.month, 1)


def span(first: datetime, last: datetime, timezone: str) -> list[tuple[str, datetime, datetime]]:
    """(label, start, end) of every month from the one of `first` to the one of `last`, start included."""
    months, day = [], _first_day(first, timezone)
    end = _first_day(last, timezone)
    while day <= end:
        following = _following(day)
        months.append((day.strftime("%Y-%m"), day_start(day, timezone), day_start(following, timezone)))
        day = following
    return months


class Months:
    """month_of with the last month's bounds remembered: rows read in time order mostly stay in one month,
    and a bound check is cheaper than a time-zone conversion."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._bounds: tuple[datetime, datetime, str] | None = None

    def __call__(self, instant: datetime) -> str:
        bounds = self._bounds
        if bounds is not None and bounds[0] <= instant < bounds[1]:
            return bounds[2]
        label, start, end = span(instant, instant, self.timezone)[0]
        if start <= instant < end:  # a zone whose midnight is odd: never trust bounds that miss the instant
            self._bounds = (start, end, label)
        return month_of(instant, self.timezone)


def bucket(at: ColumnElement, months: Sequence[tuple[str, datetime, datetime]]) -> ColumnElement:
    """The month label of `at` as SQL; NULL outside the months (the caller widens them and asks again)."""
    whens = [(at < months[0][1], null())] + [(at < end, label) for label, _start, end in months]
    return case(*whens, else_=null())


def counts(session: Session, query: Select, at: ColumnElement, keys: Sequence[ColumnElement],
           guess: tuple[datetime | None, datetime | None], timezone: str) -> list[tuple]:
    """(*keys, month, count) of the rows `query` selects (its FROM and WHERE; its columns are replaced), grouped
    by the keys and the month of `at` (never NULL: the callers leave such rows out). `guess` are bounds the rows
    probably lie within (None: unknown); a row outside them makes the count be asked again within the rows' own
    first and last."""
    first, last = guess
    if first is None or last is None or first > last:
        first, last = _range(session, query, at)
        if first is None:
            return []
    rows = _grouped(session, query, at, keys, span(first, last, timezone))
    if any(row[-2] is None for row in rows):
        first, last = _range(session, query, at)
        rows = _grouped(session, query, at, keys, span(first, last, timezone))
    return rows


def _range(session: Session, query: Select, at: ColumnElement) -> tuple[datetime | None, datetime | None]:
    # a subquery each: SQLite seeks an index's end for a lone min() or max() only (both in one SELECT: a scan)
    row = session.execute(select(query.with_only_columns(func.min(at)).scalar_subquery(),
                                 query.with_only_columns(func.max(at)).scalar_subquery())).one()
    return row[0], row[1]


def _grouped(session: Session, query: Select, at: ColumnElement, keys: Sequence[ColumnElement],
             months: list[tuple[str, datetime, datetime]]) -> list[tuple]:
    # grouped in an outer query by the inner one's columns: PostgreSQL's server-side parameters would make a
    # GROUP BY of the CASE itself a different expression from the selected one
    inner = query.with_only_columns(*(k.label(f"k{n}") for n, k in enumerate(keys)),
                                    bucket(at, months).label("month")).subquery()
    columns = [inner.c[f"k{n}"] for n in range(len(keys))] + [inner.c.month]
    return [tuple(r) for r in session.execute(select(*columns, func.count()).group_by(*columns))]
