"""Collect what the KPI figures are computed from, read-only, with SQLAlchemy.

Sources (all written by the engine in the command's own transaction, so they agree):
- `instance` rows: registration (started_at), status, process_key;
- `task` rows: when each user task was completed, by whom, in which role (completed_at,
  completed_by, role) and, while open, its role and assignee;
- `audit_event` rows of kind `completed`: the data a task was completed with (for an end
  condition such as `outcome: resolved`, and for satisfaction scores).

Every interval belongs to the month of its instance's registration; completed tasks to the
month they were completed; satisfaction scores to the month they were recorded (company time).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.clock import iso
from engine.kpi.definitions import Interval, Measure, Point, SatisfactionSource
from engine.kpi.filters import Window
from engine.kpi.stats import Timing
from engine.store.models import AuditEvent, Instance, Task


@dataclass(frozen=True)
class Case:
    """One measured interval of one instance, with whom it is attributed to."""

    measure: str
    process: str
    instance_id: int
    month: str
    role: str | None
    person: str | None
    timing: Timing


@dataclass(frozen=True)
class Registered:
    instance_id: int
    process: str
    month: str
    status: str
    outcome: str | None = None


@dataclass(frozen=True)
class Done:
    """A completed user task (volumes per role and person)."""

    process: str
    month: str
    role: str
    person: str | None


@dataclass(frozen=True)
class Score:
    process: str
    instance_id: int
    month: str
    role: str | None
    person: str | None
    value: int


def month_of(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _registered_in(window: Window, processes: Iterable[str] | None = None) -> Select:
    query = window.narrow(select(Instance.id), Instance.started_at, Instance.process_key)
    if processes is not None:
        query = query.where(Instance.process_key.in_(list(processes)))
    return query


def registered(session: Session, window: Window, timezone: str) -> list[Registered]:
    ids = _registered_in(window)
    rows = session.execute(select(Instance.id, Instance.process_key, Instance.started_at, Instance.status,
                                  Instance.outcome).where(Instance.id.in_(ids)).order_by(Instance.id))
    return [Registered(r.id, r.process_key, month_of(r.started_at, timezone), r.status, r.outcome) for r in rows]


def _completion_data(session: Session, instances: Select, tasks: Iterable[str]) -> dict[str, dict]:
    """task row id -> the data it was completed with, from the audit trail's `completed` events."""
    events = session.scalars(select(AuditEvent.payload).where(
        AuditEvent.kind == "completed", AuditEvent.task.in_(list(tasks)), AuditEvent.instance_id.in_(instances)))
    found = {}
    for text in events:
        payload = json.loads(text)
        found[payload.get("task_id")] = payload.get("data") or {}
    return found


def _matches(data: dict, wanted: dict) -> bool:
    return all(data.get(k) == v for k, v in wanted.items())


def _first(rows: list[Task], point: Point, data: dict[str, dict]) -> Task | None:
    """The earliest completed row reaching the point. A row completed with other data (an after-sales
    engineer asking to close the case) does not end the interval: the case goes on until it is resolved
    or ends otherwise (the instance's outcome says how)."""
    completed = sorted((r for r in rows if r.status == "completed" and r.bpmn_id in point.tasks),
                       key=lambda r: r.completed_at)
    reaching = [r for r in completed if not point.data or _matches(data.get(r.id, {}), point.data)]
    return reaching[0] if reaching else None


def _unresolved(measure: Measure, spec: Interval, inst: Instance, start: datetime, rows: list[Task],
                month: str) -> Case:
    """An instance that ended with an outcome the interval counts as unresolved: a breach, attributed to
    whoever completed its end task last (the engineer who asked to close the case), even when that same
    task reached the end once before (a resolved case the customer reopened and that then closed)."""
    done = sorted((r for r in rows if r.status == "completed" and r.bpmn_id in spec.end.tasks),
                  key=lambda r: r.completed_at)
    role, person = (done[-1].role, done[-1].completed_by) if done else (None, None)
    timing = Timing(_hours(start, inst.ended_at or start), done=False, unresolved=True)
    return Case(measure.key, spec.process, inst.id, month, role, person, timing)


def _case(measure: Measure, spec: Interval, inst: Instance, rows: list[Task], data: dict[str, dict],
          now: datetime, timezone: str) -> Case | None:
    """The interval of one instance; None when it has not started, or ended without reaching its end
    (a cancelled instance): such an interval is not measured. An instance that ended with one of the
    interval's `unresolved` outcomes (an after-sales case closed unresolved) is a breach."""
    if spec.start.is_registration:
        start = inst.started_at
    else:
        first = _first(rows, spec.start, data)
        if first is None:
            return None
        start = first.completed_at
    month = month_of(inst.started_at, timezone)
    if inst.outcome is not None and inst.outcome in spec.unresolved:
        return _unresolved(measure, spec, inst, start, rows, month)
    end = _first(rows, spec.end, data)
    if end is not None:
        timing = Timing(_hours(start, end.completed_at), done=True)
        return Case(measure.key, spec.process, inst.id, month, end.role, end.completed_by, timing)
    if inst.status not in ("running", "incident"):  # ended without reaching the end; a halted case is still open
        return None
    waiting = [r for r in rows if r.status == "ready" and r.bpmn_id in spec.end.tasks]
    role, person = (waiting[0].role, waiting[0].assignee) if waiting else (None, None)
    return Case(measure.key, spec.process, inst.id, month, role, person, Timing(_hours(start, now), done=False))


def cases(session: Session, measure: Measure, window: Window, now: datetime, timezone: str) -> list[Case]:
    found: list[Case] = []
    for spec in measure.intervals:
        if window.process not in (None, spec.process):
            continue
        ids = _registered_in(window, [spec.process])
        tasks = set(spec.start.tasks) | set(spec.end.tasks)
        by_instance: dict[int, list[Task]] = {}
        for row in session.scalars(select(Task).where(Task.instance_id.in_(ids), Task.bpmn_id.in_(tasks))):
            by_instance.setdefault(row.instance_id, []).append(row)
        conditional = {t for p in (spec.start, spec.end) if p.data for t in p.tasks}
        data = _completion_data(session, ids, conditional) if conditional else {}
        for inst in session.scalars(select(Instance).where(Instance.id.in_(ids)).order_by(Instance.id)):
            case = _case(measure, spec, inst, by_instance.get(inst.id, []), data, now, timezone)
            if case is not None:
                found.append(case)
    return found


def resolved_ids(session: Session, process: str, point: Point, window: Window) -> set[int]:
    """The instances (registered in the window) that reached the point."""
    ids = _registered_in(window, [process])
    rows = list(session.scalars(select(Task).where(Task.instance_id.in_(ids), Task.bpmn_id.in_(point.tasks),
                                                   Task.status == "completed")))
    data = _completion_data(session, ids, point.tasks) if point.data else {}
    return {r.instance_id for r in rows if not point.data or _matches(data.get(r.id, {}), point.data)}


def completed_tasks(session: Session, window: Window, timezone: str) -> list[Done]:
    query = select(Task.process_key, Task.role, Task.completed_by, Task.completed_at).where(
        Task.status == "completed", Task.completed_at.is_not(None))
    query = window.narrow(query, Task.completed_at, Task.process_key)
    return [Done(r.process_key, month_of(r.completed_at, timezone), r.role, r.completed_by)
            for r in session.execute(query)]


def _score_events(session: Session, source: SatisfactionSource, window: Window) -> list[AuditEvent]:
    instances = select(Instance.id).where(Instance.process_key == source.process)
    query = select(AuditEvent).where(AuditEvent.kind == "completed", AuditEvent.task.in_(source.tasks),
                                     AuditEvent.instance_id.in_(instances))
    if window.start is not None:  # `at` is fixed-width UTC ISO text (engine.clock.iso): text order is time order
        query = query.where(AuditEvent.at >= iso(window.start))
    return list(session.scalars(query.order_by(AuditEvent.instance_id, AuditEvent.position)))


def _values(source: SatisfactionSource, data: dict) -> list[int]:
    rows = data.get(source.list_field) if source.list_field else [data]
    values = [row.get(source.field) for row in rows or [] if isinstance(row, dict)]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5]


def _attribution(session: Session, source: SatisfactionSource, instance_ids: set[int]) -> dict[int, Task]:
    """instance id -> the last completed row of the tasks the case's score is attributed to."""
    if not source.attributed_to or not instance_ids:
        return {}
    rows = session.scalars(select(Task).where(Task.instance_id.in_(instance_ids),
                                              Task.bpmn_id.in_(source.attributed_to),
                                              Task.status == "completed").order_by(Task.completed_at))
    return {r.instance_id: r for r in rows}


def scores(session: Session, source: SatisfactionSource, window: Window, timezone: str) -> list[Score]:
    """The scores recorded in the window: per case the latest one (`per_case: latest`), else every one."""
    if window.process not in (None, source.process):
        return []
    recorded: list[tuple[AuditEvent, list[int]]] = []
    for event in _score_events(session, source, window):
        values = _values(source, json.loads(event.payload).get("data") or {})
        if not values:
            continue
        if source.latest_per_case and recorded and recorded[-1][0].instance_id == event.instance_id:
            recorded.pop()  # ordered by instance then position: a later score replaces the earlier
        recorded.append((event, values))
    kept = [(e, v) for e, v in recorded if window.contains(datetime.fromisoformat(e.at).astimezone(UTC))]
    who = _attribution(session, source, {e.instance_id for e, _ in kept})
    found = []
    for event, values in kept:
        row = who.get(event.instance_id)
        month = month_of(datetime.fromisoformat(event.at), timezone)
        found.extend(Score(source.process, event.instance_id, month, row.role if row else None,
                           row.completed_by if row else None, v) for v in values)
    return found
