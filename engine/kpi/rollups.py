"""The KPI page's counts per company day, kept by the database (migration 0025; docs/kpi.md "Rollups").

Counting the completed tasks and the registrations of a range from the source rows grows with the range (18 s and
2.5 s for everything at a million instances). `kpi_completed_day` and `kpi_registered_day` hold those counts per
company day; database triggers on `task` and `instance` keep them in the writing transaction, exact (an engine
command pays no statement for them: issue 17 counts statements per command). The page sums a few rows per day.

A trigger cannot convert time zones, so `kpi_day` lists each company day's first instant, computed here with
zoneinfo (daylight saving included) with `engine.days.day_start`, the same instants the page's windows start at;
the trigger takes the last day starting at or before an instant (one index seek). An instant outside the listed
days is counted under OUTSIDE, and the page then counts the source rows instead. The rollups are used only when
they were built for the configured zone (`kpi_rollup_state`); else, and when they were never built, the page
counts the source rows (the same figures, slower). The page reads a window's whole months of completed tasks
from `kpi_completed_month` (migration 0032, triggers on kpi_completed_day) and only its partial months' days from
the day rows (engine/kpi/month_rows.py). `rebuild` (`salesflow kpi rebuild`) lists the days again for the
configured zone and recounts every rollup from the source rows (and the decided cases per day of
engine/kpi/case_days.py, migration 0026, the open cases of engine/kpi/open_cases.py, migration 0027, and the done
cases per hour bucket of engine/kpi/quantiles.py, migration 0028, and the satisfaction scores of
engine/kpi/score_days.py, migration 0033, which count by the same days).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, exists, func, insert, select, text
from sqlalchemy.orm import Session

from engine.days import day_start
from engine.kpi import case_days, case_rows, month_rows, open_cases, score_days, triggers
from engine.kpi.day_rows import OUTSIDE, has_column, has_table, per_transaction
from engine.kpi.filters import Window
from engine.store.models import (
    Instance,
    KpiCaseDay,
    KpiCaseMonth,
    KpiCompletedDay,
    KpiCompletedMonth,
    KpiDay,
    KpiHoursDay,
    KpiHoursDekad,
    KpiHoursMonth,
    KpiHoursTotal,
    KpiOpenDay,
    KpiRegisteredDay,
    KpiRollupState,
    KpiScoreDay,
    Task,
)

DAYS = (date(2000, 1, 1), date(2100, 1, 1))  # listed at least: the first day, the day after the last
_BATCH = 10_000
# The tables whose triggers count into what rebuild counts again, off while it counts (engine/kpi/triggers.py): the
# decided cases (their months are set again, which fired every trigger of every row), the open cases, and the day
# tables that keep the month tables (a month row upserted per day row: ~130,000 updates of ~5,000 rows in one
# transaction at a million instances left the month tables ~30 times their size on PostgreSQL)
COUNTED_HERE = ("kpi_case", "kpi_open_case", "kpi_completed_day", "kpi_case_day")

# what a rebuild counts: the triggers' rule as one grouped statement per rollup, each source row to its day by a
# range join on kpi_day. Every rebuild's count is written in its key's order (ORDER BY its first columns: the day,
# or the measure and the day): a window's days then lie on adjacent pages, as the triggers leave them (they write
# day by day); in the order of a hash, PostgreSQL read 4,937 pages for two days' 2,849 hour counts
_COUNT_COMPLETED = text(
    "INSERT INTO kpi_completed_day (day, process_key, role, person, n) "
    "SELECT d.day, t.process_key, t.role, COALESCE(t.completed_by, ''), count(*) "
    "FROM kpi_day d JOIN task t ON t.completed_at >= d.starts_at AND t.completed_at < d.ends_at "
    "WHERE t.status = 'completed' GROUP BY d.day, t.process_key, t.role, COALESCE(t.completed_by, '') ORDER BY 1")
_COUNT_REGISTERED = text(
    "INSERT INTO kpi_registered_day (day, process_key, outcome, n) "
    "SELECT d.day, i.process_key, COALESCE(i.outcome, ''), count(*) "
    "FROM kpi_day d JOIN instance i ON i.started_at >= d.starts_at AND i.started_at < d.ends_at "
    "GROUP BY d.day, i.process_key, COALESCE(i.outcome, '') ORDER BY 1")


def days(first: date, last: date, timezone: str) -> Iterator[dict]:
    """kpi_day's rows from `first` to `last` (included): each day's first instant and the next day's."""
    day, start = first, day_start(first, timezone)
    while day <= last:
        following = day + timedelta(days=1)
        end = day_start(following, timezone)
        yield {"starts_at": start, "ends_at": end, "day": day.isoformat()}
        day, start = following, end


def fill_days(session: Session, timezone: str, first: date = DAYS[0], last: date = DAYS[1]) -> int:
    """kpi_day listed again for the zone; returns the days listed."""
    session.execute(delete(KpiDay))
    batch: list[dict] = []
    count = 0
    for row in days(first, last, timezone):
        batch.append(row)
        if len(batch) == _BATCH:
            count += _insert_days(session, batch)
    return count + _insert_days(session, batch)


def _insert_days(session: Session, batch: list[dict]) -> int:
    if batch:
        session.execute(insert(KpiDay), batch)
    count = len(batch)
    batch.clear()
    return count


def _data_days(session: Session, timezone: str) -> tuple[date, date]:
    """The days to list: DAYS, widened to the first and last instant the source rows hold (a day either side)."""
    found = [session.scalar(select(func.min(Task.completed_at))), session.scalar(select(func.max(Task.completed_at))),
             session.scalar(select(func.min(Instance.started_at))),
             session.scalar(select(func.max(Instance.started_at)))]
    local = [at.astimezone(ZoneInfo(timezone)).date() for at in found if at is not None]
    first = min([DAYS[0], *(d - timedelta(days=1) for d in local)])
    last = max([DAYS[1], *(d + timedelta(days=1) for d in local)])
    return first, last


def rebuild(session: Session, timezone: str, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """kpi_day for the zone and every rollup counted again from the source rows, in the caller's transaction: the
    day counts, their month tables (migration 0032), the decided cases per day (0026), the open cases (0027) and
    the done cases per hour bucket (0028), each when the database has it. On PostgreSQL the tables are locked
    first: concurrent commands' triggers wait for it, then count by the new days (their rows were not committed
    when it counted)."""
    say = progress or (lambda _text: None)
    if session.get_bind().dialect.name == "postgresql":  # (SQLite has one writer at a time)
        _lock(session)
    with triggers.switched_off(session, COUNTED_HERE):
        found = _recount(session, timezone, say)
    session.execute(delete(KpiRollupState))
    session.execute(insert(KpiRollupState).values(id=1, timezone=timezone, built_at=datetime.now(UTC)))
    return found


def _recount(session: Session, timezone: str, say: Callable[[str], None]) -> dict[str, int]:
    """rebuild's counts, by the days just listed (COUNTED_HERE's triggers off)."""
    first, last = _data_days(session, timezone)
    listed = fill_days(session, timezone, first, last)
    say(f"kpi_day: {listed:,} days from {first} to {last} ({timezone})")
    if has_column(session, "kpi_case", "month"):  # the decided cases' months by these days (migration 0034)
        case_rows.set_months(session)
        say("kpi_case: the months of the registrations set")
    found = {}
    for table, count in ((KpiCompletedDay, _COUNT_COMPLETED), (KpiRegisteredDay, _COUNT_REGISTERED)):
        session.execute(delete(table))
        with _ranges_of_indexes(session):
            session.execute(count)
        found[table.__tablename__] = session.scalar(select(func.coalesce(func.sum(table.n), 0)))
        say(f"{table.__tablename__}: {found[table.__tablename__]:,} counted")
    if case_days.exists_in(session):  # the decided cases per day (migration 0026): by the days just listed
        found[KpiCaseDay.__tablename__] = case_days.rebuild(session, say)
    for month in _MONTHS:  # after their day rows: one grouped count each
        if has_table(session, month.__tablename__):
            month_rows.recount(session, month)
    if open_cases.exists_in(session):  # the open cases and their counts per day (migration 0027)
        found[KpiOpenDay.__tablename__] = open_cases.rebuild(session, say)
    if has_table(session, KpiHoursMonth.__tablename__):  # the done cases per hour bucket (migration 0028)
        from engine.kpi import quantiles  # (it reads `usable` of this module)

        found[KpiHoursMonth.__tablename__] = quantiles.rebuild(session)
        say(f"kpi_hours_month: {found[KpiHoursMonth.__tablename__]:,} done cases counted")
    if score_days.exists_in(session):  # the satisfaction scores per day (migration 0033)
        found[KpiScoreDay.__tablename__] = score_days.rebuild(session, say)
    return found


_MONTHS = (KpiCompletedMonth, KpiCaseMonth)


def _lock(session: Session) -> None:
    """Every rollup the rebuild writes, locked: a trigger that read the old days waits for the rebuild and then
    counts by the new ones (none may read the old days), and none may write a count the rebuild then deletes."""
    session.execute(text("LOCK TABLE kpi_day IN ACCESS EXCLUSIVE MODE"))
    tables = ["kpi_completed_day", "kpi_registered_day", "kpi_rollup_state"]
    if case_days.exists_in(session):
        tables += ["kpi_case_day", "kpi_case_target"]
    if open_cases.exists_in(session):
        tables += ["kpi_open_case", "kpi_open_day", "kpi_open_end"]
    if score_days.exists_in(session):
        tables += ["kpi_score_day", "kpi_score_month"]
    tables += [t.__tablename__ for t in (*_MONTHS, KpiHoursMonth, KpiHoursDay, KpiHoursDekad, KpiHoursTotal)
               if has_table(session, t.__tablename__)]
    session.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))


@contextlib.contextmanager
def _ranges_of_indexes(session: Session) -> Iterator[None]:
    """SQLite's planner, without statistics, preferred an automatic index on task.status (an equality) to a range
    of ix_task_completed per day, and then read every completed task once per listed day (minutes at a million
    rows instead of seconds): no automatic index for the block. (PostgreSQL plans from its statistics.)"""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.execute(text("PRAGMA automatic_index = off"))
    try:
        yield
    finally:
        if sqlite:  # the connection goes back to the pool as it came
            session.execute(text("PRAGMA automatic_index = on"))




@per_transaction
def usable(session: Session, timezone: str) -> bool:
    """Whether the rollups hold the page's counts for this zone: the database has them (one below migration 0025,
    such as a migration test or a rolled-back upgrade leaves, is counted the old way; asked of the schema once per
    session), they were built for this zone, and no instant fell outside the listed days."""
    if not has_table(session, KpiRollupState.__tablename__):
        return False

    def outside(table: type) -> Select:
        return select(table.day).where(table.day == OUTSIDE, table.n != 0)

    state = select(KpiRollupState.timezone).where(
        KpiRollupState.id == 1, ~exists(outside(KpiCompletedDay)), ~exists(outside(KpiRegisteredDay)))
    return session.scalar(state) == timezone


COMPLETED_DIMENSIONS = ("by_month", "by_role", "by_person")


def completed(session: Session, window: Window) -> list[tuple[str, str | None, int]]:
    """(dimension, key, count) of the user tasks completed in the window's days, per month, role and person
    (COMPLETED_DIMENSIONS; None for no person), summed by the database per month and per role and person in one
    statement (month_rows.summed; its whole months from kpi_completed_month, migration 0032): ~130 rows, where the
    ~4,600 per role, person and month for everything at a million instances cost more to turn into Python objects
    and group again than to sum."""
    found = month_rows.rows(session, KpiCompletedDay, KpiCompletedMonth, ("role", "person", "n"), _chosen(window),
                            (window.day_from, window.day_to))
    sums = month_rows.summed(session, found, dict(zip(COMPLETED_DIMENSIONS, ("month", "role", "person"), strict=True)),
                             ("n",))
    return [(dim, key or None if dim == "by_person" else key, count) for (dim, key), (count,) in sums.items()]


def registered(session: Session, window: Window) -> list[tuple[str, str | None, str, int]]:
    """(process, outcome or None, month, count) of the instances registered in the window's days, non-zero sums (a
    few rows a day: no month table)."""
    found = month_rows.rows(session, KpiRegisteredDay, None, ("process_key", "outcome", "n"), _chosen(window),
                            (window.day_from, window.day_to))
    columns = (found.c.process_key, found.c.outcome, found.c.month)
    n = func.sum(found.c.n)
    rows = session.execute(select(*columns, n).group_by(*columns).having(n != 0))
    return [(process, outcome or None, m, int(count)) for process, outcome, m, count in rows]


def _chosen(window: Window) -> Callable[[type], list]:
    """A rollup table's filter for the window's process (none: every process)."""
    def where(table: type) -> list:
        return [] if window.process is None else [table.process_key == window.process]

    return where


def nonzero_rows(session: Session) -> dict[str, set[tuple]]:
    """Both rollups' non-zero rows as sets (for tests and checks: compare with a count of the source rows)."""
    return {t.__tablename__: {tuple(r) for r in session.execute(
        select(*(c for c in t.__table__.columns)).where(t.n != 0))} for t in (KpiCompletedDay, KpiRegisteredDay)}

