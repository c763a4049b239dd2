"""A window's rows of a day rollup, read as whole months from its month table and as days only at the edges
(migration 0032; docs/kpi.md "Rollups").

The page groups by month, and a window is whole company days, so every month it covers entirely is one row per key
of the month table instead of a row per key and day: the "everything" window read ~134,000 rows of
kpi_completed_day at a million instances. Only the days of its partial months (at most two, at its edges) come from
the day table, as engine/kpi/quantiles.py reads kpi_hours_month and kpi_hours_day. Triggers on the day tables keep
the month tables (the day's YYYY-MM; OUTSIDE's month is '0000-00'), so both ways give the same sums; a database
below migration 0032 (or a rollup without a month table) is read from the day rows alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, Subquery, delete, select, text, union_all
from sqlalchemy.orm import Session

from engine.kpi.day_rows import has_table, held
from engine.kpi.day_rows import month as month_of_day
from engine.store.models import KpiCaseMonth, KpiCompletedMonth

Days = tuple[date | None, date | None]  # first and last day, included (None: open-ended)

# month table -> its count from the day table (the upgrade of migration 0032 and rollups.rebuild)
COUNT = {
    KpiCompletedMonth.__tablename__: text(
        "INSERT INTO kpi_completed_month (month, process_key, role, person, n) "
        "SELECT substr(day, 1, 7), process_key, role, person, sum(n) FROM kpi_completed_day "
        "GROUP BY substr(day, 1, 7), process_key, role, person"),
    KpiCaseMonth.__tablename__: text(
        "INSERT INTO kpi_case_month (measure, month, process, role, person, done, within, unresolved) "
        "SELECT measure, substr(day, 1, 7), process, role, person, sum(done), sum(within), sum(unresolved) "
        "FROM kpi_case_day GROUP BY measure, substr(day, 1, 7), process, role, person"),
}


def recount(session: Session, table: type) -> None:
    """The month table counted again from its day table (in the caller's transaction, after the day rows)."""
    session.execute(delete(table))
    session.execute(COUNT[table.__tablename__])


def split(first: date | None, last: date | None) -> tuple[tuple[str | None, str | None] | None, list[Days]]:
    """(the first and last whole month of the days as YYYY-MM, None for none; the day ranges of the partial months
    at the edges): whole months from a month table, the rest from the day table."""
    lo = first if first is None or first.day == 1 else _next_month(first)
    hi = last if last is None or (last + timedelta(days=1)).day == 1 else last.replace(day=1) - timedelta(days=1)
    if lo is not None and hi is not None and lo > hi:  # no month inside the days
        return None, [(first, last)]
    days: list[Days] = []
    if first is not None and lo != first:
        days.append((first, lo - timedelta(days=1)))
    if last is not None and hi != last:
        days.append((hi + timedelta(days=1), last))
    return (_label(lo), _label(hi)), days


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _label(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y-%m")


def rows(session: Session, day: type, month: type | None, columns: Sequence[str],
         where: Callable[[type], list[ColumnElement]], days: Days) -> Subquery:
    """The rows of the day table `day` in `days`, as a subquery of `columns` and `month` (YYYY-MM): whole months
    from the month table `month` (when the database has it: else the day table alone), the partial months' days
    from the day table. `where` gives a table's own filters (process, measure: the columns both tables share)."""
    if month is None or not has_table(session, month.__tablename__):
        return _days(day, columns, where, days).subquery()
    whole, partial = split(*_widened(session, day, where, days))
    parts = [_days(day, columns, where, part) for part in partial]
    if whole is not None:
        query = select(*(getattr(month, c) for c in columns), month.month.label("month")).where(*where(month))
        if whole[0] is not None:
            query = query.where(month.month >= whole[0])
        if whole[1] is not None:
            query = query.where(month.month <= whole[1])
        parts.append(query)
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def _widened(session: Session, day: type, where: Callable[[type], list[ColumnElement]], days: Days) -> Days:
    """The days, an end that lies at or past the last day holding a row (or a start at or before the first) moved
    to its month's edge: the days between hold nothing, so that month is read from its month row (a window ending
    today reads this month's row, not its days)."""
    first, last = days
    if first is None and last is None:
        return days
    held_first, held_last = held(session, day.day, *where(day))
    if held_first is None:
        return days
    if last is not None and last.isoformat() >= held_last:
        last = _next_month(last) - timedelta(days=1)
    if first is not None and first.isoformat() <= held_first:
        first = first.replace(day=1)
    return first, last


def _days(day: type, columns: Sequence[str], where: Callable[[type], list[ColumnElement]], days: Days) -> Select:
    query = select(*(getattr(day, c) for c in columns), month_of_day(day.day).label("month")).where(*where(day))
    if days[0] is not None:
        query = query.where(day.day >= days[0].isoformat())
    if days[1] is not None:
        query = query.where(day.day <= days[1].isoformat())
    return query
