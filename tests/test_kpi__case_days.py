"""The decided cases counted per company day by the kpi_case triggers (engine/kpi/case_days.py, migration 0026) are a
count of kpi_case, the open cases the triggers keep (engine/kpi/open_cases.py, migration 0027) are the rule's (a
running or halted instance without a decided row, offered to its first waiting end task's role and assignee) and
their counts per day a count of them, and the page's times and resolution rate summed from them are those counted
from kpi_case and the live instances:

- on test_kpi__case_rows' data set (complaints and after-sales cases driven through the engine: done within and
  past target, open, closed unresolved, reopened, cancelled, transferred) plus 400 random decided rows written
  around the engine (random measure, process, role, person or none, hours at and around the target, unresolved),
  and random end tasks (ready, claimed or not, completed, cancelled, created at the same instant), registered at
  random instants, at the edges of Berlin's 23-hour and 25-hour days and around `now - target`; for every filter,
  at several `now`s, as an auditor and as a sales manager; in Asia/Shanghai and, rebuilt, in Europe/Berlin;
- after random rows were updated (each counted column; tasks claimed, reassigned, completed, moved; instances
  ended, halted, moved), deleted and inserted around the engine;
- a changed target makes the page count kpi_case until `kpi rebuild` counts by the new one;
- migrations 0026 and 0027 count what 0025's engine wrote on upgrade; the downgrades remove the tables and triggers;
  `salesflow kpi rebuild` recounts them.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from bench import load_checks
from engine import Engine
from engine.kpi import case_days, definitions, open_cases, quantiles, rollups, times
from engine.store.db import alembic_config
from engine.store.models import Instance, KpiCase, KpiCaseDay, KpiOpenDay, Task
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures
from tests import test_store__kpi_case_migration as migration_test
from tests.cli_runner import run_cli

BERLIN = "Europe/Berlin"
# UTC instants at the edges of Berlin's 29 March 2026 (23 h) and 25 October 2026 (25 h), and Shanghai's midnight
EDGES = ["2026-03-28T22:59:59.999999", "2026-03-28T23:00", "2026-03-29T21:59:59.999999", "2026-03-29T22:00",
         "2026-10-24T21:59:59.999999", "2026-10-24T22:00", "2026-10-25T22:59:59.999999", "2026-10-25T23:00",
         "2026-03-31T15:59:59.999999", "2026-03-31T16:00"]
# around now - target for both targets and the `now`s the tests look from (the day the late split counts exactly)
NOWS = [case_rows_test.LATER, case_rows_test.LATER + timedelta(days=3, hours=7, minutes=13)]
NOW_EDGES = [now - timedelta(hours=h) + timedelta(microseconds=d) for now in NOWS for h in (24, 48) for d in (-1, 0, 1)]
ENDS = {"complaint": ["take_quality_by_manager", "propose_service_by_vp", "implement_solution"],
        "aftersale": ["first_response", "resolve", "resolve_otherwise"]}
FILTERS = case_rows_test.FILTERS + [
    {"from": "2026-03-29", "to": "2026-03-29"}, {"from": "2026-03-30", "to": "2026-03-31"}, {"to": "2026-03-28"},
    {"from": "2026-10-25", "to": "2026-10-25"}, {"from": "2026-10-26"}, {"from": "2026-04-01", "to": "2026-10-24"},
    {"from": "2026-03-29", "process": "complaint"}]


def oracle(eng: Engine, timezone: str, targets: dict[str, float] | None = None) -> set[tuple]:
    """kpi_case_day's non-zero rows as a count of kpi_case, each row's day by zoneinfo, within by kpi.yaml."""
    zone = ZoneInfo(timezone)
    targets = targets or {m.key: m.target_hours for m in definitions.load().measures}
    found: Counter[tuple] = Counter()
    with eng.db.read() as s:
        for r in s.execute(select(KpiCase)).scalars():
            key = (r.measure, r.started_at.astimezone(zone).date().isoformat(), r.process, r.role or "",
                   r.person or "")
            found[(*key, "done")] += not r.unresolved
            found[(*key, "within")] += not r.unresolved and r.hours <= targets[r.measure]
            found[(*key, "unresolved")] += bool(r.unresolved)
    keys = {k[:5] for k, n in found.items() if n}
    return {(*k, found[(*k, "done")], found[(*k, "within")], found[(*k, "unresolved")]) for k in keys}


def open_oracle(eng: Engine) -> set[tuple]:
    """kpi_open_case's rows by the rule, in Python: (measure, instance, process, registration, role, person)."""
    found = set()
    with eng.db.read() as s:
        decided = set(s.execute(select(KpiCase.measure, KpiCase.instance_id)).tuples())
        tasks: dict[int, list] = {}
        for t in s.execute(select(Task.instance_id, Task.bpmn_id, Task.created_at, Task.id, Task.role, Task.assignee)
                           .where(Task.status == "ready")):
            tasks.setdefault(t.instance_id, []).append(t)
        instances = list(s.execute(select(Instance.id, Instance.process_key, Instance.started_at)
                                   .where(Instance.status.in_(("running", "incident")))))
    for measure in definitions.load().measures:
        for spec in measure.intervals:
            for inst in instances:
                if inst.process_key != spec.process or (measure.key, inst.id) in decided:
                    continue
                waiting = sorted((t for t in tasks.get(inst.id, []) if t.bpmn_id in spec.end.tasks),
                                 key=lambda t: (t.created_at, t.id))
                first = waiting[0] if waiting else None
                found.add((measure.key, inst.id, spec.process, inst.started_at, first and first.role,
                           first and first.assignee))
    return found


def open_kept(eng: Engine) -> set[tuple]:
    with eng.db.read() as s:
        return open_cases.kept(s)


def open_days(eng: Engine, timezone: str) -> tuple[set[tuple], set[tuple]]:
    """(kpi_open_day's non-zero rows, a count of the rule's open cases by zoneinfo day)."""
    zone = ZoneInfo(timezone)
    counted = Counter((m, at.astimezone(zone).date().isoformat(), p, role or "", person or "")
                      for m, _, p, at, role, person in open_oracle(eng))
    with eng.db.read() as s:
        return open_cases.nonzero_rows(s), {(*k, n) for k, n in counted.items()}


def kept(eng: Engine) -> set[tuple]:
    with eng.db.read() as s:
        return case_days.nonzero_rows(s)


def usable(eng: Engine) -> bool:
    defs = definitions.load()
    with eng.db.read() as s:
        return all(case_days.usable(s, m, defs.timezone) and open_cases.usable(s, m, defs.timezone)
                   for m in defs.measures)


def pages(eng: Engine, user: str, filters: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(the page from the counts per day, which may not count kpi_case; the page counted from kpi_case and the
    source rows: the random rows have no tasks, so the resolution rate is compared with kpi_case's count, which
    test_kpi__rollups compares with every instance's)."""
    def counting(*_args: object) -> list:
        raise AssertionError("the cases were counted from kpi_case or the live instances")

    with monkeypatch.context() as m:
        m.setattr(times, "_counted", counting)
        m.setattr(times, "_open_counted", counting)
        page = eng.kpi(user, filters)
    with monkeypatch.context() as m:
        m.setattr(case_days, "usable", lambda *_: False)
        m.setattr(open_cases, "usable", lambda *_: False)
        m.setattr(rollups, "usable", lambda *_: False)
        return page, eng.kpi(user, filters)


def same_pages(eng: Engine, timezone: str, monkeypatch: pytest.MonkeyPatch, users: tuple = ("aud", "mgr1")) -> None:
    assert usable(eng)
    assert kept(eng) == oracle(eng, timezone)
    assert open_kept(eng) == open_oracle(eng)
    days, counted = open_days(eng, timezone)
    assert days == counted
    for user in users:
        for filters in FILTERS:
            page, old = pages(eng, user, filters, monkeypatch)
            assert page == old, (user, filters)


def _utc(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


def _random_cases(eng: Engine, rng: random.Random, count: int, first_id: int) -> None:
    """`count` instances registered at random instants and at EDGES, each with decided rows written around the
    engine (core inserts: the ORM's follow-up would compute them again), attributed like the engine's rows."""
    with eng.db.write() as s:
        versions = dict(s.execute(select(Instance.process_key, func.max(Instance.process_version_id))
                                  .group_by(Instance.process_key)).all())
        attributed = sorted(set(s.execute(select(KpiCase.role, KpiCase.person)).all()), key=str)
        for n in range(count):
            iid, process = first_id + n, rng.choice(["complaint", "aftersale"])
            edges = [*(_utc(e) for e in EDGES), *NOW_EDGES]
            at = (edges[n] if n < len(edges)
                  else _utc("2026-03-01T00:00") + timedelta(seconds=rng.randrange(70 * 86400)))
            s.execute(insert(Instance).values(
                id=iid, process_version_id=versions[process], process_key=process,
                status=rng.choice(["running", "completed", "completed"]), started_by="svc1", started_at=at,
                state_json="{}", serializer_version="x"))
            for k in range(rng.randrange(4)):  # end tasks (and one that ends nothing), some created together
                bpmn = rng.choice([*ENDS[process], "diagnose"])
                s.execute(insert(Task).values(
                    id=f"t-{iid}-{k}", instance_id=iid, process_key=process, bpmn_id=bpmn, title="任务",
                    role=rng.choice(["after_sales_engineer", "quality_manager", "sales_manager"]),
                    assignee=rng.choice([None, None, "fix1", "fix2"]),
                    status=rng.choice(["ready", "ready", "completed", "cancelled"]),
                    created_at=at + timedelta(minutes=rng.choice([5, 5, 30]))))
            for measure in definitions.load().measures:
                if rng.random() < 0.35:  # still open for this measure
                    continue
                role, person = rng.choice([*attributed, (None, None), ("sales_manager", None)])
                target = measure.target_hours
                s.execute(insert(KpiCase).values(
                    measure=measure.key, instance_id=iid, process=process, started_at=at, role=role, person=person,
                    hours=rng.choice([target, target - 0.5, target + 1e-9, rng.uniform(0, 3 * target)]),
                    unresolved=process == "aftersale" and rng.random() < 0.2))


@pytest.fixture(scope="module")
def mixed(_schema, tmp_path_factory):
    def build(eng: Engine, clock) -> dict:
        ids = case_rows_test.build(eng, clock)
        _random_cases(eng, random.Random(17), 400, 10_000)
        return ids

    yield from figures.repository_data_set(_schema, tmp_path_factory, build)


def test_the_counts_per_day_are_kpi_case_counted_and_give_the_same_page(mixed, monkeypatch):
    eng, _ = mixed
    assert len(kept(eng)) > 100 and any(row[-1] for row in kept(eng))  # unresolved ones among them
    assert len({row[4:] for row in open_kept(eng)}) > 5  # open cases offered to several roles and people, or none
    for now in NOWS:
        eng.clock.set(now)
        same_pages(eng, "Asia/Shanghai", monkeypatch)
        overall = [t["overall"] for t in eng.kpi("aud", {})["times"]]
        assert all(0 < o["open_breached"] < o["open"] for o in overall)
    eng.clock.set(case_rows_test.LATER)
    rate = eng.kpi("aud", {})["resolution_rate"]
    assert rate["overall"]["resolved"] > 10
    assert load_checks.case_day_problems(eng) == []  # the load test's checks agree
    with eng.db.read() as s:
        assert open_cases.by_rule(s) == open_oracle(eng)


def test_in_a_zone_with_daylight_saving_after_a_rebuild(mixed, monkeypatch):
    eng, _ = mixed
    with monkeypatch.context() as m:
        defs = dataclasses.replace(definitions.load(), timezone=BERLIN)
        m.setattr(definitions, "load", lambda *_: defs)
        assert not usable(eng)  # built for Shanghai: counted from kpi_case
        eng.rebuild_kpi_rollups()
        same_pages(eng, BERLIN, monkeypatch, users=("aud",))
        days = {row[1] for row in kept(eng)}
        assert {"2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25"} <= days
    eng.rebuild_kpi_rollups()  # Shanghai again for the tests after this one
    assert usable(eng)


def test_a_changed_target_counts_kpi_case_until_rebuilt(mixed, monkeypatch):
    eng, _ = mixed
    before = eng.kpi("aud", {})
    with monkeypatch.context() as m:
        defs = definitions.load()
        changed = dataclasses.replace(defs, measures=type(defs.measures)(
            dataclasses.replace(x, target_hours=x.target_hours + 6) for x in defs.measures))
        m.setattr(definitions, "load", lambda *_: changed)
        assert not usable(eng)
        counted = eng.kpi("aud", {})  # from kpi_case, by the new target
        assert counted["times"] != before["times"]  # more cases within the longer target
        eng.rebuild_kpi_rollups()
        assert usable(eng)
        page, old = pages(eng, "aud", {}, monkeypatch)
        assert page == old
    eng.rebuild_kpi_rollups()
    assert usable(eng) and eng.kpi("aud", {}) == before


def test_a_registration_outside_the_listed_days_makes_only_its_own_measure_count_kpi_case(mixed, monkeypatch):
    """Each measure's counts are checked for registrations outside kpi_day on their own (a seek in the measure's
    rows): the other measure keeps reading its counts, and the page stays the counted one."""
    eng, _ = mixed
    defs = definitions.load()
    with eng.db.write() as s:
        measure, iid, started = s.execute(select(KpiCase.measure, KpiCase.instance_id, KpiCase.started_at).where(
            KpiCase.unresolved.is_(False)).order_by(KpiCase.instance_id).limit(1)).one()
        where = (KpiCase.measure == measure) & (KpiCase.instance_id == iid)
        s.execute(update(KpiCase).where(where).values(started_at=datetime(1990, 5, 1, tzinfo=UTC)))
    try:
        with eng.db.read() as s:
            assert {m.key: (case_days.usable(s, m, defs.timezone), quantiles.usable(s, m, defs.timezone))
                    for m in defs.measures} == {m.key: (m.key != measure,) * 2 for m in defs.measures}
        page = eng.kpi("aud", {})
        with monkeypatch.context() as m:
            for module in (case_days, open_cases, rollups):
                m.setattr(module, "usable", lambda *_: False)
            assert page == eng.kpi("aud", {})
    finally:
        with eng.db.write() as s:
            s.execute(update(KpiCase).where(where).values(started_at=started))
    assert usable(eng)


def test_rows_changed_around_the_engine_move_their_counts(mixed, monkeypatch):
    eng, _ = mixed
    rng = random.Random(6)
    with eng.db.write() as s:
        rows = list(s.execute(select(KpiCase.measure, KpiCase.instance_id)))
        picked = rng.sample(rows, 120)
        for n, (measure, iid) in enumerate(picked[:100]):
            where = (KpiCase.measure == measure) & (KpiCase.instance_id == iid)
            change = [{"hours": rng.uniform(0, 100)}, {"unresolved": n % 2 == 0}, {"role": "sales_director"},
                      {"person": None}, {"person": "mgr1"}, {"process": "aftersale"},
                      {"started_at": _utc("2026-03-29T12:00")}, {"role": None, "hours": 24.0}][n % 8]
            s.execute(update(KpiCase).where(where).values(**change))
        for measure, iid in picked[100:]:
            s.execute(delete(KpiCase).where(KpiCase.measure == measure, KpiCase.instance_id == iid))
        tasks = list(s.scalars(select(Task.id).where(Task.id.like("t-%"))))
        for n, tid in enumerate(rng.sample(tasks, 80)):
            change = [{"assignee": "fix2"}, {"assignee": None}, {"role": "sales_director"}, {"status": "completed"},
                      {"status": "ready"}, {"bpmn_id": "diagnose"}, {"created_at": _utc("2026-03-01T00:00")},
                      {"instance_id": 10_001}][n % 8]
            s.execute(update(Task).where(Task.id == tid).values(**change))
        s.execute(delete(Task).where(Task.id.in_(rng.sample(tasks, 10))))
        instances = list(s.scalars(select(Instance.id).where(Instance.id >= 10_000)))
        for n, iid in enumerate(rng.sample(instances, 40)):
            change = [{"status": "completed"}, {"status": "incident"}, {"status": "running"},
                      {"started_at": _utc("2026-03-29T12:00")}][n % 4]
            s.execute(update(Instance).where(Instance.id == iid).values(**change))
        gone = rng.choice([i for i in instances if i != 10_001])
        for table in (Task, KpiCase):
            s.execute(delete(table).where(table.instance_id == gone))
        s.execute(delete(Instance).where(Instance.id == gone))
    _random_cases(eng, random.Random(7), 30, 20_000)
    same_pages(eng, "Asia/Shanghai", monkeypatch)


# -- migration 0026 ----------------------------------------------------------------------------------------------

def _schema_objects(raw) -> set[str]:
    with raw.connect() as conn:
        if raw.dialect.name == "postgresql":
            query = ("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'kpi_case%' OR tgname LIKE 'kpi_open%' "
                     "UNION SELECT proname FROM pg_proc WHERE proname IN ('kpi_case_rollup', 'kpi_open_recompute') "
                     "UNION SELECT table_name FROM information_schema.tables WHERE table_name IN "
                     "('kpi_case_day', 'kpi_case_target', 'kpi_open_case', 'kpi_open_day', 'kpi_open_end')")
        else:
            query = ("SELECT name FROM sqlite_master WHERE (name LIKE 'kpi_case_%' OR name LIKE 'kpi_open%') "
                     "AND type IN ('trigger', 'table')")
        return set(conn.scalars(text(query)))


def test_the_upgrade_counts_what_0025_wrote_the_downgrade_removes_them_and_kpi_rebuild_recounts(
        engine, clock, db_url, monkeypatch):
    eng = engine
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    objects = {"kpi_case_day", "kpi_case_target", "kpi_case_insert", "kpi_case_update", "kpi_case_delete",
               "kpi_open_case", "kpi_open_day", "kpi_open_end", "kpi_open_task_update", "kpi_open_day_insert"}
    try:
        assert objects <= _schema_objects(raw)
        command.downgrade(cfg, "0025")
        raw.dispose()
        assert not _schema_objects(raw) & (objects | {"kpi_case_rollup", "kpi_open_recompute"})
        migration_test._cases(eng, clock)  # the engine's case rows under 0025 (no trigger counts them)
        before = [eng.kpi(user, f) for user in ("aud", "mgr1") for f in migration_test.FILTERS]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    eng.db.dispose()  # a connection opened before the tables came may not see them (SQLite)
    assert objects <= _schema_objects(raw)
    raw.dispose()
    assert usable(eng) and kept(eng) == oracle(eng, "Asia/Shanghai") and len(kept(eng)) >= 3
    assert open_kept(eng) == open_oracle(eng) and len(open_kept(eng)) == 3  # two cases open, one without a row
    assert [eng.kpi(user, f) for user in ("aud", "mgr1") for f in migration_test.FILTERS] == before
    for filters in migration_test.FILTERS:
        page, old = pages(eng, "aud", filters, monkeypatch)
        assert page == old
    with eng.db.write() as s:  # counts lost (a restore without them): the rebuild counts them again
        s.execute(delete(KpiCaseDay))
        s.execute(delete(KpiOpenDay))
    done = run_cli({"SALESFLOW_DATABASE_URL": db_url, "SALESFLOW_LANG": "en"}, "kpi", "rebuild")
    assert done.returncode == 0, done.stderr
    assert "kpi_case_day: 5 decided cases counted" in done.stdout and ", 5 decided cases" in done.stdout
    assert "kpi_open_day: 3 open cases counted" in done.stdout
    assert usable(eng) and kept(eng) == oracle(eng, "Asia/Shanghai") and open_days(eng, "Asia/Shanghai")[0]
