"""What the KPI page's per-day rollups share (engine/kpi/rollups.py, case_days.py, open_cases.py, quantiles.py): the
day an instant is counted under, a day row's month, and whether the database has a rollup's table at all."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, inspect, literal_column, select, text
from sqlalchemy.orm import Session

_Check = TypeVar("_Check", bound=Callable[..., Any])

OUTSIDE = "0000-00-00"  # the day of an instant kpi_day does not cover


def day_of(instant: str) -> str:
    """SQL: the company day (kpi_day's YYYY-MM-DD) of the instant column `instant`, found as the triggers find it —
    the last listed day starting at or before it, one seek in kpi_day — or OUTSIDE past the listed days."""
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {instant} THEN d.day END FROM kpi_day d "
            f"WHERE d.starts_at <= {instant} ORDER BY d.starts_at DESC LIMIT 1), '{OUTSIDE}')")


def month(day: ColumnElement) -> ColumnElement:
    """A day column's YYYY-MM: substr with literal bounds, so that PostgreSQL's server-side parameters leave the
    selected expression and the GROUP BY's one and the same."""
    return func.substr(day, literal_column("1"), literal_column("7"))


def has_table(session: Session, name: str) -> bool:
    """Whether the database has the table (a database below its migration, as a migration test or a rolled-back
    upgrade leaves, is counted the old way): the schema's table names asked once per session (one catalog query for
    the page's dozen checks: ~0.3 ms each on PostgreSQL)."""
    if "kpi_tables" not in session.info:
        session.info["kpi_tables"] = frozenset(inspect(session.connection()).get_table_names())
    return name in session.info["kpi_tables"]


def has_column(session: Session, table: str, column: str) -> bool:
    """Whether the database's table has the column (one added by a later migration), asked once per session: one
    catalog read (SQLAlchemy's inspector read every column and type of the table: three queries, ~3 ms a page on
    PostgreSQL)."""
    key = f"kpi_has_column:{table}.{column}"
    if key not in session.info:
        session.info[key] = has_table(session, table) and session.scalar(
            _COLUMN_FOUND[session.get_bind().dialect.name], {"table": table, "column": column}) is not None
    return session.info[key]


_COLUMN_FOUND = {  # dialect -> a row when :table (of the connection's schema path) has the live column :column
    "sqlite": text("SELECT 1 FROM pragma_table_info(:table) WHERE name = :column"),
    "postgresql": text("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:table) AND attname = :column "
                       "AND attnum > 0 AND NOT attisdropped"),
}


def held(session: Session, day: ColumnElement, *where: ColumnElement) -> tuple[str | None, str | None]:
    """The first and last day a day table's `day` column holds a row on (OUTSIDE aside), among the rows `where`
    selects; (None, None) when none. Two seeks: min() and max() in one SELECT made SQLite scan the key (see
    measures.registration_bounds)."""
    def bound(fn: type) -> ColumnElement:
        return select(fn(day)).where(*where, day > OUTSIDE).scalar_subquery()

    first, last = session.execute(select(bound(func.min), bound(func.max))).one()
    return first, last


def asked(session: Session) -> dict:
    """What the session learnt of the schema and the rollups (has_table, has_column and the per_transaction checks):
    handed to a part of the page read on a session of its own (engine/kpi/parallel_reads.py), so that the page asks
    each question once."""
    return {key: value for key, value in session.info.items()
            if (isinstance(key, str) and key.startswith("kpi_")) or (isinstance(key, tuple) and key[0] == _CHECKED)}


_CHECKED = "kpi_checked"


def per_transaction(check: _Check) -> _Check:
    """`check(session, *args)` asked once per session for the same args: a session is one transaction, so what it
    read cannot change under it (the page asks whether its rollups are usable once per section and measure)."""
    @functools.wraps(check)
    def once(session: Session, *args: Any) -> Any:
        key = (_CHECKED, check.__module__, check.__qualname__, repr(args))  # (a measure holds dicts)
        if key not in session.info:
            session.info[key] = check(session, *args)
        return session.info[key]

    return once  # type: ignore[return-value]
