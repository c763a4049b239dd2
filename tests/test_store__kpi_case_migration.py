"""Migration 0023: kpi_case comes with the upgrade, filled from the instances already there, so a database upgraded
with running, done, reopened and closed-unresolved after-sales cases shows the same KPI page as before the upgrade;
the downgrade drops the table and the page (read the old way, by the code of 0022) is still the same."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine import Engine
from engine.clock import ManualClock
from engine.store.db import alembic_config
from tests.cli_runner import run_cli
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import PEOPLE, do
from tests.test_kpi__aftersale import AGREES, ASKED, DIAGNOSED, RESOLVED, at, handle, request

FILTERS = ({}, {"from": "2026-03-02", "to": "2026-03-02"}, {"process": "aftersale"}, {"to": "2026-03-01"})


def _cases(eng: Engine, clock: ManualClock) -> None:
    eng.deploy("system", [ROOT / "processes" / "aftersale.bpmn", ROOT / "processes" / "return_approval.dmn",
                          *sorted((ROOT / "forms").glob("aftersale_*.yaml"))])
    add_users(eng, PEOPLE)
    at(clock, "2026-03-02", "09:00")
    ids = [eng.start("svc1", "aftersale", request()) for _ in range(4)]
    at(clock, "2026-03-02", "15:00")
    handle(eng, ids[0], "fix1", RESOLVED)  # done in 6 h
    handle(eng, ids[1], "fix2", RESOLVED)  # done, reopened, closed unresolved
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": False, "satisfaction": 2}, ids[1])
    do(eng, "fix2", "diagnose", DIAGNOSED, ids[1])
    do(eng, "fix2", "resolve", ASKED, ids[1])
    do(eng, "svc2", "confirm_closing", AGREES, ids[1])
    do(eng, "fix1", "first_response", {"response_channel": "phone", "response_note": "已联系"}, ids[2])  # open
    at(clock, "2026-03-06", "12:00")


def _times(eng: Engine) -> list:
    return [eng.kpi(user, filters)["times"] for user in ("aud", "mgr1") for filters in FILTERS]


def test_the_upgrade_fills_kpi_case_and_the_page_stays_the_same(engine: Engine, clock: ManualClock, db_url: str):
    _cases(engine, clock)
    before = _times(engine)
    assert before[0][1]["overall"]["unresolved"] == 1 and before[0][1]["overall"]["count"] == 1
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0022")
        assert "kpi_case" not in inspect(raw).get_table_names()
        command.upgrade(cfg, "0023")
        raw.dispose()  # a connection opened before the table came may not see its index (SQLite)
        assert "ix_kpi_case_window" in {ix["name"] for ix in inspect(raw).get_indexes("kpi_case")}
        with raw.connect() as conn:  # the two done cases' first responses and resolutions (one unresolved)
            assert conn.exec_driver_sql("SELECT count(*) FROM kpi_case").scalar() == 5
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _times(engine) == before


def test_salesflow_kpi_rebuild_puts_back_rows_written_around_the_engine(engine: Engine, clock: ManualClock,
                                                                       db_url: str):
    _cases(engine, clock)
    before = _times(engine)
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:  # as a restore of the other tables, or a bulk load, would leave it
            conn.exec_driver_sql("DELETE FROM kpi_case")
        assert _times(engine) != before
        done = run_cli({"SALESFLOW_DATABASE_URL": db_url, "SALESFLOW_LANG": "en"}, "kpi", "rebuild")
        assert done.returncode == 0, done.stderr
        assert "kpi_case: 5 decided cases" in done.stdout
    finally:
        raw.dispose()
    assert _times(engine) == before
