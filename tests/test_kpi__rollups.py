"""The KPI counts per company day that database triggers keep (engine/kpi/rollups.py, migration 0025) are a count of
the source rows, and the page built from them is the page counted from the source rows (measures.*_counted):

- on test_kpi__case_rows' data set (complaints, after-sales cases done, reopened, closed unresolved, cancelled,
  transferred), for every filter, as an auditor and as a sales manager;
- in a zone with daylight saving (Europe/Berlin: 29 March 2026 has 23 hours, 25 October 25), with instances
  registered and tasks completed at the first and last instants of those days, then rows changed around the
  engine: a completed task reset to ready by the engine's own task upsert (as a version migration resets one), a
  completion given to another person and role, a completed task and an instance deleted;
- an instant outside the listed days makes the page count the source rows until `kpi rebuild` lists it;
- the resolution rate counted from the complaint resolution's decided cases (kpi_case) is the rate counted from
  every instance;
- migration 0025 fills them on upgrade from 0024 (rows written without the triggers), the page falls back when they
  are not built or built for another zone, `salesflow kpi rebuild` builds them, the downgrade removes them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, event, select, text, update

from engine import Engine
from engine.clock import ManualClock
from engine.kpi import case_days, definitions, rollups, times
from engine.runtime import step
from engine.store.db import alembic_config
from engine.store.models import Instance, KpiRollupState, Task
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures
from tests.cli_runner import run_cli

BERLIN = "Europe/Berlin"


def counted(eng: Engine, timezone: str) -> dict[str, set[tuple]]:
    """Both rollups' rows as a count of the source rows, each row's day by zoneinfo (the oracle)."""
    zone = ZoneInfo(timezone)
    completed: Counter[tuple] = Counter()
    registered: Counter[tuple] = Counter()
    with eng.db.read() as s:
        for r in s.execute(select(Task.completed_at, Task.process_key, Task.role, Task.completed_by)
                           .where(Task.status == "completed", Task.completed_at.is_not(None))):
            completed[(r.completed_at.astimezone(zone).date().isoformat(), r.process_key, r.role,
                       r.completed_by or "")] += 1
        for r in s.execute(select(Instance.started_at, Instance.process_key, Instance.outcome)):
            registered[(r.started_at.astimezone(zone).date().isoformat(), r.process_key, r.outcome or "")] += 1
    return {"kpi_completed_day": {(*k, n) for k, n in completed.items()},
            "kpi_registered_day": {(*k, n) for k, n in registered.items()}}


def kept(eng: Engine) -> dict[str, set[tuple]]:
    with eng.db.read() as s:
        return rollups.nonzero_rows(s)


def usable(eng: Engine) -> bool:
    with eng.db.read() as s:
        return rollups.usable(s, definitions.load().timezone)


def pages(eng: Engine, user: str, filters: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(the page as it is, the page counted from the source rows: also the resolution rate from every instance
    instead of the decided cases of the measure that ends where it does)."""
    page = eng.kpi(user, filters)
    with monkeypatch.context() as m:
        m.setattr(rollups, "usable", lambda *_: False)
        m.setattr(case_days, "usable", lambda *_: False)  # the decided cases counted from kpi_case too (0026)
        m.setattr(times, "reaching", lambda *_: None)
        return page, eng.kpi(user, filters)


# -- the repository's processes ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, case_rows_test.build)


def test_the_rollups_are_a_count_of_the_source_rows(data_set):
    eng, _ = data_set
    assert usable(eng)
    defs = definitions.load()  # and the rate is counted from the complaint resolution's decided cases
    assert times.reaching(defs.measures, defs.rate_process, defs.rate_resolved).key == "resolution"
    assert kept(eng) == counted(eng, "Asia/Shanghai")


@pytest.mark.parametrize("user", ["aud", "mgr1"])
@pytest.mark.parametrize("filters", case_rows_test.FILTERS + [{"from": "2026-03-02", "to": "2026-03-02"}],
                         ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_the_page_from_the_rollups_is_the_page_counted(data_set, user, filters, monkeypatch):
    eng, _ = data_set
    page, old = pages(eng, user, filters, monkeypatch)
    assert page == old
    assert page["volume"]["tasks"]["overall"]["completed"] > 0 or filters.get("from") == "2026-05-01"
    rate = page["resolution_rate"]
    assert rate is None or rate["overall"]["resolved"] > 0 or filters.get("from") in ("2026-04-01", "2026-05-01")


# -- a zone with daylight saving ---------------------------------------------------------------------------------

BERLIN_FILTERS = [{}, {"from": "2026-03-29", "to": "2026-03-29"}, {"from": "2026-03-28", "to": "2026-03-28"},
                  {"from": "2026-03-30"}, {"to": "2026-03-28"}, {"from": "2026-10-25", "to": "2026-10-25"},
                  {"from": "2026-10-26", "to": "2026-10-26"}, {"from": "2026-03-29", "process": "approval"},
                  {"from": "2026-04-01", "to": "2026-10-24"}]
# (registered, approved, archived): UTC instants at the edges of the 23-hour and the 25-hour day in Berlin
EDGES = [("2026-03-27T23:00", "2026-03-28T22:59:59.999999", "2026-03-28T23:00"),  # 28 Mar all day, then 29 Mar 00:00
         ("2026-03-29T21:59:59.999999", "2026-03-29T22:00", "2026-03-29T22:30"),  # 29 Mar 23:59:59, then 30 Mar
         ("2026-10-24T21:59:59.999999", "2026-10-24T22:00", "2026-10-25T22:59:59.999999"),  # 24 Oct; 25 Oct both
         ("2026-10-25T23:00", "2026-10-26T01:00", "2026-10-26T22:59:59.999999")]  # 26 Oct (CET) all three


def test_a_page_asks_each_question_of_the_schema_and_the_rollups_once(data_set):
    """Whether a table is there and whether a rollup is usable cannot change inside the page's transaction: asked
    once each (the catalog once for every table; each usable check once per measure), not once per section."""
    eng, _ = data_set
    statements: list[tuple[str, str]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append((" ".join(statement.split()), repr(parameters)))

    event.listen(eng.db._reader, "before_cursor_execute", seen)  # the page's reads run on the reading engine
    try:
        eng.kpi("aud", {})
    finally:
        event.remove(eng.db._reader, "before_cursor_execute", seen)
    checks = [s for s in statements if s[0].startswith("SELECT kpi_rollup_state.timezone")]
    catalog = [s for s, _ in statements if "sqlite_master" in s or "pg_catalog.pg_class" in s]
    assert len(checks) == len(set(checks)) and 0 < len(checks) <= 1 + 3 * len(definitions.load().measures) + 1
    assert len(catalog) == 1, catalog


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


def _drive(eng: Engine, clock: ManualClock) -> list[int]:
    ids = []
    for n, (registered, approved, archived) in enumerate(EDGES):
        clock.set(_utc(registered))
        iid = eng.start("rep" if n % 2 else "rep2", "approval", {"customer_name": f"客户{n}", "amount_yuan": 20000})
        ids.append(iid)
        clock.set(_utc(approved))
        [task] = [t for t in eng.inbox("mgr") if t["instance_id"] == iid]
        eng.complete("mgr", task["id"], {"approved": True} if n != 1 else {"approved": False, "comment": "金额不符"})
        if n != 1:
            clock.set(_utc(archived))
            [task] = [t for t in eng.inbox("rep" if n % 2 else "rep2") if t["instance_id"] == iid]
            eng.complete("rep" if n % 2 else "rep2", task["id"], {"archive_no": f"A-{n}"})
    return ids


def _same_pages(eng: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert usable(eng)
    assert kept(eng) == counted(eng, BERLIN)
    for filters in BERLIN_FILTERS:
        page, old = pages(eng, "aud", filters, monkeypatch)
        assert page == old, filters


def test_days_of_23_and_25_hours_count_where_the_page_counts(approval, clock, berlin, monkeypatch):
    eng = approval
    assert not usable(eng)  # built for Shanghai: the page counts the source rows
    eng.rebuild_kpi_rollups()
    _drive(eng, clock)
    _same_pages(eng, monkeypatch)
    by_day = {(row[0], row[3]): row[-1] for row in kept(eng)["kpi_completed_day"]}
    assert by_day[("2026-03-28", "mgr")] == 1 and by_day[("2026-03-29", "rep2")] == 1  # the two sides of 00:00
    assert by_day[("2026-10-25", "rep2")] == 1 and by_day[("2026-10-25", "mgr")] == 1  # 00:00 and 23:59:59 of 25 h
    month = eng.kpi("aud", {"from": "2026-03-28", "to": "2026-03-29"})["volume"]["tasks"]
    assert month["overall"]["completed"] == 2


def test_rows_changed_around_the_engine_move_their_counts(approval, clock, berlin, monkeypatch):
    eng = approval
    eng.rebuild_kpi_rollups()
    ids = _drive(eng, clock)
    with eng.db.write() as s:  # a version migration resets a completed task to ready under its id: the upsert
        done = s.execute(select(Task).where(Task.instance_id == ids[0], Task.bpmn_id == "archive")).scalar_one()
        row = {c.name: getattr(done, c.name) for c in Task.__table__.columns}
        s.expunge(done)
        step._UPSERT_TASK.execute(s, {**row, "status": "ready", "completed_by": None, "completed_at": None})
    _same_pages(eng, monkeypatch)
    with eng.db.write() as s:  # another person and role, another day; then a completion is deleted
        s.execute(update(Task).where(Task.instance_id == ids[2], Task.bpmn_id == "approve").values(
            completed_by="dir", role="sales_director", completed_at=_utc("2026-10-25T12:00")))
        s.execute(delete(Task).where(Task.instance_id == ids[3], Task.bpmn_id == "archive"))
        s.execute(update(Instance).where(Instance.id == ids[1]).values(outcome="withdrawn"))
    _same_pages(eng, monkeypatch)
    with eng.db.write() as s:  # an instance registered and deleted again
        version = s.scalar(select(Instance.process_version_id).where(Instance.id == ids[0]))
        s.add(Instance(id=99, process_version_id=version, process_key="approval", status="running", started_by="rep",
                       started_at=_utc("2026-03-29T12:00"), state_json="{}", serializer_version="x"))
    assert ("2026-03-29", "approval", "", 1) in kept(eng)["kpi_registered_day"]
    with eng.db.write() as s:
        s.execute(delete(Instance).where(Instance.id == 99))
    _same_pages(eng, monkeypatch)


def test_an_instant_outside_the_listed_days_is_counted_from_the_rows_until_rebuilt(approval, clock, monkeypatch):
    eng = approval
    _drive(eng, clock)
    with eng.db.write() as s:
        s.execute(update(Task).where(Task.instance_id == 1, Task.bpmn_id == "approve").values(
            completed_at=datetime(1990, 5, 1, tzinfo=UTC)))
    assert not usable(eng)
    page, old = pages(eng, "aud", {}, monkeypatch)
    assert page == old and "1990-05" in {r["key"] for r in page["volume"]["tasks"]["by_month"]}
    eng.rebuild_kpi_rollups()
    assert usable(eng) and kept(eng) == counted(eng, "Asia/Shanghai")
    assert eng.kpi("aud", {}) == page


# -- migration 0025 ----------------------------------------------------------------------------------------------

def _triggers(raw) -> set[str]:
    with raw.connect() as conn:
        if raw.dialect.name == "postgresql":
            return set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'kpi%' "
                                         "UNION SELECT proname FROM pg_proc WHERE proname LIKE 'kpi%'")))
        return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))


def _tables(raw) -> set[str]:
    query = ("SELECT table_name FROM information_schema.tables" if raw.dialect.name == "postgresql"
             else "SELECT name FROM sqlite_master WHERE type = 'table'")
    with raw.connect() as conn:
        return set(conn.scalars(text(query))) & {"kpi_day", "kpi_rollup_state", "kpi_completed_day",
                                                 "kpi_registered_day"}


def test_the_upgrade_counts_what_0024_wrote_and_the_downgrade_removes_them(approval, clock, db_url, monkeypatch):
    eng = approval
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0024")
        raw.dispose()
        assert _triggers(raw) == set() and _tables(raw) == set()
        _drive(eng, clock)  # the engine's writes under 0024 (no trigger counts them)
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    eng.db.dispose()  # a connection opened before the tables came may not see them (SQLite)
    assert len(_triggers(raw)) >= 6 and len(_tables(raw)) == 4
    raw.dispose()
    assert usable(eng) and kept(eng) == counted(eng, "Asia/Shanghai")
    for filters in BERLIN_FILTERS:
        page, old = pages(eng, "aud", filters, monkeypatch)
        assert page == old, filters


def test_not_built_the_page_counts_the_rows_and_kpi_rebuild_builds_them(approval, clock, db_url):
    eng = approval
    _drive(eng, clock)
    expected = {str(f): eng.kpi("aud", f) for f in BERLIN_FILTERS}
    with eng.db.write() as s:
        s.execute(delete(KpiRollupState))
    assert not usable(eng)
    assert {str(f): eng.kpi("aud", f) for f in BERLIN_FILTERS} == expected  # counted from the source rows
    done = run_cli({"SALESFLOW_DATABASE_URL": db_url, "SALESFLOW_LANG": "en"}, "kpi", "rebuild")
    assert done.returncode == 0, done.stderr
    assert "kpi rollups: 7 completed tasks, 4 registrations" in done.stdout and "kpi_day:" in done.stdout
    assert usable(eng) and kept(eng) == counted(eng, "Asia/Shanghai")
    assert {str(f): eng.kpi("aud", f) for f in BERLIN_FILTERS} == expected
