"""Migration 0029: a process's instances of a date range come from ix_instance_process_started (process_key,
started_at), which replaces ix_instance_process_key; the downgrade brings the old index back on both databases,
and the instances the KPI page's figures of one process read are the same before and after. On SQLite, with the
statistics of a loaded database (benchmark 9's data set at 100,000 instances), the read is one seek of the new
index, not the window's whole range of ix_instance_started_at (every instance of 30 days, to keep the few of
one process: 20-27 ms per figure at 100,000 instances)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from engine.kpi import records
from engine.kpi.filters import Window
from engine.store.db import alembic_config
from tests.conftest import PG_URL

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}
# sqlite_stat1 of the instance table after benchmark 9's load at 100,000 instances (ANALYZE), the new index's as
# ANALYZE gives it: four processes of 25,000 instances each, a registration instant per instance
LOADED_STATS = {"ix_instance_started_at": "100000 1", "ix_instance_process_started": "100000 25000 1",
                "ix_instance_status": "100000 100000", "ix_instance_started_by": "100000 20000",
                "ix_instance_process_version_id": "100000 100000", "ix_instance_outcome": "100000 100000",
                "ix_instance_business_key": "100000 1", "ix_instance_customer_name": "100000 4 1 1"}


def _indexes(raw) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes("instance")
            if ix["name"] in ("ix_instance_process_key", "ix_instance_process_started")}


def _found(approval, window: Window) -> list[int]:
    with approval.db.read() as s:
        return [i.id for i in records.instances(s, "approval", window)]


def test_0029_reads_a_process_by_date_from_one_index_and_its_downgrade_brings_the_old_one_back(approval, db_url):
    first = approval.start("rep", "approval", dict(REQUEST))
    approval.clock.advance(days=2)
    second = approval.start("rep2", "approval", dict(REQUEST))
    start = approval.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    window = Window(start=start, end=None, process=None, day_from=None, day_to=None)
    assert _found(approval, window) == [second]  # the registration two days later only
    everything = Window(start=None, end=None, process=None, day_from=None, day_to=None)
    assert sorted(_found(approval, everything)) == [first, second]
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        assert _indexes(raw) == {"ix_instance_process_started": ["process_key", "started_at"]}
        command.downgrade(cfg, "0028")
        assert _indexes(raw) == {"ix_instance_process_key": ["process_key"]}
        assert _found(approval, window) == [second]
        command.upgrade(cfg, "0029")
        assert _indexes(raw) == {"ix_instance_process_started": ["process_key", "started_at"]}
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _found(approval, window) == [second]
    assert sorted(_found(approval, everything)) == [first, second]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's planner: PostgreSQL's statistics know a process's share")
def test_sqlite_reads_a_processs_instances_of_a_range_in_one_seek_with_a_loaded_databases_statistics(approval,
                                                                                                     db_url):
    start = approval.clock.now()
    window = Window(start=start, end=start.replace(year=start.year + 1), process=None, day_from=None, day_to=None)
    dialect = create_engine(db_url).dialect
    ranged, every = (records.instances_query("accident", w).compile(dialect=dialect) for w in (window, None))
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # creates sqlite_stat1; then the loaded database's figures instead
            conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'instance'")
            for name, stat in LOADED_STATS.items():
                conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('instance', ?, ?)", (name, stat))
            conn.exec_driver_sql("ANALYZE sqlite_schema")  # the planner reads the statistics again
            plans = [_plan(conn, compiled) for compiled in (ranged, every)]
    finally:
        raw.dispose()
    assert plans == [["SEARCH instance USING INDEX ix_instance_process_started (process_key=? AND started_at>? "
                      "AND started_at<?)"],
                     ["SEARCH instance USING INDEX ix_instance_process_started (process_key=?)"]], plans


def _plan(conn, compiled) -> list[str]:
    params = compiled.construct_params()
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                tuple(params[name] for name in compiled.positiontup))
    return [row[3] for row in rows]
