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

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    cast,
    delete,
    func,
    literal,
    null,
    select,
    text,
    union_all,
)
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
        "GROUP BY substr(day, 1, 7), process_key, role, person ORDER BY 1"),
    KpiCaseMonth.__tablename__: text(
        "INSERT INTO kpi_case_month (measure, month, process, role, person, done, within, unresolved) "
        "SELECT measure, substr(day, 1, 7), process, role, person, sum(done), sum(within), sum(unresolved) "
        "FROM kpi_case_day GROUP BY measure, substr(day, 1, 7), process, role, person ORDER BY 1, 2"),
}


def recount(session: Session, table: type) -> None:
    """The month table counted again from its day table (in the caller's transaction, after the day rows)."""
    session.execute(delete(table))
    session.execute(COUNT[table.__tablename__])


def split(first: date | None, last: date | None) -> tuple[tuple[str | None, str | None] | None, list[Days]]:
    """(the first and last whole month of the days as YYYY-MM, None for none; the day ranges of the partial months
    at the edges, each inside one month): whole months from a month table, the rest from the day table."""
    lo = first if first is None or first.day == 1 else next_month(first)
    hi = last if last is None or (last + timedelta(days=1)).day == 1 else last.replace(day=1) - timedelta(days=1)
    if lo is not None and hi is not None and lo > hi:  # no month inside the days: one month's or two months' days
        if first.month == last.month and first.year == last.year:
            return None, [(first, last)]
        return None, [(first, lo - timedelta(days=1)), (lo, last)]
    days: list[Days] = []
    if first is not None and lo != first:
        days.append((first, lo - timedelta(days=1)))
    if last is not None and hi != last:
        days.append((hi + timedelta(days=1), last))
    return (_label(lo), _label(hi)), days


def next_month(day: date) -> date:
    """The first day of the month after the day's."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _label(day: date | None) -> str | None:
    return None if day is None else day.strftime("%Y-%m")


SUMS = frozenset({"n", "done", "within", "unresolved"})  # a rollup's count columns: a day outside is taken away


def rows(session: Session, day: type, month: type | None, columns: Sequence[str],
         where: Callable[[type], list[ColumnElement]], days: Days) -> Subquery:
    """The rows of the day table `day` in `days`, as a subquery of `columns` and `month` (YYYY-MM): whole months
    from the month table `month` (when the database has it: else the day table alone), each partial month at the
    edges as its days, or as its month row less its days outside `days` (their counts, SUMS, negated) when those
    that may hold rows are fewer (a window ending yesterday: this month's row less today's rows). `where` gives a
    table's own filters (process, measure: the columns both tables share). The caller sums the rows per key and
    leaves out the sums of zero."""
    if month is None or not has_table(session, month.__tablename__):
        return _days(day, columns, where, days).subquery()
    # the days rows are held on matter only to a window with an end (everything is every month's row)
    held = None if days == (None, None) else held_days(session, day.day, *where(day))
    whole, partial = split(*_widened(held, days))
    parts = []
    for first, last in partial:
        outside = outside_days(first, last, held)
        if sum((b - a).days + 1 for a, b in outside) < (last - first).days + 1:
            parts.append(_months(month, columns, where, (_label(first),) * 2))
            parts += [_days(day, columns, where, (a, b), sign=-1) for a, b in outside]
        else:
            parts.append(_days(day, columns, where, (first, last)))
    if whole is not None:
        parts.append(_months(month, columns, where, whole))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def _months(month: type, columns: Sequence[str], where: Callable[[type], list[ColumnElement]],
            whole: tuple[str | None, str | None]) -> Select:
    query = select(*(getattr(month, c) for c in columns), month.month.label("month")).where(*where(month))
    if whole[0] is not None:
        query = query.where(month.month >= whole[0])
    if whole[1] is not None:
        query = query.where(month.month <= whole[1])
    return query


def held_days(session: Session, column: ColumnElement, *where: ColumnElement) -> tuple[date, date] | None:
    """day_rows.held as dates; None when the table holds no row."""
    first, last = held(session, column, *where)
    return None if first is None else (date.fromisoformat(first), date.fromisoformat(last))


def outside_days(first: date, last: date, held: tuple[date, date] | None) -> list[Days]:
    """The days of the month of `first` (`last` in the same month) before `first` and after `last` that may hold rows
    (between the first and last day holding any)."""
    if held is None:
        return []
    ranges = [(max(first.replace(day=1), held[0]), min(first - timedelta(days=1), held[1])),
              (max(last + timedelta(days=1), held[0]), min(next_month(last) - timedelta(days=1), held[1]))]
    return [(a, b) for a, b in ranges if a <= b]


def _widened(held: tuple[date, date] | None, days: Days) -> Days:
    """The days, an end that lies at or past the last day holding a row (or a start at or before the first) moved
    to its month's edge: the days between hold nothing, so that month is read from its month row (a window ending
    today reads this month's row, not its days)."""
    first, last = days
    if held is None or (first is None and last is None):
        return days
    if last is not None and last >= held[1]:
        last = next_month(last) - timedelta(days=1)
    if first is not None and first <= held[0]:
        first = first.replace(day=1)
    return first, last


def _days(day: type, columns: Sequence[str], where: Callable[[type], list[ColumnElement]], days: Days,
          sign: int = 1) -> Select:
    chosen = [(-getattr(day, c)).label(c) if sign < 0 and c in SUMS else getattr(day, c) for c in columns]
    query = select(*chosen, month_of_day(day.day).label("month")).where(*where(day))
    if days[0] is not None:
        query = query.where(day.day >= days[0].isoformat())
    if days[1] is not None:
        query = query.where(day.day <= days[1].isoformat())
    return query


def summed(session: Session, rows: Subquery, keys: dict[str, str], sums: Sequence[str],
           by: Sequence[str] = ()) -> dict[tuple, list[int]]:
    """(dimension, key, *by) -> the sums of `sums` of the rows per each dimension of `keys` (dimension -> column;
    'month' among them), non-zero sums only. Two groupings, not one a dimension: per month, and per every other
    key at once, spread to each of them here (a few hundred groups). SQLite sorts each grouping not in an index's
    order (it has no hash aggregate): two sorts of a window's rows instead of one a dimension, and for the whole
    time (the month table alone) both stream from the table's key and its index in that order (migration 0039)."""
    month = next(dim for dim, name in keys.items() if name == "month")
    others = [(dim, name) for dim, name in keys.items() if name != "month"]
    width = len(others)
    found: dict[tuple, list[int]] = {}
    for grouping, *values in session.connection().execute(_groupings(rows, [name for _, name in others], sums, by)):
        tail, counts = tuple(values[width:width + len(by)]), [int(c) for c in values[width + len(by):]]
        spread = [(month, values[0])] if grouping == 0 else [(dim, values[n]) for n, (dim, _) in enumerate(others)]
        for dim, key in spread:
            total = found.setdefault((dim, key, *tail), [0] * len(sums))
            total[:] = [a + b for a, b in zip(total, counts, strict=True)]
    return {key: counts for key, counts in found.items() if any(counts)}


def _groupings(rows: Subquery, keyed: list[str], sums: Sequence[str], by: Sequence[str]) -> Select:
    """SQL: the sums per month (grouping 0, the month in the first key's place) and per the `keyed` columns at once
    (grouping 1), each with `by`, as one UNION ALL."""
    extra = [rows.c[name] for name in by]
    totals = [func.sum(rows.c[name]) for name in sums]
    blanks = [cast(null(), String) for _ in keyed[1:]]  # (both arms as wide)
    per_month = select(literal(0), rows.c.month, *blanks, *extra, *totals).group_by(rows.c.month, *extra)
    columns = [rows.c[name] for name in keyed]
    return union_all(per_month, select(literal(1), *columns, *extra, *totals).group_by(*columns, *extra))
