"""The decided cases of the KPI measures, one `kpi_case` row each (migration 0023), kept by the steps.

A case is decided when its interval reached its end (done) or its instance ended with one of the interval's
`unresolved` outcomes; then its hours and whom it is attributed to are fixed, except that a done after-sales case
can still be reopened and closed unresolved. So a case's row is computed again, by the page's own rule
(measures.of_instances restricted to the one instance: one home for the rule), whenever a step of an instance of a
measured process completes one of its intervals' start or end tasks or ends the instance (Step.finish), and when a
version migration may have reset its tasks (engine/runtime/migration.py). Open cases have no row: the page counts
them live (engine/kpi/times.py). Steps of processes no interval measures never pay a statement here.

Rows of a measured instance written through the ORM's unit of work rather than by a step (tests and tools that
add Instance and Task objects; no command does) are followed too: the instances of such objects get their rows
again before the commit (`_follow_orm_writes`), so the table never silently misses what the session wrote.

`rebuild` fills the table from scratch with the same rule (migration 0023, `salesflow kpi rebuild`, the benches
after their bulk loads).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, delete, event, insert, text
from sqlalchemy.orm import Session, UOWTransaction

from engine.kpi import definitions, measures
from engine.kpi.day_rows import day_of
from engine.store.models import Instance, KpiCase, Task

BATCH = 5000  # rows per INSERT while rebuilding


@lru_cache(maxsize=1)
def tracked() -> dict[str, frozenset[str]]:
    """process -> the tasks whose completion may decide one of its cases (its intervals' start and end tasks)."""
    found: dict[str, set[str]] = {}
    for measure in definitions.load().measures:
        for spec in measure.intervals:
            found.setdefault(spec.process, set()).update(spec.start.tasks, spec.end.tasks)
    return {process: frozenset(tasks) for process, tasks in found.items()}


def after_step(session: Session, instance_id: int, process: str, closed: Iterable[Task], ended: bool,
               at: datetime) -> None:
    """The rows a step may have changed: those of the intervals one of whose start or end tasks it completed, or all
    of the instance's when it ended it. Decided by Python alone: a step of an unmeasured process, or one that
    completes no measured task, sends nothing."""
    tasks = tracked().get(process)
    if tasks is None:
        return
    done = {row.bpmn_id for row in closed if row.status == "completed" and row.bpmn_id in tasks}
    if ended or done:
        refresh(session, instance_id, process, at, None if ended else done)


def _row(case: measures.Case) -> dict | None:
    """The case's row when it is decided; None while it is open."""
    if not (case.timing.done or case.timing.unresolved):
        return None
    return {"measure": case.measure, "instance_id": case.instance_id, "process": case.process,
            "started_at": case.started_at, "role": case.role, "person": case.person, "hours": case.timing.hours,
            "unresolved": case.timing.unresolved}


def _specs(process: str | None = None,
           completed: set[str] | None = None) -> list[tuple[definitions.Measure, definitions.Interval]]:
    """(measure, interval) of the process (all: None), those whose start or end is one of `completed` if given."""
    return [(m, spec) for m in definitions.load().measures for spec in m.intervals
            if (process is None or spec.process == process)
            and (completed is None or completed & {*spec.start.tasks, *spec.end.tasks})]


def refresh(session: Session, instance_id: int, process: str, now: datetime,
            completed: set[str] | None = None) -> None:
    """The instance's rows as its cases stand now, in the caller's transaction (the step's own): of every interval
    of its process, or of those whose start or end is one of the `completed` tasks."""
    session.info.setdefault(_DONE, set()).add(instance_id)
    session.flush()  # the page's reads go through the connection: the step's last changes must be there
    timezone, specs = definitions.load().timezone, _specs(process, completed)
    rows = [row for measure, spec in specs
            for case in measures.of_instances(session, measure, spec, lambda q: q.where(Instance.id == instance_id),
                                              now, timezone)
            if (row := _row(case)) is not None]
    table = KpiCase.__table__
    session.execute(delete(table).where(table.c.instance_id == instance_id,
                                        table.c.measure.in_(sorted({m.key for m, _ in specs}))))
    if rows:
        session.execute(insert(table), rows)


def set_months(where: Session | Connection) -> None:
    """kpi_case.month set again for every row by the listed days (migration 0034's upgrade, rollups.rebuild after
    listing the days for a zone; the triggers keep it as rows are written)."""
    where.execute(text(f"UPDATE kpi_case SET month = substr({day_of('kpi_case.started_at')}, 1, 7)"))


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """Every decided case again, from the instances, tasks and trail (in the caller's transaction); returns how many
    rows were written. `progress` is told of each measure and process and of every 100,000 rows."""
    session.execute(delete(KpiCase.__table__))
    timezone, now, written = definitions.load().timezone, datetime.now(UTC), 0
    for measure, spec in _specs():
        batch: list[dict] = []
        for case in measures.of_instances(session, measure, spec, lambda q: q, now, timezone):
            row = _row(case)
            if row is None:
                continue
            batch.append(row)
            if len(batch) == BATCH:
                written += _insert(session, batch, progress, written)
        written += _insert(session, batch, progress, written)
        if progress is not None:
            progress(f"{measure.key} {spec.process}: done ({written:,} rows)")
    return written


def _insert(session: Session, batch: list[dict], progress: Callable[[str], None] | None, before: int) -> int:
    if not batch:
        return 0
    session.connection().execute(insert(KpiCase.__table__), batch)
    count = len(batch)
    if progress is not None and (before + count) // 100_000 > before // 100_000:
        progress(f"{before + count:,} rows")
    batch.clear()
    return count



_PENDING, _DONE = "kpi_case_pending", "kpi_case_refreshed"  # session.info keys: instances to refresh, refreshed


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush: UOWTransaction) -> None:
    """Instances of measured processes whose rows the flush wrote through the ORM in a way that may decide a case:
    an instance added or ended, a task of an interval completed."""
    measured = tracked()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Instance) and obj.process_key in measured and (
                obj in session.new or obj.status not in ("running", "incident")):
            session.info.setdefault(_PENDING, {})[obj.id] = obj.process_key
        elif (isinstance(obj, Task) and obj.status == "completed"
              and obj.bpmn_id in measured.get(obj.process_key, ())):
            session.info.setdefault(_PENDING, {})[obj.instance_id] = obj.process_key


@event.listens_for(Session, "before_commit")
def _follow_orm_writes(session: Session) -> None:
    session.flush()
    while pending := session.info.pop(_PENDING, None):
        for instance_id, process in pending.items():
            if instance_id not in session.info.get(_DONE, ()):
                refresh(session, instance_id, process, datetime.now(UTC))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_DONE, None)
