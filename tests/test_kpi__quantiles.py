"""The median and p90 of every row of the KPI time breakdowns read at their ranks (engine/kpi/quantiles.py, migration
0028) are exactly stats.median and stats.p90 of the row's done hours:

- on test_kpi__case_rows' data set (cases driven through the engine), for every filter, as an auditor and as a sales
  manager: the page is the page of every case summarized in Python (measures.cases);
- on randomized kpi_case rows written around the engine (so the triggers count them) in Europe/Berlin, registered
  at the first and last instants of the 23- and 25-hour days and of months, with hours on bucket edges (whole
  hours), ties, tiny and large values, unresolved cases, no role or person: every row of every breakdown against the
  median and p90 of the rows' own hours summed up in Python, for windows with from/to, a process, an empty one;
  again after rows were updated (hours onto edges, resolved <-> unresolved, another role, across a month) and
  deleted by hand; the trigger-kept counts are a recount's;
- a count that no longer matches the rows makes the page read every case (the same figures); counts built for
  another zone are not read;
- migration 0028 counts what 0027 wrote, the downgrade removes the tables, triggers and indexes, and
  `salesflow kpi rebuild` counts them again.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, func, insert, inspect, select, text, update

from engine import Engine
from engine.kpi import (
    day_rows,
    definitions,
    dekads,
    hour_buckets,
    measures,
    months,
    quantiles,
    rank_reads,
    rollups,
    stats,
    times,
)
from engine.kpi import filters as filter_rules
from engine.kpi.hour_buckets import EDGES_0030, EIGHTHS, bucket_sql_0030
from engine.store.db import alembic_config
from engine.store.models import (
    Instance,
    KpiCase,
    KpiHoursDay,
    KpiHoursDekad,
    KpiHoursMonth,
    KpiHoursTotal,
    KpiRollupState,
    ProcessVersion,
)
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures
from tests.cli_runner import run_cli

BERLIN = "Europe/Berlin"
COSTS = {"ROW_COST": quantiles.ROW_COST, "ROW_READS": quantiles.ROW_READS}  # what quantiles.cheaper weighs


@pytest.fixture(autouse=True)
def always_ranked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test data are small: read at their ranks however few the cases and whatever it costs (the page sorts a
    few thousand, and a range whose count rows cost more than sorting its cases)."""
    monkeypatch.setattr(quantiles, "DIRECT", 0)
    for name in COSTS:
        monkeypatch.setattr(quantiles, name, 0)


class _Answers(list):
    """Whether each quantiles.ranks call answered (False: the page read every case instead), in kpi.yaml's order of
    the measures: on PostgreSQL a page reads its measures side by side (engine/kpi/parallel_reads.py), in any order."""

    def __init__(self) -> None:
        super().__init__()
        self._order: list[int] = []
        self._lock = threading.Lock()

    def add(self, measure: definitions.Measure, answered: bool) -> None:
        position = [m.key for m in definitions.load().measures].index(measure.key)
        with self._lock:
            at = bisect.bisect_right(self._order, position)
            self._order.insert(at, position)
            self.insert(at, answered)

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._order.clear()


@pytest.fixture
def ranked_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per quantiles.ranks call: whether it answered, in the measures' order (_Answers)."""
    calls = _Answers()
    real = quantiles.ranks

    def spy(session, measure, *args, **kwargs):
        found = real(session, measure, *args, **kwargs)
        calls.add(measure, found is not None)
        return found

    monkeypatch.setattr(quantiles, "ranks", spy)
    return calls


def _tables(s) -> tuple:
    """The count tables the database has (kpi_hours_total from migration 0031 on, kpi_hours_dekad from 0036)."""
    later = (KpiHoursTotal, KpiHoursDekad)
    return (KpiHoursMonth, KpiHoursDay, *(t for t in later if inspect(s.connection()).has_table(t.__tablename__)))


def kept(eng: Engine) -> dict[str, set[tuple]]:
    """The tables' non-zero rows."""
    with eng.db.read() as s:
        return {t.__tablename__: {tuple(r) for r in s.execute(
            select(*t.__table__.columns).where(t.n != 0))} for t in _tables(s)}


def months_summed(found: dict[str, set[tuple]]) -> set[tuple]:
    """kpi_hours_month's rows summed over the months, as kpi_hours_total's rows."""
    total: Counter[tuple] = Counter()
    for measure, _month, dim, process, label, bucket, n in found["kpi_hours_month"]:
        total[(measure, dim, process, label, bucket)] += n
    return {(*key, n) for key, n in total.items() if n}


def days_summed(found: dict[str, set[tuple]]) -> set[tuple]:
    """kpi_hours_day's rows summed per dekad (named by its first day), as kpi_hours_dekad's rows."""
    dekad: Counter[tuple] = Counter()
    for measure, day, dim, process, label, bucket, n in found["kpi_hours_day"]:
        first = dekads.first_day(date.fromisoformat(day)).isoformat() if day != day_rows.OUTSIDE else "0000-00-01"
        dekad[(measure, first, dim, process, label, bucket)] += n
    return {(*key, n) for key, n in dekad.items() if n}


class _Recounted(Exception):
    """Ends the recount's transaction: rolled back."""


def recounted(eng: Engine, bucket=None) -> dict[str, set[tuple]]:
    """The tables as a rebuild counts them (rolled back afterwards), in `bucket`'s buckets or, by default, those of
    the database's revision (quantiles.edges: migration 0038's from there on, else 0030's)."""
    found: dict[str, set[tuple]] = {}
    with pytest.raises(_Recounted), eng.db.write() as s:
        quantiles.rebuild(s, bucket or functools.partial(quantiles.bucket_sql, edges=quantiles.edges(s)))
        found.update({t.__tablename__: {tuple(r) for r in s.execute(
            select(*t.__table__.columns).where(t.n != 0))} for t in _tables(s)})
        raise _Recounted
    return found


# -- the repository's processes ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, case_rows_test.build)


@pytest.mark.parametrize("user", ["aud", "mgr1"])
@pytest.mark.parametrize("filters", case_rows_test.FILTERS + [{"from": "2026-03-02", "to": "2026-04-02"}],
                         ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_the_ranks_read_are_the_figures_of_every_case_summarized(data_set, user, filters, ranked_calls):
    eng, _ = data_set
    page = eng.kpi(user, filters)["times"]
    assert page == case_rows_test.old_times(eng, user, filters, eng.clock.now())
    assert all(ranked_calls)  # read at their ranks, not by the fallback; every measure with done cases
    assert len(ranked_calls) == sum(1 for t in page if t["overall"]["count"]) > 0 or filters.get("from") == "2026-05-01"
    assert kept(eng) == recounted(eng)


def test_the_data_set_has_even_and_odd_rows_and_medians_between_two_values(data_set):
    eng, _ = data_set
    rows = [r for t in eng.kpi("aud")["times"] for name in times.DIMENSIONS for r in t[name] if r["count"]]
    assert {r["count"] % 2 for r in rows} == {0, 1}
    assert any(r["median_hours"] != r["p90_hours"] for r in rows)


def test_kpi_rebuild_counts_them_again(data_set):
    """(Before the tests of the approval process: on PostgreSQL they empty the database the data set is on.)"""
    eng, _ = data_set
    before = kept(eng)
    assert before["kpi_hours_month"] and before["kpi_hours_day"]
    with eng.db.write() as s:
        s.execute(delete(KpiHoursMonth))
        s.execute(delete(KpiHoursDay))
    done = run_cli({"SALESFLOW_DATABASE_URL": eng.db.url, "SALESFLOW_LANG": "en"}, "kpi", "rebuild")
    assert done.returncode == 0, done.stderr
    assert "done cases in hour buckets" in done.stdout and "kpi_hours_month:" in done.stdout
    assert kept(eng) == before


# -- randomized rows around the engine, in a zone with daylight saving ------------------------------------------

@pytest.fixture
def berlin(approval: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """kpi.yaml with `timezone: Europe/Berlin`. The days and the zone of the rollups stay from one test to the next
    on PostgreSQL (tests/conftest.py KEPT_TABLES): they are built for Asia/Shanghai again after the test."""
    defs = dataclasses.replace(definitions.load(), timezone=BERLIN)
    with monkeypatch.context() as m:
        m.setattr(definitions, "load", lambda *_: defs)
        yield
    if not approval.db.is_sqlite:
        approval.rebuild_kpi_rollups()


def _utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


# the first and last instants of Berlin's 23-hour day (29 March), 25-hour day (25 October) and of months
EDGES = [_utc(t) for t in ("2026-03-28T23:00", "2026-03-29T21:59:59.999999", "2026-03-29T22:00",
                           "2026-03-31T21:59:59.999999", "2026-03-31T22:00", "2026-10-24T22:00",
                           "2026-10-25T22:59:59.999999", "2026-10-25T23:00", "2026-10-31T22:59:59.999999",
                           "2026-10-31T23:00", "2026-02-28T22:59:59.999999", "2026-02-28T23:00")]
PEOPLE = [("sales_manager", "m1"), ("sales_manager", "m2"), ("engineer", "e1"), ("engineer", None), (None, None)]
WINDOWS = [{}, {"from": "2026-03-29", "to": "2026-03-29"}, {"from": "2026-03-28", "to": "2026-04-01"},
           {"from": "2026-03-30"}, {"to": "2026-03-31"}, {"process": "complaint"},
           {"from": "2026-03-25", "to": "2026-10-25", "process": "aftersale"},
           {"from": "2026-10-25", "to": "2026-10-25"},
           {"from": "2026-06-01", "to": "2026-06-30"}, {"from": "2026-03-01", "to": "2026-03-31"},
           {"from": "2026-03-15", "to": "2026-11-02"},
           # dekads (engine/kpi/dekads.py): whole ones and days, one less its days outside, across a month's end
           {"from": "2026-03-19", "to": "2026-10-21"}, {"from": "2026-03-22", "to": "2026-03-31"},
           {"from": "2026-10-12", "to": "2026-11-01"}]


def _hours(rng: random.Random) -> float:
    kind = rng.random()
    if kind < 0.3:
        return float(rng.randrange(0, 6))  # on a bucket's upper edge
    if kind < 0.5:
        return rng.choice((1.5, 2.25, 30.0))  # ties
    if kind < 0.55:
        return rng.choice((1e-6, 0.999999, 1.000001, 500.75))
    if kind < 0.65:  # on, just under or over an edge of the role and person counts' buckets, or past the last one
        edge = rng.choice(quantiles.LADDER)
        return rng.choice((float(edge), edge - 1e-6, edge + 1e-6, quantiles.LADDER[-1] + rng.uniform(0, 9000)))
    return round(rng.uniform(0, 80), rng.choice((2, 6)))


def _start(rng: random.Random) -> datetime:
    if rng.random() < 0.3:
        return rng.choice(EDGES)
    base = rng.choice((_utc("2026-03-20T00:00"), _utc("2026-10-18T00:00")))
    return base + timedelta(seconds=rng.randrange(0, 16 * 86400))


def _load(eng: Engine, rng: random.Random, count: int) -> None:
    """`count` instances with a case of each measure (some only one), written around the engine."""
    with eng.db.write() as s:
        version = s.scalar(select(ProcessVersion.id).limit(1))
        first = (s.scalar(select(Instance.id).order_by(Instance.id.desc()).limit(1)) or 0) + 1
        instances, cases = [], []
        for iid in range(first, first + count):
            at = _start(rng)
            process = rng.choice(("complaint", "aftersale"))
            instances.append({"id": iid, "process_version_id": version, "process_key": "approval",
                              "status": "completed", "started_by": "rep", "started_at": at, "state_json": "{}",
                              "serializer_version": "x"})
            for measure in ("first_response", "resolution"):
                if rng.random() < 0.15:
                    continue
                role, person = rng.choice(PEOPLE)
                cases.append({"measure": measure, "instance_id": iid, "process": process, "started_at": at,
                              "role": role, "person": person, "hours": _hours(rng),
                              "unresolved": rng.random() < 0.1})
        s.execute(insert(Instance), instances)
        s.execute(insert(KpiCase), cases)


def _oracle(eng: Engine, measure: definitions.Measure, window: filter_rules.Window) -> dict:
    """(dimension, key) -> (median, p90) of the window's done rows, summed up in Python (stats.median, stats.p90)."""
    processes = [i.process for i in measure.intervals if window.process in (None, i.process)]
    found: dict[tuple, list[float]] = defaultdict(list)
    with eng.db.read() as s:
        columns = (KpiCase.process, KpiCase.started_at, KpiCase.role, KpiCase.person, KpiCase.hours,
                   KpiCase.unresolved)  # (named: a database below 0034 has no month)
        for case in s.execute(select(*columns).where(KpiCase.measure == measure.key,
                                                     KpiCase.process.in_(processes))):
            if case.unresolved or not window.contains(case.started_at):
                continue
            month = months.month_of(case.started_at, BERLIN)
            for row in (("overall", None), ("by_process", case.process), ("by_month", month),
                        ("by_role", case.role), ("by_person", case.person)):
                found[row].append(case.hours)
    return {row: (stats.median(values), stats.p90(values)) for row, values in found.items()}


def _read(eng: Engine, measure: definitions.Measure, window: filter_rules.Window, how) -> dict | None:
    with eng.db.read() as s:
        specs = [i for i in measure.intervals if window.process in (None, i.process)]
        first, last = measures.registration_bounds(s, window)
        if first is None or last is None or first > last:
            return {}
        span = months.span(first, last, BERLIN)
        return how(s, measure, specs, window, span)


def _same_figures(eng: Engine, expect_rows: bool = True) -> None:
    defs = definitions.load()
    with eng.db.read() as s:
        assert all(quantiles.usable(s, m, BERLIN) for m in defs.measures)
    seen = 0
    for filters in WINDOWS:
        with eng.db.read() as s:  # (the approval fixture deploys neither process: the page would refuse it)
            days = filter_rules.parse(s, {k: v for k, v in filters.items() if k != "process"}, BERLIN)
        window = dataclasses.replace(days, process=filters.get("process"))
        for measure in defs.measures:
            expected = _oracle(eng, measure, window)
            ranked = _read(eng, measure, window, lambda *a: quantiles.ranks(*a, BERLIN))
            assert ranked == expected, (filters, measure.key)
            old = _read(eng, measure, window, times._ranks)  # the old path (its empty window: overall (None, None))
            assert {row: v for row, v in old.items() if v != (None, None)} == expected, (filters, measure.key)
            seen += len(expected)
    assert seen > 100 or not expect_rows
    found = kept(eng)
    assert found == recounted(eng) and found["kpi_hours_total"] == months_summed(found)
    assert "kpi_hours_dekad" not in found or found["kpi_hours_dekad"] == days_summed(found)  # (0036 on)


@pytest.mark.parametrize(("seed", "tie_steps"), [(1, rank_reads.TIE_STEPS), (2, rank_reads.TIE_STEPS), (3, 0),
                                               (4, 0)])
def test_random_rows_around_the_engine_in_berlin(approval, berlin, seed, tie_steps, monkeypatch):
    """tie_steps 0: every bucket is first asked whether its hours are all equal (the data are too small for the
    page's own threshold to ask any), so both ways of reading a bucket meet the oracle."""
    monkeypatch.setattr(rank_reads, "TIE_STEPS", tie_steps)
    eng = approval
    eng.rebuild_kpi_rollups()  # the days and counts for Berlin
    rng = random.Random(seed)
    _load(eng, rng, 400)
    _same_figures(eng)
    counts = [len(v) for v in _all_rows(eng).values()]
    assert {n % 2 for n in counts} == {0, 1}  # even and odd rows
    with eng.db.write() as s:  # changed by hand: hours onto edges, (un)resolved, another role, across months; deleted
        ids = list(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "resolution")))
        rng.shuffle(ids)
        for iid in ids[:40]:
            s.execute(update(KpiCase).where(KpiCase.measure == "resolution", KpiCase.instance_id == iid).values(
                hours=float(rng.randrange(0, 4))))
        for iid in ids[40:60]:
            s.execute(update(KpiCase).where(KpiCase.measure == "resolution", KpiCase.instance_id == iid).values(
                unresolved=~KpiCase.unresolved))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[60:80])).values(role="director", person="d1"))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[80:90])).values(
            started_at=_utc("2026-03-31T21:59:59.999999")))
        s.execute(update(Instance).where(Instance.id.in_(ids[80:90])).values(
            started_at=_utc("2026-03-31T21:59:59.999999")))
        s.execute(delete(KpiCase).where(KpiCase.instance_id.in_(ids[90:120])))
    _same_figures(eng)


def test_a_long_run_of_equal_hours_is_read_by_two_seeks_not_stepped(approval, berlin, ranked_calls, monkeypatch):
    """Cases closed at one instant by a timer (the same hours): a bucket whose wanted ranks lie deep in such a run is
    asked for its least and greatest hours (equal: the ranks' value) instead of being stepped through; a bucket of
    spread hours is stepped. The figures are every case's."""
    eng = approval
    eng.rebuild_kpi_rollups()
    rng = random.Random(21)
    _cases_on(eng, rng, 2 * rank_reads.TIE_STEPS + 500, _utc("2026-03-01T08:00"), 20 * 86400, lambda r: 24.0)
    _cases_on(eng, rng, 300, _utc("2026-03-01T08:00"), 20 * 86400, lambda r: r.uniform(30, 90))
    arms: list[rank_reads.Arm] = []
    real = rank_reads.Reader._read
    monkeypatch.setattr(rank_reads.Reader, "_read", lambda self, a, everywhere=False: arms.extend(a) or real(
        self, a, everywhere))
    page = {t["measure"]: t for t in eng.kpi("aud", {})["times"]}
    assert ranked_calls == [True, True]
    assert max(arm.offset for arm in arms) <= rank_reads.TIE_STEPS  # nothing stepped through the run
    assert any(arm.limit == 1 and arm.offset == 0 and arm.order == "DESC" for arm in arms)  # the run was asked
    with eng.db.read() as s:
        window = filter_rules.parse(s, {}, BERLIN)
    for measure in definitions.load().measures:
        expected = _oracle(eng, measure, window)
        assert expected[("overall", None)][0] == 24.0
        for name in ("overall", "by_process", "by_role", "by_person"):
            rows = [page[measure.key]["overall"]] if name == "overall" else page[measure.key][name]
            for row in rows:
                median, p90 = expected[(name, row.get("key"))]
                assert (row["median_hours"], row["p90_hours"]) == (stats.hours(median), stats.hours(p90))


def _all_rows(eng: Engine) -> dict[tuple, list[float]]:
    found: dict[tuple, list[float]] = defaultdict(list)
    with eng.db.read() as s:
        for measure, role, hours in s.execute(select(KpiCase.measure, KpiCase.role, KpiCase.hours).where(
                KpiCase.unresolved.is_(False))):
            found[(measure, role)].append(hours)
    return found


@pytest.mark.parametrize(("table", "filters"), [(KpiHoursTotal, {}),  # everything: the totals
                                              (KpiHoursMonth, {"from": "2026-03-01", "to": "2026-03-31"})])
def test_a_count_that_misses_its_rows_makes_the_page_read_every_case(approval, berlin, ranked_calls, table, filters):
    eng = approval
    eng.rebuild_kpi_rollups()
    _load(eng, random.Random(9), 200)
    defs = definitions.load()
    with eng.db.read() as s:
        window = filter_rules.parse(s, filters, BERLIN)
    expected = {m.key: _oracle(eng, m, window) for m in defs.measures}
    with eng.db.write() as s:  # one more case in a bucket than the rows hold (a count changed by hand)
        where = [table.measure == "resolution"] + ([table.month == "2026-03"] if table is KpiHoursMonth else [])
        row = s.execute(select(table).where(*where).limit(1)).scalar_one()
        row.n += 1
    page = {t["measure"]: t for t in eng.kpi("aud", filters)["times"]}
    assert ranked_calls == [True, False]  # first_response read at its ranks; resolution by every case
    overall = expected["resolution"][("overall", None)]
    assert (page["resolution"]["overall"]["median_hours"], page["resolution"]["overall"]["p90_hours"]) == (
        stats.hours(overall[0]), stats.hours(overall[1]))


def test_counts_built_for_another_zone_are_not_read(approval, berlin, ranked_calls):
    eng = approval
    with eng.db.write() as s:  # built for Shanghai (as a new database's)
        rollups.rebuild(s, "Asia/Shanghai")
    _load(eng, random.Random(4), 50)
    with eng.db.read() as s:
        assert all(not quantiles.usable(s, m, BERLIN) and quantiles.usable(s, m, "Asia/Shanghai")
                   for m in definitions.load().measures)
    eng.kpi("aud", {})
    assert ranked_calls == []
    eng.rebuild_kpi_rollups()
    eng.kpi("aud", {})
    assert ranked_calls == [True, True]


def test_few_cases_are_sorted_not_ranked(approval, berlin, ranked_calls, monkeypatch):
    eng = approval
    eng.rebuild_kpi_rollups()
    _load(eng, random.Random(5), 30)
    monkeypatch.setattr(quantiles, "DIRECT", 10_000)
    eng.kpi("aud", {})
    assert ranked_calls == []


def _cases_on(eng: Engine, rng: random.Random, count: int, first_at: datetime, seconds: int, hours) -> None:
    """`count` instances registered in the `seconds` after `first_at`, a case of each measure (hours(rng))."""
    with eng.db.write() as s:
        version = s.scalar(select(ProcessVersion.id).limit(1))
        first = (s.scalar(select(Instance.id).order_by(Instance.id.desc()).limit(1)) or 0) + 1
        instances, cases = [], []
        for iid in range(first, first + count):
            at = first_at + timedelta(seconds=rng.randrange(0, seconds))
            instances.append({"id": iid, "process_version_id": version, "process_key": "approval",
                              "status": "completed", "started_by": "rep", "started_at": at, "state_json": "{}",
                              "serializer_version": "x"})
            process = rng.choice(("complaint", "aftersale"))
            for measure in ("first_response", "resolution"):
                role, person = rng.choice(PEOPLE)
                cases.append({"measure": measure, "instance_id": iid, "process": process, "started_at": at,
                              "role": role, "person": person, "hours": hours(rng), "unresolved": False})
        s.execute(insert(Instance), instances)
        s.execute(insert(KpiCase), cases)


def test_the_page_reads_at_the_ranks_only_where_that_costs_less_than_sorting(approval, berlin, ranked_calls,
                                                                            monkeypatch):
    """The count rows phase 1 would read against the cases sorting reads (quantiles.cheaper): a whole month of many
    cases in few buckets has a few rows, known without counting them: read at the ranks; ten days of a month in few
    buckets, one dekad's rows (engine/kpi/dekads.py), known without counting them: read at the ranks; seven of them, a
    dekad less three days: counted, fewer than their cases: read at the ranks; eight days with many cases spread over
    the hours (as days: four in each of two dekads): more count rows than cases: sorted; three of them: sorted
    without counting (phase 2's reads alone cost nearly as much as sorting). The same figures
    every way."""
    eng = approval
    eng.rebuild_kpi_rollups()
    for name, value in COSTS.items():
        monkeypatch.setattr(quantiles, name, value)
    counted = []
    real_rows = quantiles._rows
    monkeypatch.setattr(quantiles, "_rows", lambda *a: counted.append(real_rows(*a)) or counted[-1])
    rng = random.Random(11)
    few = lambda r: r.choice(range(1, 11)) / 4  # noqa: E731 - ten values in six buckets
    _cases_on(eng, rng, 4000, _utc("2026-02-28T23:00"), 31 * 86400 - 3600, few)  # March
    _cases_on(eng, rng, 4000, _utc("2026-10-31T23:00"), 10 * 86400, few)  # 1 to 10 November
    # and a few from the 21st: the month less its days outside the window would read more days than it has inside
    _cases_on(eng, rng, 200, _utc("2026-11-20T23:00"), 10 * 86400, few)
    spread = lambda r: math.exp(r.uniform(math.log(0.1), math.log(8000)))  # noqa: E731 - over every bucket's range
    _cases_on(eng, rng, 2600, _utc("2026-12-06T23:00"), 8 * 86400, spread)  # 7 to 14 December
    defs = definitions.load()
    with eng.db.read() as s:  # 7 to 14 December: more count rows than cases
        days = filter_rules.parse(s, {"from": "2026-12-07", "to": "2026-12-14"}, BERLIN)
        dense = s.scalar(select(func.count()).select_from(KpiCase).where(
            KpiCase.measure == "resolution", KpiCase.started_at >= days.start, KpiCase.started_at < days.end))
    for filters, ranked, asked, count in (({"from": "2026-03-01", "to": "2026-03-31"}, [True, True], 0, 4000),
                                          ({"from": "2026-11-01", "to": "2026-11-10"}, [True, True], 0, 4000),
                                          ({"from": "2026-11-04", "to": "2026-11-10"}, [True, True], 2, None),
                                          ({"from": "2026-12-07", "to": "2026-12-14"}, [], 2, dense),
                                          # three of them: phase 2 costs nearly what sorting does, not counted
                                          ({"from": "2026-12-12", "to": "2026-12-14"}, [], 0, None)):
        ranked_calls.clear()
        counted.clear()
        page = {t["measure"]: t for t in eng.kpi("aud", filters)["times"]}
        assert ranked_calls == ranked and len(counted) == asked, filters
        if asked and ranked:
            assert all(rows < 4000 / 2 for rows in counted)
        elif asked:  # the count rows and phase 2's reads (11 rows of the breakdown) cost more than sorting: sorted
            assert all(quantiles.ROW_COST * rows + quantiles.ROW_READS * 11 > count for rows in counted)
        with eng.db.read() as s:
            window = filter_rules.parse(s, filters, BERLIN)
        for measure in defs.measures:
            expected = _oracle(eng, measure, window)
            assert page[measure.key]["overall"]["count"] == (count or page[measure.key]["overall"]["count"])
            assert asked or ranked or (  # sorted without counting: phase 2 alone costs nearly what sorting does
                quantiles.WORTH_COUNTING * page[measure.key]["overall"]["count"] < quantiles.ROW_READS * 11)
            for name in ("overall", "by_person", "by_role"):
                rows = [page[measure.key]["overall"]] if name == "overall" else page[measure.key][name]
                for row in rows:
                    median, p90 = expected[(name, row.get("key"))]
                    assert (row["median_hours"], row["p90_hours"]) == (stats.hours(median), stats.hours(p90))
    measure = defs.measures[0]
    for filters in ({}, {"from": "2026-11-04", "to": "2026-12-10"}):  # whole months; dekads and days
        with eng.db.read() as s:
            window = filter_rules.parse(s, filters, BERLIN)
            span = months.span(*measures.registration_bounds(s, window), BERLIN)
            with_zero = kept(eng)
            # November less its first three days, the first dekad of December
            wanted = {"kpi_hours_month": {"2026-11"}, "kpi_hours_day": {"2026-11-01", "2026-11-02", "2026-11-03"},
                      "kpi_hours_dekad": {"2026-12-01"}}
            rows = [r for table, periods in wanted.items() for r in with_zero[table]
                    if r[0] == measure.key and (r[1] in periods if filters else table == "kpi_hours_month")]
            assert real_rows(s, measure, window, span, BERLIN, {}) == len(rows) > 0


def test_a_month_mostly_in_the_window_is_its_row_less_the_days_outside(approval, berlin, ranked_calls, monkeypatch):
    """Phase 1 counts a partial month as its month row less its days outside the window when those hold fewer rows
    (days after the last one holding a count hold none: a window ending today reads its month's row): the same
    figures as every case summarized."""
    eng = approval
    eng.rebuild_kpi_rollups()
    for name, value in COSTS.items():
        monkeypatch.setattr(quantiles, name, value)
    parts = []
    real_parts = quantiles._parts
    monkeypatch.setattr(quantiles, "_parts", lambda *a: [parts.append(p) or p for p in real_parts(*a)])
    rng = random.Random(12)
    few = lambda r: r.choice(range(1, 11)) / 4  # noqa: E731 - ten values in six buckets
    _cases_on(eng, rng, 4000, _utc("2026-02-28T23:00"), 31 * 86400 - 3600, few)  # March
    _cases_on(eng, rng, 3000, _utc("2026-03-31T22:00"), 12 * 86400, few)  # 1 to 12 April
    defs = definitions.load()
    for filters, expected_parts in (  # (False, ...: days; True, ...: dekads named by their first days)
            ({"from": "2026-03-03", "to": "2026-04-30"}, {("2026-03", True, ((False, "03-01", "03-02", -1),)),
                                                          ("2026-04", True, ())}),
            ({"from": "2026-03-20", "to": "2026-04-05"}, {("2026-03", False, ((False, "03-20", "03-20", 1),
                                                                               (True, "03-21", "03-21", 1))),
                                                          ("2026-04", False, ((False, "04-01", "04-05", 1),))}),
            # the 11th to the 18th: the dekad less the 19th and 20th
            ({"from": "2026-03-11", "to": "2026-03-18"}, {("2026-03", False, ((True, "03-11", "03-11", 1),
                                                                               (False, "03-19", "03-20", -1)))})):
        ranked_calls.clear()
        parts.clear()
        with monkeypatch.context() as m:  # eight days of March: fewer cases than phase 2's reads would cost
            for name in COSTS if filters["from"] == "2026-03-11" else ():
                m.setattr(quantiles, name, 0)
            page = {t["measure"]: t for t in eng.kpi("aud", filters)["times"]}
        assert ranked_calls == [True, True], filters
        assert {(p.label, p.whole, tuple((x.dekad, x.first.isoformat()[5:], x.last.isoformat()[5:], x.sign)
                                         for x in p.pieces)) for p in parts} == expected_parts
        with eng.db.read() as s:
            window = filter_rules.parse(s, filters, BERLIN)
        for measure in defs.measures:
            expected = _oracle(eng, measure, window)
            for name in ("overall", "by_month", "by_person", "by_role"):
                rows = [page[measure.key]["overall"]] if name == "overall" else page[measure.key][name]
                for row in rows:
                    median, p90 = expected[(name, row.get("key"))]
                    assert (row["median_hours"], row["p90_hours"]) == (stats.hours(median), stats.hours(p90))


WEEK_HOURS = 168


# -- migrations 0028 and 0030 and the rebuild -------------------------------------------------------------------

def _schema_objects(raw) -> set[str]:
    with raw.connect() as conn:
        if raw.dialect.name == "postgresql":
            found = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                                          "AND tgname LIKE 'kpi_hours%' UNION SELECT proname FROM pg_proc "
                                          "WHERE proname = 'kpi_hours_rollup'")))
        else:
            found = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                          "AND name LIKE 'kpi_hours%'")))
        tables = set(inspect(conn).get_table_names()) & {"kpi_hours_month", "kpi_hours_day"}
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("kpi_case") if ix["name"].endswith("_hours")}
    return found | tables | indexes


def test_the_upgrade_counts_what_0027_wrote_and_the_downgrade_removes_it(approval, berlin, db_url):
    eng = approval
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0027")
        raw.dispose()
        assert _schema_objects(raw) == set()
        eng.db.dispose()
        eng.rebuild_kpi_cases()
        with eng.db.write() as s:  # the day rollups for Berlin (the counts of 0028 are not there yet)
            rollups.rebuild(s, BERLIN)
        _load(eng, random.Random(6), 150)
        with eng.db.read() as s:
            assert not any(quantiles.usable(s, m, BERLIN)  # below 0028: every case is read
                           for m in definitions.load().measures)
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    eng.db.dispose()
    made = {"ix_kpi_case_hours", "ix_kpi_case_process_hours", "ix_kpi_case_role_hours", "ix_kpi_case_person_hours",
            "kpi_hours_month", "kpi_hours_day", "kpi_hours_insert", "kpi_hours_update", "kpi_hours_delete",
            "ix_kpi_case_month_hours"}  # (and the head's later one: a month's hours, migration 0037)
    assert _schema_objects(raw) == made | ({"kpi_hours_rollup"} if raw.dialect.name == "postgresql" else set())
    raw.dispose()
    _same_figures(eng)


def _buckets(eng: Engine, dim: str) -> set[tuple]:
    """(label, bucket) of the month counts of `dim` (not zero)."""
    with eng.db.read() as s:
        return {tuple(r) for r in s.execute(select(KpiHoursMonth.label, KpiHoursMonth.bucket).where(
            KpiHoursMonth.dim == dim, KpiHoursMonth.n != 0))}


def _expected(eng: Engine, dim: str, bucket) -> set[tuple]:
    with eng.db.read() as s:
        rows = s.execute(select(KpiCase.role, KpiCase.person, KpiCase.hours).where(KpiCase.unresolved.is_(False)))
        return {({"process": "", "role": role or "", "person": person or ""}[dim], bucket(hours))
                for role, person, hours in rows}


def test_0030_counts_in_buckets_per_dim_and_its_downgrade_in_whole_hours(approval, berlin, db_url):
    """The upgrade's triggers and count: per person (and role) the ladder, per process whole hours up to a week;
    the downgrade's: ceil(hours) for every dim, as 0028 counted; each kept by its triggers as rows come in."""
    eng = approval
    eng.rebuild_kpi_rollups()
    _load(eng, random.Random(12), 150)
    cfg = alembic_config(db_url)
    ladder = lambda h: bisect.bisect_left(quantiles.LADDER, h)  # noqa: E731 - LADDER[b-1] < h <= LADDER[b]
    try:
        command.downgrade(cfg, "0029")
        eng.db.dispose()
        assert _buckets(eng, "person") == _expected(eng, "person", math.ceil) != _expected(eng, "person", ladder)
        _load(eng, random.Random(13), 100)  # counted by 0028's triggers
        assert kept(eng) == recounted(eng, quantiles.hourly_sql)
        assert _buckets(eng, "role") == _expected(eng, "role", math.ceil)
    finally:
        command.upgrade(cfg, "head")
    eng.db.dispose()
    assert _buckets(eng, "person") == _expected(eng, "person", ladder)
    process = hour_buckets.edges_for(eng.db._writer.dialect.name)["process"]  # (PostgreSQL's first hours: quarters)
    weekly = lambda h: bisect.bisect_left(process, h)  # noqa: E731 - whole hours, then the ladder
    assert _buckets(eng, "process") == _expected(eng, "process", weekly) != _expected(eng, "process", math.ceil)
    _load(eng, random.Random(14), 100)
    assert kept(eng) == recounted(eng)
    role = hour_buckets.edges_for(eng.db._writer.dialect.name)["role"]  # (migration 0038: eighths on PostgreSQL)
    assert _buckets(eng, "role") == _expected(eng, "role", lambda h: bisect.bisect_left(role, h))


def test_0038_counts_roles_in_eighths_and_first_hours_in_quarters_its_downgrade_in_0030s(approval, berlin, db_url):
    """PostgreSQL's upgrade: triggers and count per role in eighths of each doubling of hours, per process quarter
    hours up to 4 h, per person the ladder still; SQLite keeps 0030's buckets. Each marks its counts
    (kpi_rollup_state.hour_buckets); the downgrade: 0030's buckets, unmarked, read in those. Each kept by its
    triggers as rows come in; the figures the same throughout."""
    eng = approval
    dialect = eng.db._writer.dialect.name
    eng.rebuild_kpi_rollups()
    _load(eng, random.Random(31), 150)
    cfg = alembic_config(db_url)
    in_ = lambda edges: lambda h: bisect.bisect_left(edges, h)  # noqa: E731 - edges[b-1] < h <= edges[b]
    head = hour_buckets.edges_for(dialect)
    try:
        command.downgrade(cfg, "0037")
        eng.db.dispose()
        assert _buckets(eng, "role") == _expected(eng, "role", in_(EDGES_0030["role"]))
        assert _buckets(eng, "process") == _expected(eng, "process", in_(EDGES_0030["process"]))
        _load(eng, random.Random(32), 100)  # counted by 0036's triggers in 0030's buckets
        assert kept(eng) == recounted(eng, bucket_sql_0030)
        _same_figures(eng)
    finally:
        command.upgrade(cfg, "head")
    eng.db.dispose()
    assert _buckets(eng, "role") == _expected(eng, "role", in_(head["role"]))
    assert _buckets(eng, "process") == _expected(eng, "process", in_(head["process"]))
    assert _buckets(eng, "person") == _expected(eng, "person", in_(quantiles.LADDER))
    if dialect == "postgresql":
        assert _expected(eng, "role", in_(EIGHTHS)) != _expected(eng, "role", in_(EDGES_0030["role"]))
        assert _expected(eng, "process", in_(head["process"])) != _expected(eng, "process",
                                                                            in_(EDGES_0030["process"]))
    _load(eng, random.Random(33), 100)
    assert kept(eng) == recounted(eng, functools.partial(quantiles.bucket_sql, edges=head))
    with eng.db.read() as s:
        assert s.scalar(select(KpiRollupState.hour_buckets)) == {"postgresql": "0038", "sqlite": "0030"}[dialect]
    _same_figures(eng)


def test_0031_counts_the_totals_its_triggers_keep_them_and_its_downgrade_drops_them(approval, berlin, db_url):
    """The upgrade counts kpi_hours_total from what 0030's triggers kept (the month rows summed), its triggers keep
    it as rows come, change and go; the downgrade drops it and 0030's triggers keep the month and day rows alone."""
    eng = approval
    eng.rebuild_kpi_rollups()
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0030")
        eng.db.dispose()
        assert "kpi_hours_total" not in kept(eng)
        _load(eng, random.Random(15), 150)  # counted by 0030's triggers alone
        assert kept(eng) == recounted(eng)  # (in 0030's buckets)
    finally:
        command.upgrade(cfg, "head")
    eng.db.dispose()
    found = kept(eng)
    assert len(found["kpi_hours_total"]) > 50 and found["kpi_hours_total"] == months_summed(found)
    _load(eng, random.Random(16), 100)
    with eng.db.write() as s:  # changed and deleted by hand
        ids = list(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "resolution").limit(40)))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[:20])).values(hours=KpiCase.hours + 30))
        s.execute(delete(KpiCase).where(KpiCase.instance_id.in_(ids[20:])))
    found = kept(eng)
    assert found == recounted(eng) and found["kpi_hours_total"] == months_summed(found)
    _same_figures(eng)


def test_0036_counts_the_dekads_its_triggers_keep_them_and_its_downgrade_drops_them(approval, berlin, db_url):
    """The upgrade counts kpi_hours_dekad from the day rows 0031's triggers kept, its triggers keep it as rows come,
    change and go (the day rows summed per dekad); the downgrade drops it and the page reads the days alone."""
    eng = approval
    eng.rebuild_kpi_rollups()
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0035")
        eng.db.dispose()
        assert "kpi_hours_dekad" not in kept(eng)
        _load(eng, random.Random(21), 150)  # counted by 0031's triggers alone
        _same_figures(eng)  # a partial month read as its days
    finally:
        command.upgrade(cfg, "head")
    eng.db.dispose()
    found = kept(eng)
    assert len(found["kpi_hours_dekad"]) > 50 and found["kpi_hours_dekad"] == days_summed(found)
    _load(eng, random.Random(22), 100)
    with eng.db.write() as s:  # changed, moved across a dekad's edge and deleted by hand
        ids = list(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "resolution").limit(60)))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[:20])).values(hours=KpiCase.hours + 30))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[20:40])).values(
            started_at=_utc("2026-03-20T22:59:59.999999")))  # 20 March, 23:59:59 in Berlin: the second dekad's last
        s.execute(delete(KpiCase).where(KpiCase.instance_id.in_(ids[40:])))
    found = kept(eng)
    assert found == recounted(eng) and found["kpi_hours_dekad"] == days_summed(found)
    assert any(r[1] == "2026-03-11" for r in found["kpi_hours_dekad"])
    _same_figures(eng)


# -- migration 0034: the company month of each case -------------------------------------------------------------

def _months_kept(eng: Engine) -> dict[tuple, tuple]:
    with eng.db.read() as s:
        return {(r.measure, r.instance_id): (r.month, r.started_at) for r in s.execute(
            select(KpiCase.measure, KpiCase.instance_id, KpiCase.month, KpiCase.started_at))}


def _months_right(eng: Engine, timezone: str) -> None:
    kept_months = _months_kept(eng)
    assert len(kept_months) > 100
    assert {key: month for key, (month, _) in kept_months.items()} == {
        key: months.month_of(at, timezone) for key, (_, at) in kept_months.items()}


def test_each_case_holds_the_company_month_of_its_registration(approval, berlin):
    """Set by the triggers as rows are written and moved (around the engine), and again by a rebuild for another
    zone: the month the rollups count the case under, at the edges of months in either zone."""
    eng = approval
    eng.rebuild_kpi_rollups()  # Berlin's days
    _load(eng, random.Random(17), 200)
    with eng.db.write() as s:
        ids = list(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "resolution").limit(30)))
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[:15])).values(
            started_at=_utc("2026-03-31T21:59:59.999999")))  # Berlin: 31 March; Shanghai: 1 April
        s.execute(update(KpiCase).where(KpiCase.instance_id.in_(ids[15:])).values(
            started_at=_utc("2026-03-31T22:00")))  # Berlin: 1 April
    _months_right(eng, BERLIN)
    _same_figures(eng)
    with eng.db.write() as s:
        rollups.rebuild(s, "Asia/Shanghai")
    _months_right(eng, "Asia/Shanghai")


def test_0034_sets_the_months_and_its_downgrade_drops_them(approval, berlin, db_url):
    eng = approval
    eng.rebuild_kpi_rollups()
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0033")
        eng.db.dispose()
        with eng.db.read() as s:
            assert "month" not in {c["name"] for c in inspect(s.connection()).get_columns("kpi_case")}
        _load(eng, random.Random(18), 150)  # written without a month
        _same_figures(eng)  # the month rows read by their bounds
    finally:
        command.upgrade(cfg, "head")
    eng.db.dispose()
    _months_right(eng, BERLIN)
    _same_figures(eng)
