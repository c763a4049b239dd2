"""The response and resolution times of the KPI page, counted and ranked by the database (docs/kpi.md).

The same figures as summarizing every case (stats.Summary), from two sources:
- the decided cases (done, or ended unresolved), one `kpi_case` row each (engine/kpi/case_rows.py keeps them):
  their counts per process, month, role and person summed from kpi_case_day (engine/kpi/case_days.py, kept per
  company day by triggers), else one grouped read of ix_kpi_case_window; the median and the p90
  per row of each breakdown picked by rank in SQL (row_number and count over the row's done hours, keeping only
  the ranks stats.median and stats.p90 take), so no hour of a case comes to Python except those;
- the open cases (a running or halted instance of a measured process with no decided row), per month and per the
  role and assignee of its first waiting end task (measures' `_first_waiting` rule, as SQL), and whether it is
  already past its target at `now`: summed from kpi_open_day (engine/kpi/open_cases.py, kept by triggers), else
  counted live.

An interval whose start is a task, not the registration (none in kpi.yaml today), is read the old way: every case
through measures.cases, summarized in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from engine.kpi import case_days, measures, months, open_cases, quantiles, rollups, stats
from engine.kpi.day_rows import has_column, has_table
from engine.kpi.definitions import Interval, Measure, Point
from engine.kpi.filters import Window
from engine.store.models import Instance, KpiCase, Task

DIMENSIONS = ("by_process", "by_month", "by_role", "by_person")  # the breakdown's keys, in this order
Key = tuple  # (process, month, role, person)
Rows = dict[str, dict]  # breakdown (DIMENSIONS) -> its key -> _Counts


class _Counts:
    """A group's counts (stats.Summary's, without the hours: those are ranked by the database)."""

    __slots__ = ("breached", "done", "open", "open_breached", "unresolved", "within")

    def __init__(self) -> None:
        self.done = self.within = self.unresolved = self.breached = self.open = self.open_breached = 0

    def add(self, other: _Counts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def add_decided(self, done: int, within: int, unresolved: int) -> None:
        self.done += done
        self.within += within
        self.unresolved += unresolved
        self.breached += done - within + unresolved

    def add_open(self, n_open: int, late: int) -> None:
        self.open += n_open
        self.open_breached += late
        self.breached += late

    def figures(self, ranked: tuple[float | None, float | None]) -> dict:
        return stats.figures(self.done, self.open, self.open_breached, self.unresolved, self.within, self.breached,
                             *ranked)


def supported(session: Session, measure: Measure) -> bool:
    """Whether every interval of the measure starts at the registration (what kpi_case's window is) and the
    database has kpi_case (a database below migration 0023, such as one a migration test or a rolled-back upgrade
    left behind, is read the old way: the same figures, slower). Asked of the schema once per session."""
    if not all(spec.start.is_registration for spec in measure.intervals):
        return False
    return has_table(session, KpiCase.__tablename__)


def prepare(session: Session, measures_: Iterable[Measure], window: Window, timezone: str) -> None:
    """Asks what the measures' breakdowns and the page's other sections both ask of the schema, the rollups and the
    window's registrations (kept for the session: a page reading its measures on sessions of their own hands them
    the answers, day_rows.asked, so each is asked once)."""
    measures.registration_bounds(session, window)
    if rollups.usable(session, timezone):
        has_column(session, "kpi_case", "month")
        quantiles.edges(session)
    for measure in measures_:  # (the resolution rate reads the decided counts too)
        case_days.usable(session, measure, timezone)


def breakdown(session: Session, measure: Measure, window: Window, now: datetime, timezone: str) -> dict:
    """report._timing_breakdown of the measure's cases in the window, from kpi_case and the open instances."""
    specs = [s for s in measure.intervals if window.process in (None, s.process)]
    first, last = measures.registration_bounds(session, window)
    span = months.span(first, last, timezone) if first is not None and last is not None and first <= last else []
    rows: Rows = {name: {} for name in DIMENSIONS}
    if span and specs:
        _decided(session, measure, specs, window, span, timezone, rows)
        _open(session, measure, specs, window, now, span, timezone, rows)
    overall = _Counts()
    for counts in rows["by_process"].values():  # a case has one process: the overall row is the processes' sum
        overall.add(counts)
    done = {("overall", None): overall.done, **{(name, key): counts.done for name, found in rows.items()
                                                for key, counts in found.items() if counts.done}}
    ranked = _ranked(session, measure, specs, window, span, timezone, done) if span and specs else {}
    return {"overall": overall.figures(ranked.get(("overall", None), (None, None))),
            **{name: [{"key": k, **found[k].figures(ranked.get((name, k), (None, None)))} for k in _ordered(found)]
               for name, found in rows.items()}}


def _ordered(keys: Iterable) -> list:
    return sorted(keys, key=lambda k: (k is None, k or ""))


def _cases(measure: Measure, specs: list[Interval], window: Window) -> Select:
    query = select(KpiCase.measure).where(KpiCase.measure == measure.key,
                                          KpiCase.process.in_([s.process for s in specs]))
    return window.narrow(query, KpiCase.started_at)


def _grouped(session: Session, inner: Select, keys: int) -> list:
    """Rows of `inner` (labelled k0.. and the rest) summed per its first `keys` columns (an outer GROUP BY of the
    inner columns: PostgreSQL's server-side parameters would make a GROUP BY of the month's CASE another
    expression than the selected one)."""
    sub = inner.subquery()
    columns = [sub.c[f"k{n}"] for n in range(keys)]
    sums = [func.sum(c) for c in list(sub.c)[keys:]]
    return list(session.execute(select(*columns, *sums).group_by(*columns)))


def _spread(rows: Rows, key: Key) -> Iterator[_Counts]:
    """The counts of each breakdown's row a case of this (process, month, role, person) counts in."""
    for position, name in enumerate(DIMENSIONS):
        yield rows[name].setdefault(key[position], _Counts())


def _decided(session: Session, measure: Measure, specs: list[Interval], window: Window, span: list, timezone: str,
             rows: Rows) -> None:
    """The decided cases' counts: summed from their counts per company day (engine/kpi/case_days.py) when those
    hold this zone's and this target's (summed per row of each breakdown by the database), else counted from
    kpi_case."""
    if case_days.usable(session, measure, timezone):
        for row in case_days.decided_rows(session, measure.key, [s.process for s in specs], window):
            rows[DIMENSIONS[row.dimension]].setdefault(row.key, _Counts()).add_decided(
                row.done, row.within, row.unresolved)
        return
    for process, month, role, person, n_done, n_within, n_unresolved in _counted(session, measure, specs, window,
                                                                                 span):
        for counts in _spread(rows, (process, month, role, person)):
            counts.add_decided(n_done, n_within, n_unresolved)


def _counted(session: Session, measure: Measure, specs: list[Interval], window: Window, span: list) -> list:
    """(process, month, role, person, done, within, unresolved) of the window's decided cases, read from kpi_case."""
    done = KpiCase.unresolved.is_(False)
    within = and_(done, KpiCase.hours <= measure.target_hours)
    inner = _cases(measure, specs, window).with_only_columns(
        KpiCase.process.label("k0"), months.bucket(KpiCase.started_at, span).label("k1"), KpiCase.role.label("k2"),
        KpiCase.person.label("k3"), _flag(done).label("done"), _flag(within).label("within"),
        _flag(KpiCase.unresolved.is_(True)).label("unresolved"))
    return _grouped(session, inner, 4)


def _flag(condition: ColumnElement) -> ColumnElement:
    return case((condition, 1), else_=0)


def _open(session: Session, measure: Measure, specs: list[Interval], window: Window, now: datetime, span: list,
          timezone: str, rows: Rows) -> None:
    """The specs' open cases: running or halted instances registered in the window without a decided row, per
    process (each spec has its own: kpi.yaml keys them by process), month and the role and assignee of the first
    waiting end task (None: not offered yet): summed from their counts per company day (engine/kpi/open_cases.py)
    when usable, else counted live."""
    late_before = now - timedelta(hours=measure.target_hours)
    if open_cases.usable(session, measure, timezone):
        found = open_cases.counts(session, measure.key, [s.process for s in specs], window, late_before, timezone)
    else:
        found = [(spec.process, *row) for spec in specs
                 for row in _open_counted(session, measure, spec, window, late_before, span)]
    for process, month, role, person, n_open, n_late in found:
        for counts in _spread(rows, (process, month, role, person)):
            counts.add_open(n_open, n_late)


def _open_counted(session: Session, measure: Measure, spec: Interval, window: Window, late_before: datetime,
                  span: list) -> list:
    """(month, role, person, open, late) of the spec's open cases counted live, each instance read once (the first
    waiting row looked up for the open ones only, in ix_task_instance_status)."""
    decided = select(KpiCase.instance_id).where(KpiCase.measure == measure.key, KpiCase.instance_id == Instance.id)
    waiting = select(Task.role).where(Task.instance_id == Instance.id, Task.bpmn_id.in_(list(spec.end.tasks)),
                                      Task.status == "ready").order_by(Task.created_at, Task.id).limit(1)
    # measures._first_waiting's rule: its role and its assignee, each a seek in ix_task_instance_status (a join on
    # the row's id made PostgreSQL hash the whole task table)
    role, assignee = waiting.scalar_subquery(), waiting.with_only_columns(Task.assignee).scalar_subquery()
    late = Instance.started_at < late_before
    inner = window.narrow(
        select(months.bucket(Instance.started_at, span).label("k0"), role.label("k1"), assignee.label("k2"),
               literal(1, Integer).label("open"), _flag(late).label("late")), Instance.started_at).where(
        Instance.process_key == spec.process, Instance.status.in_(("running", "incident")), ~decided.exists())
    return _grouped(session, inner, 3)


def _ranked(session: Session, measure: Measure, specs: list[Interval], window: Window, span: list, timezone: str,
            done: dict[tuple, int]) -> dict[tuple, tuple[float | None, float | None]]:
    """The rows' median and p90 of their `done` cases ((dimension, key) -> count): read at their ranks
    (engine/kpi/quantiles.py) when the window has more than quantiles.DIRECT, its counts are usable and reading
    them costs less (quantiles.cheaper); else (and when its counts do not match these, or a read there missed a
    row) by one sorted read of every done case, which is the quicker for a few thousand (a short range) and for a
    range of mostly partial months."""
    if (done[("overall", None)] > quantiles.DIRECT and quantiles.usable(session, measure, timezone)
            and quantiles.cheaper(session, measure, specs, window, span, timezone, done)):
        ranked = quantiles.ranks(session, measure, specs, window, span, timezone, done)
        if ranked is not None:
            return ranked
    return _ranks(session, measure, specs, window, span)


def _ranks(session: Session, measure: Measure, specs: list[Interval], window: Window,
           span: list) -> dict[tuple, tuple[float | None, float | None]]:
    """(dimension, key) -> (median, p90) of the done hours (stats.median, stats.p90), exactly. The database sorts
    the window's done hours once (with each case's process, month, role and person), and each row of a breakdown
    takes its values in that order: already sorted, its median and p90 are read at their ranks. One sort instead of
    one per breakdown: numbering the hours per row in SQL (row_number and count over each breakdown, keeping the
    ranks wanted) sorted them five times and cost three to four times as much on both databases."""
    query = _cases(measure, specs, window).with_only_columns(
        KpiCase.process, months.bucket(KpiCase.started_at, span), KpiCase.role, KpiCase.person, KpiCase.hours).where(
        KpiCase.unresolved.is_(False)).order_by(KpiCase.hours)
    found: list[dict[object, list[float]]] = [{} for _ in DIMENSIONS]
    overall: list[float] = []
    lists = [found[n].setdefault for n in range(len(DIMENSIONS))]
    for process, month, role, person, hours in session.connection().execute(query):
        overall.append(hours)
        lists[0](process, []).append(hours)
        lists[1](month, []).append(hours)
        lists[2](role, []).append(hours)
        lists[3](person, []).append(hours)
    ranked = {("overall", None): _picked(overall)}
    for name, groups in zip(DIMENSIONS, found, strict=True):
        ranked.update({(name, key): _picked(values) for key, values in groups.items()})
    return ranked


def _picked(ordered: list[float]) -> tuple[float | None, float | None]:
    """stats.median and stats.p90 of values already in order (their ranks: the middle one or two, ceil(0.9 n))."""
    n = len(ordered)
    if not n:
        return None, None
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return median, ordered[(9 * n + 9) // 10 - 1]


def reaching(defs_measures: Iterable[Measure], process: str, point: Point) -> Measure | None:
    """A measure whose decided cases are exactly the instances of `process` that reached `point`: an interval of
    that process from the registration to that very point, with no `unresolved` outcomes (such a case is decided
    when, and only when, its end task was completed). The resolution rate is then counted from kpi_case."""
    for measure in defs_measures:
        for spec in measure.intervals:
            if (spec.process == process and spec.start.is_registration and spec.end == point
                    and not spec.unresolved):
                return measure
    return None


def reached(session: Session, measure: Measure, process: str, window: Window, timezone: str) -> Counter[str]:
    """month of registration -> the instances of `process` registered in the window whose case of `measure` is
    decided (measures.resolved's figure for the point `reaching` matched): summed from the counts per company day
    (engine/kpi/case_days.py) when usable, else counted from ix_kpi_case_window."""
    if case_days.usable(session, measure, timezone):
        return Counter(case_days.done_per_month(session, measure.key, process, window))
    query = window.narrow(select(KpiCase.measure), KpiCase.started_at).where(
        KpiCase.measure == measure.key, KpiCase.process == process, KpiCase.unresolved.is_(False))
    return Counter({month: count for month, count in months.counts(
        session, query, KpiCase.started_at, [], measures.registration_bounds(session, window), timezone)})
