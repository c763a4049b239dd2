"""Collect what the KPI figures are computed from, read-only, with SQLAlchemy.

Sources (all written by the engine in the command's own transaction, so they agree):
- `instance` rows: registration (started_at), status, process_key;
- `task` rows: when each user task was completed, by whom, in which role (completed_at,
  completed_by, role) and, while open, its role and assignee;
- `audit_event` rows of kind `completed`: the data a task was completed with (for an end
  condition such as `outcome: resolved`, and for satisfaction scores).

Every interval belongs to the month of its instance's registration; completed tasks to the
month they were completed; satisfaction scores to the month they were recorded (company time).

At a million instances nothing here holds every task row: counts are grouped by the database (months.py
buckets them by company month), and the intervals are read as one row per instance (its first completion
reaching each end, picked by a window function), streamed and merged in instance order. Both are read from indexes
alone (migration 0020): an instance's measured steps from ix_task_instance_status, the completions of a range from
ix_task_completed, so a date range reads the rows of its range only, not every task row.

The interval rule (`of_instances`) has one home here and two users: the decided-case rows (engine/kpi/case_rows.py,
one instance at a time as its steps decide it, or every instance for a rebuild) that the page's times are counted
from (engine/kpi/times.py), and `cases`, every case of a window summarized in Python (an interval that starts at a
task; a database below migration 0023).

The satisfaction rule (`recorded`) has one home here too and two users: the score rows (engine/kpi/score_rows.py,
one instance as its steps score or re-attribute it, or every instance for a rebuild) whose counts per day and month
the page sums (engine/kpi/score_days.py, `score_counts`), and `scores`, every score of a window read from the trail
(a database below migration 0033, or counts not built for the configured zone).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import NamedTuple

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from engine.clock import iso
from engine.kpi import months, rollups, score_days
from engine.kpi.day_rows import per_transaction
from engine.kpi.definitions import Interval, Measure, Point, SatisfactionSource
from engine.kpi.filters import Window
from engine.kpi.stats import Timing
from engine.store.models import COMPLETED, AuditEvent, Instance, Task

month_of = months.month_of  # sales and opinions count by it too
STREAM_BATCH = 5000


class Case(NamedTuple):
    """One measured interval of one instance, with whom it is attributed to (a tuple: the page makes one per
    instance and keeps none)."""

    measure: str
    process: str
    instance_id: int
    month: str
    role: str | None
    person: str | None
    timing: Timing
    started_at: datetime | None = None  # the registration (kpi_case's window)


class Registrations(NamedTuple):
    """How many instances of a process registered in a month ended with an outcome (None: not ended)."""

    process: str
    outcome: str | None
    month: str
    count: int


class Completions(NamedTuple):
    """How many user tasks were completed in a month, of a role or by a person (dim: by_month, by_role, by_person;
    key None: no person)."""

    dim: str
    key: str | None
    count: int


class Score(NamedTuple):
    process: str
    instance_id: int
    month: str
    role: str | None
    person: str | None
    value: int


class ScoreCount(NamedTuple):
    """How many of a source's scores of a value were recorded under a key of one breakdown: `dim` "by_month" (key: the
    month), "by_role" or "by_person" (key: the role or person, None: not attributed). Each score counts once per dim."""

    dim: str
    key: str | None
    value: int
    n: int


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _registered_in(window: Window, processes: Iterable[str] | None = None) -> Select:
    query = window.narrow(select(Instance.id), Instance.started_at, Instance.process_key)
    if processes is not None:
        query = query.where(Instance.process_key.in_(list(processes)))
    return query


def _streamed(session: Session, query: Select) -> Iterator[Row]:
    """The rows one at a time (a server-side cursor on PostgreSQL): a million rows are never all in memory. Core
    rows on the session's connection: the ORM's row loading would cost more than the rest of the loop."""
    # closed when the reader stops early too (a merge join done before its stream, the generator closed): left
    # open, PostgreSQL's server-side cursor outlived the read, and an upgrade that ran 0023's rebuild could not
    # change `task` in the same transaction ("being used by active queries")
    with session.connection().execute(query.execution_options(yield_per=STREAM_BATCH)) as rows:
        yield from rows


@per_transaction
def registration_bounds(session: Session, window: Window) -> tuple[datetime | None, datetime | None]:
    """Bounds the registrations in the window lie within: the window's, else the first and last of all (two
    lookups in the index on started_at; asked once per session, and handed to the page's parts: day_rows.asked)."""
    if window.start is not None and window.end is not None:
        return window.start, window.end
    # one subquery each: SQLite seeks the index's end for a lone min() or max() only, and scanned every entry of
    # it for both in one SELECT (12 ms a call at 100,000 instances, two calls a page)
    first, last = session.execute(select(select(func.min(Instance.started_at)).scalar_subquery(),
                                         select(func.max(Instance.started_at)).scalar_subquery())).one()
    return window.start or first, window.end or last


def registered(session: Session, window: Window, timezone: str) -> list[Registrations]:
    """The instances registered in the window per process, outcome and month of registration: summed from the
    rollup kept per company day (engine/kpi/rollups.py) when it holds this zone's counts, else counted."""
    if rollups.usable(session, timezone):
        return [Registrations(*row) for row in rollups.registered(session, window)]
    return registered_counted(session, window, timezone)


def registered_counted(session: Session, window: Window, timezone: str) -> list[Registrations]:
    """registered, counted by the database from the instance rows (the rollup's oracle)."""
    query = window.narrow(select(Instance.id), Instance.started_at, Instance.process_key)
    return [Registrations(*row) for row in months.counts(
        session, query, Instance.started_at, [Instance.process_key, Instance.outcome],
        registration_bounds(session, window), timezone)]


def _matching_tasks(session: Session, instances: Select, point: Point) -> set[str]:
    """The task rows completed with the point's data, from the audit trail's `completed` events (the last
    event of a task row tells its data)."""
    events = _streamed(session, select(AuditEvent.payload).where(
        AuditEvent.kind == "completed", AuditEvent.task.in_(list(point.tasks)),
        AuditEvent.instance_id.in_(instances)).order_by(AuditEvent.id))
    found: dict[str, bool] = {}
    for (text,) in events:
        payload = json.loads(text)
        found[payload.get("task_id")] = _matches(payload.get("data") or {}, point.data)
    return {task for task, matches in found.items() if matches}


def _matches(data: dict, wanted: dict) -> bool:
    return all(data.get(k) == v for k, v in wanted.items())


def _ranked(instances: Select, tasks: Iterable[str], status: str, order: tuple) -> Select:
    """The rows of these tasks in this status, numbered per instance in `order` (rank 1 first)."""
    rank = func.row_number().over(partition_by=Task.instance_id, order_by=order).label("rank")
    return select(Task.instance_id, Task.id, Task.completed_at, Task.role, Task.completed_by, Task.assignee,
                  rank).where(Task.instance_id.in_(instances), Task.bpmn_id.in_(list(tasks)), Task.status == status)


def _first_reaching(session: Session, instances: Select, point: Point) -> Iterator[Row]:
    """Per instance (in id order) the earliest completed row reaching the point: (instance_id, id, completed_at,
    role, completed_by, ...). A row completed with other data (an after-sales engineer asking to close the case)
    does not reach it: the case goes on until it is resolved or ends otherwise (the instance's outcome says how).
    Rows completed at the same instant are taken in id order."""
    if not point.data:
        ranked = _ranked(instances, point.tasks, "completed", (Task.completed_at, Task.id)).subquery()
        yield from _streamed(session, select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.instance_id))
        return
    matching = _matching_tasks(session, instances, point)
    rows = _ranked(instances, point.tasks, "completed", (Task.completed_at, Task.id))
    last = None
    for row in _streamed(session, rows.order_by(Task.instance_id, Task.completed_at, Task.id)):
        if row.instance_id != last and row.id in matching:
            last = row.instance_id
            yield row


def _first_waiting(session: Session, instances: Select, tasks: Iterable[str]) -> Iterator[Row]:
    """Per instance (in id order) its first open row of these tasks: whom an open interval is offered to."""
    ranked = _ranked(instances, tasks, "ready", (Task.created_at, Task.id)).subquery()
    yield from _streamed(session, select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.instance_id))


def _last_done(session: Session, spec: Interval, ids: Select) -> dict[int, Row]:
    """instance id -> the last completed end row of the instances that ended unresolved (a few): the engineer
    who asked to close the case, even when that same task reached the end once before (a resolved case the
    customer reopened and that then closed)."""
    if not spec.unresolved:
        return {}
    closed = ids.where(Instance.outcome.in_(list(spec.unresolved)))
    ranked = _ranked(closed, spec.end.tasks, "completed", (Task.completed_at.desc(), Task.id.desc())).subquery()
    return {r.instance_id: r for r in session.execute(select(ranked).where(ranked.c.rank == 1))}


class _Cursor:
    """Rows ordered by instance id, looked up by ascending instance ids (a merge join of two ordered streams)."""

    def __init__(self, rows: Iterator[Row]) -> None:
        self._rows = rows
        self._row: Row | None = None
        self._started = False  # the statement runs at the first lookup: one instance's decided case needs no
        # open rows (engine/kpi/case_rows.py)

    def get(self, instance_id: int) -> Row | None:
        if not self._started:
            self._started, self._row = True, next(self._rows, None)
        while self._row is not None and self._row.instance_id < instance_id:
            self._row = next(self._rows, None)
        return self._row if self._row is not None and self._row.instance_id == instance_id else None


Narrow = Callable[[Select], Select]  # which instances: a query on `instance` -> the same query restricted


def of_instances(session: Session, measure: Measure, spec: Interval, narrow: Narrow, now: datetime,
                 timezone: str) -> Iterator[Case]:
    """The intervals of the instances of the spec's process that `narrow` keeps (the window's registrations for the
    page, one instance for its decided-case row: engine/kpi/case_rows.py). One that has not started, or ended
    without reaching its end (a cancelled instance), is not measured. An instance that ended with one of the
    interval's `unresolved` outcomes (an after-sales case closed unresolved) is a breach, attributed to whoever
    completed its end task last; an open one to the role its task is offered to and its assignee, if any."""
    ids = narrow(select(Instance.id)).where(Instance.process_key == spec.process)
    starts = None if spec.start.is_registration else _Cursor(_first_reaching(session, ids, spec.start))
    ends = _Cursor(_first_reaching(session, ids, spec.end))
    waiting = _Cursor(_first_waiting(session, ids, spec.end.tasks))
    closed, month = _last_done(session, spec, ids), months.Months(timezone)
    instances = select(Instance.id, Instance.started_at, Instance.status, Instance.outcome, Instance.ended_at)
    for inst in _streamed(session, narrow(instances).where(Instance.process_key == spec.process)
                          .order_by(Instance.id)):
        first = inst.started_at if starts is None else getattr(starts.get(inst.id), "completed_at", None)
        if first is None:
            continue
        case = partial(Case, measure.key, spec.process, inst.id, month(inst.started_at), started_at=inst.started_at)
        if inst.outcome is not None and inst.outcome in spec.unresolved:
            last = closed.get(inst.id)
            timing = Timing(_hours(first, inst.ended_at or first), done=False, unresolved=True)
            yield case(last and last.role, last and last.completed_by, timing)
            continue
        end = ends.get(inst.id)
        if end is not None:
            yield case(end.role, end.completed_by, Timing(_hours(first, end.completed_at), done=True))
        elif inst.status in ("running", "incident"):  # a halted case is still open
            offered = waiting.get(inst.id)
            yield case(offered and offered.role, offered and offered.assignee, Timing(_hours(first, now), done=False))


def cases(session: Session, measure: Measure, window: Window, now: datetime, timezone: str) -> Iterator[Case]:
    """The measure's intervals, one at a time."""
    for spec in measure.intervals:
        if window.process in (None, spec.process):
            yield from of_instances(session, measure, spec, lambda q: window.narrow(q, Instance.started_at), now,
                                 timezone)


def resolved(session: Session, process: str, point: Point, window: Window, timezone: str) -> Counter[str]:
    """month of registration -> the instances (registered in the window) that reached the point."""
    ids = _registered_in(window, [process])
    if not point.data:
        reached = select(Task.instance_id).where(Task.instance_id == Instance.id, Task.bpmn_id.in_(list(point.tasks)),
                                                 Task.status == "completed")
        query = window.narrow(select(Instance.id), Instance.started_at).where(Instance.process_key == process,
                                                                              reached.exists())
        return Counter({r[0]: r[1] for r in months.counts(session, query, Instance.started_at, [],
                                                          registration_bounds(session, window), timezone)})
    month = months.Months(timezone)
    found: Counter[str] = Counter()
    starts = select(Instance.id, Instance.started_at).where(Instance.id.in_(ids)).order_by(Instance.id)
    reached_rows = _Cursor(_first_reaching(session, ids, point))
    for inst in _streamed(session, starts):
        if reached_rows.get(inst.id) is not None:
            found[month(inst.started_at)] += 1
    return found


def completed_tasks(session: Session, window: Window, now: datetime, timezone: str) -> list[Completions]:
    """The user tasks completed in the window per month, per role and per person: summed from the rollup kept per
    company day (engine/kpi/rollups.py) when it holds this zone's counts, else counted."""
    if rollups.usable(session, timezone):
        return [Completions(*row) for row in rollups.completed(session, window)]
    return completed_counted(session, window, timezone)


def completed_counted(session: Session, window: Window, timezone: str) -> list[Completions]:
    """completed_tasks, counted by the database from ix_task_completed alone (a range of it for a date range; the
    rollup's oracle)."""
    done = select(Task.id).where(Task.status == COMPLETED, Task.completed_at.is_not(None))  # the literal: partial index
    bounds = _completions(session, done, window)
    if bounds is None:
        return []
    query = window.narrow(done, Task.completed_at, Task.process_key).where(Task.completed_at.between(*bounds))
    sums: Counter[tuple[str, str | None]] = Counter()
    for role, person, month, n in months.counts(session, query, Task.completed_at, [Task.role, Task.completed_by],
                                                bounds, timezone):
        sums.update({(dim, key): n for dim, key in zip(rollups.COMPLETED_DIMENSIONS, (month, role, person),
                                                          strict=True)})
    return [Completions(dim, key, n) for (dim, key), n in sums.items()]


def _completions(session: Session, done: Select, window: Window) -> tuple[datetime, datetime] | None:
    """The window's bounds, an open side closed by the first or last completion (one seek in ix_task_completed each;
    None: none). Bounded on both sides, the count reads a range of ix_task_completed, the covering index: with one
    side open SQLite's planner, having no statistics, took an inbox index led by the status and read every completed
    row from the table (twice the time for everything)."""
    first = window.start or session.scalar(done.with_only_columns(func.min(Task.completed_at)))
    last = window.end or session.scalar(done.with_only_columns(func.max(Task.completed_at)))
    return None if first is None or last is None else (first, last)


def _score_events(source: SatisfactionSource, narrow: Narrow, since: datetime | None) -> Select:
    """The `completed` events of the source's tasks of the instances `narrow` keeps, recorded at or after `since`."""
    instances = narrow(select(Instance.id).where(Instance.process_key == source.process))
    query = select(AuditEvent.instance_id, AuditEvent.at, AuditEvent.payload).where(
        AuditEvent.kind == "completed", AuditEvent.task.in_(source.tasks), AuditEvent.instance_id.in_(instances))
    if since is not None:  # `at` is fixed-width UTC ISO text (engine.clock.iso): text order is time order
        query = query.where(AuditEvent.at >= iso(since))
    return query


def _values(source: SatisfactionSource, data: dict) -> list[int]:
    rows = data.get(source.list_field) if source.list_field else [data]
    values = [row.get(source.field) for row in rows or [] if isinstance(row, dict)]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5]


def _attribution(session: Session, source: SatisfactionSource, events: Select) -> dict[int, tuple]:
    """instance id -> (role, person) of the last completed row of the tasks the case's score is attributed to,
    for the instances of these events (a subquery: a list of ids would outgrow SQLite's limit on parameters)."""
    if not source.attributed_to:
        return {}
    latest = (Task.completed_at.desc(), Task.id.desc())
    ranked = _ranked(events.with_only_columns(AuditEvent.instance_id), source.attributed_to, "completed",
                     latest).subquery()
    return {r.instance_id: (r.role, r.completed_by)
            for r in _streamed(session, select(ranked).where(ranked.c.rank == 1))}


class Recorded(NamedTuple):
    """One counted event of a satisfaction source: its instant (UTC), whom it is attributed to, its scores."""

    process: str
    instance_id: int
    at: datetime
    role: str | None
    person: str | None
    values: tuple[int, ...]


def recorded(session: Session, source: SatisfactionSource, narrow: Narrow,
             since: datetime | None = None) -> list[Recorded]:
    """The satisfaction rule, with two users: the page (every instance, `since` its window's start) and the score
    rows kept per instance (engine/kpi/score_rows.py, one instance). Per case the latest event with a score
    (`per_case: latest`: in trail order, a return visit's replaces the confirmation's), else every one; attributed to
    whoever completed the case's last `attributed_to` row as the tasks stand now (a later resolve re-attributes it).
    With `since`, the events before it are not read: as the trail's order is its time order, the latest of the
    rest is the latest of all, or none is at or after `since`."""
    events = _score_events(source, narrow, since)
    found: list[tuple[Row, list[int]]] = []
    for event in _streamed(session, events.order_by(AuditEvent.instance_id, AuditEvent.position)):
        values = _values(source, json.loads(event.payload).get("data") or {})
        if not values:
            continue
        if source.latest_per_case and found and found[-1][0].instance_id == event.instance_id:
            found.pop()  # ordered by instance then position: a later score replaces the earlier
        found.append((event, values))
    who = _attribution(session, source, events) if found else {}
    return [Recorded(source.process, e.instance_id, datetime.fromisoformat(e.at).astimezone(UTC),
                     *who.get(e.instance_id, (None, None)), tuple(v)) for e, v in found]


def scores(session: Session, source: SatisfactionSource, window: Window, timezone: str) -> list[Score]:
    """The scores recorded in the window, one at a time from the trail (the counts' oracle)."""
    if window.process not in (None, source.process):
        return []
    found = []
    for event in recorded(session, source, lambda q: q, window.start):
        if window.contains(event.at):
            month = month_of(event.at, timezone)
            found.extend(Score(source.process, event.instance_id, month, event.role, event.person, v)
                         for v in event.values)
    return found


def score_counts(session: Session, source: SatisfactionSource, window: Window, timezone: str) -> list[ScoreCount]:
    """The source's scores recorded in the window per month, per role and per person, and value: summed from the
    counts kept per company day and month (engine/kpi/score_days.py) when they hold this zone's, else counted from
    the trail."""
    if window.process not in (None, source.process):
        return []
    if score_days.usable(session, timezone):
        return [ScoreCount(*row) for row in score_days.counts(session, source.process, window)]
    counted: Counter[tuple] = Counter()
    for score in scores(session, source, window, timezone):
        counted.update((("by_month", score.month, score.value), ("by_role", score.role, score.value),
                        ("by_person", score.person, score.value)))
    return [ScoreCount(*key, n) for key, n in counted.items()]
