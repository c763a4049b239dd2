"""Migration 0039: on SQLite the KPI page's sums of the month rows for the whole time (the decided cases per process,
role and person; the completed tasks per role and person; the satisfaction scores per month, role and person) stream
from indexes in their groupings' order: no temporary B-tree sorts their rows. The page is the same with and without
them (down to 0038 and up again), and PostgreSQL, which hashes these few thousand rows, gets none of them."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from engine.kpi import case_days, definitions, rollups, score_days
from engine.kpi.filters import Window
from engine.store.db import alembic_config
from engine.store.kpi_tables import GROUPED_ON_SQLITE
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures
from tests.test_kpi__month_rollups import WINDOWS
from tests.test_kpi__months import measures_statements

EVERYTHING = Window(start=None, end=None, process=None)
NAMES = {index.name for index in GROUPED_ON_SQLITE}


@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, case_rows_test.build)


def _grouped_reads(eng) -> list[tuple[str, object]]:
    """The page's three grouped reads of the month rows, for the whole time."""
    defs = definitions.load()
    seen: list[tuple[str, object]] = []
    with eng.db.read() as s, measures_statements(s, seen, parameters=True):
        for measure in defs.measures:
            case_days.decided_rows(s, measure.key, [spec.process for spec in measure.intervals], EVERYTHING)
        rollups.completed(s, EVERYTHING)
        for source in defs.satisfaction:
            score_days.counts(s, source.process, EVERYTHING)
    return [(statement, parameters) for statement, parameters in seen if "GROUP BY" in statement]


def _indexes(db_url: str) -> set[str]:
    raw = create_engine(db_url)
    try:
        found = inspect(raw)
        return {ix["name"] for table in ("kpi_case_month", "kpi_completed_month", "kpi_score_month")
                for ix in found.get_indexes(table)}
    finally:
        raw.dispose()


def _pages(eng) -> dict[tuple[str, str], dict]:
    return {(str(f), user): eng.kpi(user, f) for f in WINDOWS for user in ("aud", "mgr1")}


def test_the_whole_time_sums_stream_from_indexes_on_sqlite_only(data_set):
    eng, _ = data_set
    db_url = str(eng.db.url)
    if not eng.db.is_sqlite:
        assert _indexes(db_url) & NAMES == set()
        return
    assert _indexes(db_url) >= NAMES
    reads = _grouped_reads(eng)
    assert len(reads) == len(definitions.load().measures) + 1 + len(definitions.load().satisfaction)
    used = set()
    with eng.db.read() as s:
        for statement, parameters in reads:
            plan = [row[3] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            assert not [line for line in plan if "TEMP B-TREE" in line], plan
            used |= {name for name in NAMES for line in plan if name in line}
    assert used == NAMES  # each index is some grouping's


def test_migration_0039_down_and_up_gives_the_same_page(data_set):
    eng, _ = data_set
    db_url = str(eng.db.url)
    expected = _pages(eng)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0038")
        eng.db.dispose()
        assert _indexes(db_url) & NAMES == set()
        assert _pages(eng) == expected
    finally:
        command.upgrade(cfg, "head")
        eng.db.dispose()
    assert (_indexes(db_url) >= NAMES) == eng.db.is_sqlite
    assert _pages(eng) == expected
