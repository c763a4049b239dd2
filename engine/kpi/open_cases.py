"""The open cases of the KPI times, kept by the database (migration 0027; docs/kpi.md "Rollups").

An open case is a running or halted instance of an interval's process without a decided row (kpi_case), counted
per month of its registration and the role and assignee of its first waiting end task, and late when registered
before `now - target`. Counting them live read every open instance of the range and looked its first waiting task
up. Triggers keep `kpi_open_case` (one row per open case, with whom it is offered to) and `kpi_open_day` (their
counts per measure, company day of the registration, process, role and person) in the writing transaction, by the
rule of times._open as SQL, with the end tasks of `kpi_open_end` (kpi.yaml's). The page sums the days of the window;
the days before the one in which `now - target` falls are late, the days after it are not, and that one day is
counted exactly from kpi_open_case (a range of ix_kpi_open_case_day). Used only while kpi_open_end holds kpi.yaml's
end tasks of the measure, kpi_day kpi.yaml's zone, and no registration fell outside the listed days (`usable`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, exists, func, insert, select, text
from sqlalchemy.orm import Session

from engine.days import day_start
from engine.kpi import definitions
from engine.kpi.day_rows import OUTSIDE, day_of, has_table, per_transaction
from engine.kpi.day_rows import month as month_of_day
from engine.kpi.filters import Window
from engine.store.models import KpiOpenCase, KpiOpenDay, KpiOpenEnd, KpiRollupState

# what a rebuild counts from kpi_open_case: the trigger's rule as one grouped statement (a seek in kpi_day per row)
_COUNT = text(
    "INSERT INTO kpi_open_day (measure, day, process, role, person, n) "
    "SELECT measure, day, process, role, person, count(*) FROM ("
    f"SELECT o.measure, {day_of('o.started_at')} AS day, o.process, "
    "COALESCE(o.role, '') AS role, COALESCE(o.person, '') AS person FROM kpi_open_case o) AS x "
    "GROUP BY measure, day, process, role, person ORDER BY 1, 2")


# open_select's columns, in its order
COLUMNS = (KpiOpenCase.measure, KpiOpenCase.instance_id, KpiOpenCase.process, KpiOpenCase.started_at, KpiOpenCase.role,
           KpiOpenCase.person)


class Open(NamedTuple):
    """The open cases of one process, month, role and person (None: not offered yet / no assignee), and the late
    ones."""

    process: str
    month: str
    role: str | None
    person: str | None
    open: int
    late: int


def exists_in(session: Session) -> bool:
    """Whether the database has the tables (not below migration 0027)."""
    return has_table(session, KpiOpenDay.__tablename__)


def ends(measures: tuple[definitions.Measure, ...] | list[definitions.Measure]) -> set[tuple[str, str, str]]:
    """(end task, measure, process) of every interval that starts at the registration (kpi_open_end's rows)."""
    return {(task, m.key, spec.process) for m in measures for spec in m.intervals if spec.start.is_registration
            for task in spec.end.tasks}


def _waiting(columns: str, instance: str = "i.id", measure: str = "s.measure", process: str = "s.process") -> str:
    """The first waiting end task's columns (measures._first_waiting: ready, by creation time and id)."""
    return (f"(SELECT {columns} FROM task t WHERE t.instance_id = {instance} AND t.status = 'ready' AND t.bpmn_id IN "
            f"(SELECT e.bpmn_id FROM kpi_open_end e WHERE e.measure = {measure} AND e.process = {process}) "
            "ORDER BY t.created_at, t.id LIMIT 1)")


def open_select(where: str, offered_to: bool = True) -> str:
    """The open rows of the instances `where` selects (alias i; s: the measure and process): times._open's rule;
    whom they are offered to left NULL unless `offered_to` (the triggers set it with `offered`)."""
    role, person = (_waiting("t.role"), _waiting("t.assignee")) if offered_to else ("NULL", "NULL")
    return (f"SELECT s.measure AS measure, i.id AS instance_id, i.process_key AS process, i.started_at AS started_at, "
            f"{role} AS role, {person} AS person "
            "FROM instance i JOIN (SELECT DISTINCT e.measure, e.process FROM kpi_open_end e) s "
            f"ON s.process = i.process_key WHERE {where} AND i.status IN ('running', 'incident') "
            "AND NOT EXISTS (SELECT 1 FROM kpi_case c WHERE c.measure = s.measure AND c.instance_id = i.id)")


def open_rows(where: str, offered_to: bool = True) -> str:
    """INSERT of the open rows of the instances `where` selects (the rebuild: all; the triggers of migration 0027:
    one instance, then `offered`)."""
    return ("INSERT INTO kpi_open_case (measure, instance_id, process, started_at, role, person) "
            f"{open_select(where, offered_to)}")


def offered(where: str) -> str:
    """UPDATE of whom the open rows `where` selects are offered to (a task changed: which cases are open did not).
    One subquery for both columns (a row value): SQLite compiles a trigger's statements into every statement that
    fires it, so a shorter body is a cheaper engine command."""
    row = ("kpi_open_case.instance_id", "kpi_open_case.measure", "kpi_open_case.process")
    return f"UPDATE kpi_open_case SET (role, person) = {_waiting('t.role, t.assignee', *row)} WHERE {where}"


def by_rule(session: Session) -> set[tuple]:
    """kpi_open_case's rows as the rule computes them now (for checks: compare with `kept`)."""
    return set(session.execute(text(open_select("true")).columns(*COLUMNS)).tuples())


def kept(session: Session) -> set[tuple]:
    """kpi_open_case's rows as the triggers kept them, in `by_rule`'s order."""
    return set(session.execute(select(*COLUMNS)).tuples())


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """kpi.yaml's end tasks, every open case and their counts per day again (in the caller's transaction;
    rollups.rebuild calls this after listing the days again); returns the open cases."""
    session.execute(delete(KpiOpenEnd))
    rows = [{"bpmn_id": t, "measure": m, "process": p} for t, m, p in sorted(ends(definitions.load().measures))]
    if rows:
        session.execute(insert(KpiOpenEnd), rows)
    session.execute(delete(KpiOpenCase))
    session.execute(text(open_rows("true")))
    session.execute(delete(KpiOpenDay))  # counted once more, by one grouped statement (the triggers may be off)
    session.execute(_COUNT)
    counted = int(session.scalar(select(func.coalesce(func.sum(KpiOpenDay.n), 0))))
    if progress is not None:
        progress(f"kpi_open_day: {counted:,} open cases counted")
    return counted


@per_transaction
def usable(session: Session, measure: definitions.Measure, timezone: str) -> bool:
    """Whether kpi_open_day holds the measure's open cases: the tables are there, kpi_day is this zone's, no
    registration fell outside the listed days, and kpi_open_end holds the measure's end tasks of kpi.yaml."""
    if not exists_in(session):
        return False
    outside = select(KpiOpenDay.day).where(KpiOpenDay.measure == measure.key, KpiOpenDay.day == OUTSIDE,
                                           KpiOpenDay.n != 0)  # the measure first: a seek in the key
    zone = select(KpiRollupState.timezone).where(KpiRollupState.id == 1, ~exists(outside)).scalar_subquery()
    rows = session.execute(select(KpiOpenEnd.bpmn_id, KpiOpenEnd.measure, KpiOpenEnd.process, zone).where(
        KpiOpenEnd.measure == measure.key)).all()  # (the zone on each row: one statement, not two)
    if not rows:  # (a measure always has end tasks: kpi_open_end was never filled for it)
        return False
    return all(row[3] == timezone for row in rows) and {tuple(row[:3]) for row in rows} == ends([measure])


def counts(session: Session, measure: str, processes: list[str], window: Window, late_before: datetime,
           timezone: str) -> list[Open]:
    """The open cases of the measure and processes registered in the window's days, per process, month, role and
    person, and how many of them were registered before `late_before` (now - target): two statements for all the
    processes (each a round trip, which on PostgreSQL cost more than the rows)."""
    boundary = late_before.astimezone(ZoneInfo(timezone)).date()
    month = month_of_day(KpiOpenDay.day)
    keys = (KpiOpenDay.process, month, KpiOpenDay.role, KpiOpenDay.person)
    n = func.sum(KpiOpenDay.n)
    query = select(*keys, n, func.sum(case((KpiOpenDay.day < boundary.isoformat(), KpiOpenDay.n), else_=0))).where(
        KpiOpenDay.measure == measure, KpiOpenDay.process.in_(processes))
    if window.day_from is not None:
        query = query.where(KpiOpenDay.day >= window.day_from.isoformat())
    if window.day_to is not None:
        query = query.where(KpiOpenDay.day <= window.day_to.isoformat())
    found = {(p, m, role or None, person or None): [int(total), int(late)]
             for p, m, role, person, total, late in session.execute(query.group_by(*keys).having(n != 0))}
    # the boundary day: late when registered before late_before, counted from the rows of that day
    start = day_start(boundary, timezone)
    start = start if window.start is None else max(start, window.start)
    end = late_before if window.end is None else min(late_before, window.end)
    if start < end:
        exact = select(KpiOpenCase.process, KpiOpenCase.role, KpiOpenCase.person, func.count()).where(
            KpiOpenCase.measure == measure, KpiOpenCase.process.in_(processes), KpiOpenCase.started_at >= start,
            KpiOpenCase.started_at < end).group_by(KpiOpenCase.process, KpiOpenCase.role, KpiOpenCase.person)
        label = boundary.strftime("%Y-%m")
        for process, role, person, count in session.execute(exact):
            found[(process, label, role or None, person or None)][1] += count
    return [Open(*key, total, late) for key, (total, late) in found.items()]


def nonzero_rows(session: Session) -> set[tuple]:
    """kpi_open_day's non-zero rows (for tests and checks: compare with a count of kpi_open_case)."""
    return {tuple(r) for r in session.execute(select(*KpiOpenDay.__table__.columns).where(KpiOpenDay.n != 0))}
