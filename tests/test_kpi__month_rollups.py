"""The month rollups (engine/kpi/month_rows.py, migration 0032) are their day tables summed per month, and the page
read from them (whole months) and the day rows (partial months) is the page read from the day rows alone and the
page counted from the source rows:

- on test_kpi__case_rows' data set, over windows that start and end mid-month, cover whole months, one day,
  everything, open at either end, with a process filter, as an auditor and as a sales manager;
- in Europe/Berlin after a rebuild, with the engine writing afterwards (the triggers keep the months exact), then
  day rows changed around the triggers of 0025/0026 (a count changed, a row moved to another month, deleted);
- a month row is what the page reads for a whole month and not for a partial one;
- migration 0032 counts them on upgrade, the downgrade removes them, and up, down, up again gives the same page.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from engine import Engine
from engine.kpi import case_days, month_rows, rollups, times
from engine.store.db import alembic_config
from engine.store.models import KpiCaseDay, KpiCaseMonth, KpiCompletedDay, KpiCompletedMonth, Task
from tests import test_kpi__case_rows as case_rows_test
from tests import test_kpi__figures as figures
from tests import test_kpi__quantiles as quantiles_test
from tests import test_kpi__rollups as rollups_test

WINDOWS = [{}, {"from": "2026-03-01", "to": "2026-04-30"}, {"from": "2026-03-01", "to": "2026-03-31"},
           {"from": "2026-03-05", "to": "2026-04-20"}, {"from": "2026-03-15", "to": "2026-05-10"},
           {"from": "2026-03-02", "to": "2026-03-02"}, {"from": "2026-04-02", "to": "2026-04-02"},
           {"from": "2026-03-10"}, {"to": "2026-04-15"}, {"from": "2026-04-01"}, {"to": "2026-03-31"},
           {"from": "2026-02-20", "to": "2026-04-03"}, {"process": "aftersale"},
           {"from": "2026-03-10", "to": "2026-04-30", "process": "complaint"},
           {"from": "2026-04-01", "to": "2026-04-30", "process": "aftersale"}]
# the fixture: kpi.yaml in Europe/Berlin, the rollups built for Asia/Shanghai again after the test (PostgreSQL keeps
# the days and the zone from one test to the next)
berlin = quantiles_test.berlin
# (table, its day table, key columns, counts)
PAIRS = ((KpiCompletedMonth, KpiCompletedDay, ("process_key", "role", "person"), ("n",)),
         (KpiCaseMonth, KpiCaseDay, ("measure", "process", "role", "person"), ("done", "within", "unresolved")))


def months_of_days(eng: Engine) -> dict[str, set[tuple]]:
    """Each month table as its day table summed per month in Python (the oracle), non-zero rows."""
    found = {}
    with eng.db.read() as s:
        for month, day, keys, counts in PAIRS:
            summed: dict[tuple, Counter] = {}
            for row in s.execute(select(day.day, *(getattr(day, k) for k in keys), *(getattr(day, c) for c in counts))):
                summed.setdefault((row[0][:7], *row[1:1 + len(keys)]), Counter()).update(
                    dict(zip(counts, row[1 + len(keys):], strict=True)))
            found[month.__tablename__] = {(*k, *(n[c] for c in counts)) for k, n in summed.items()
                                          if any(n[c] for c in counts)}
    return found


def months_kept(eng: Engine) -> dict[str, set[tuple]]:
    found = {}
    with eng.db.read() as s:
        for month, _day, keys, counts in PAIRS:
            columns = (*(getattr(month, k) for k in keys), *(getattr(month, c) for c in counts))
            rows = s.execute(select(month.month, *columns))
            found[month.__tablename__] = {(r[0], *r[1:]) for r in rows if any(r[1 + len(keys):])}
    return found


def three_pages(eng: Engine, user: str, filters: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, dict]:
    """(the page, the page from the day rows alone, the page counted from the source rows)."""
    page = eng.kpi(user, filters)
    with monkeypatch.context() as m:
        m.setattr(month_rows, "has_table", lambda *_: False)
        days = eng.kpi(user, filters)
    with monkeypatch.context() as m:
        m.setattr(rollups, "usable", lambda *_: False)
        m.setattr(case_days, "usable", lambda *_: False)
        m.setattr(times, "reaching", lambda *_: None)
        counted = eng.kpi(user, filters)
    return page, days, counted


def _same(eng: Engine, monkeypatch: pytest.MonkeyPatch, windows: list[dict]) -> None:
    assert months_kept(eng) == months_of_days(eng)
    for filters in windows:
        page, days, counted = three_pages(eng, "aud", filters, monkeypatch)
        assert page == days == counted, filters


# -- the split of a window -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "last", "whole", "days"), [
    (None, None, (None, None), []),
    (date(2026, 3, 1), date(2026, 4, 30), ("2026-03", "2026-04"), []),
    (date(2026, 3, 5), date(2026, 4, 20), None, [(date(2026, 3, 5), date(2026, 3, 31)),
                                                 (date(2026, 4, 1), date(2026, 4, 20))]),
    (date(2025, 12, 5), date(2026, 1, 20), None, [(date(2025, 12, 5), date(2025, 12, 31)),
                                                  (date(2026, 1, 1), date(2026, 1, 20))]),
    (date(2026, 3, 5), date(2026, 5, 20), ("2026-04", "2026-04"),
     [(date(2026, 3, 5), date(2026, 3, 31)), (date(2026, 5, 1), date(2026, 5, 20))]),
    (date(2026, 3, 2), date(2026, 3, 2), None, [(date(2026, 3, 2), date(2026, 3, 2))]),
    (date(2026, 12, 2), None, ("2027-01", None), [(date(2026, 12, 2), date(2026, 12, 31))]),
    (None, date(2026, 2, 27), (None, "2026-01"), [(date(2026, 2, 1), date(2026, 2, 27))]),
    (date(2026, 2, 1), date(2026, 2, 28), ("2026-02", "2026-02"), []),
])
def test_a_window_is_whole_months_and_the_days_of_its_partial_ones(first, last, whole, days):
    assert month_rows.split(first, last) == (whole, days)


# -- the repository's processes ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, case_rows_test.build)


def test_the_month_tables_are_their_day_tables_summed(data_set):
    eng, _ = data_set
    kept = months_kept(eng)
    assert kept == months_of_days(eng)
    assert {r[0] for r in kept["kpi_completed_month"]} >= {"2026-03", "2026-04"}


@pytest.mark.parametrize("user", ["aud", "mgr1"])
@pytest.mark.parametrize("filters", WINDOWS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_the_page_from_the_months_is_the_page_from_the_days_and_counted(data_set, user, filters, monkeypatch):
    eng, _ = data_set
    page, days, counted = three_pages(eng, user, filters, monkeypatch)
    assert page == days == counted


# -- writes after a rebuild, in a zone with daylight saving --------------------------------------------------------

BERLIN_WINDOWS = [*rollups_test.BERLIN_FILTERS, {"from": "2026-03-01", "to": "2026-03-31"},
                  {"from": "2026-03-01", "to": "2026-10-31"}, {"from": "2026-03-15", "to": "2026-10-25"}]


def test_writes_after_a_rebuild_keep_the_months_exact(approval, clock, berlin, monkeypatch):
    eng = approval
    eng.rebuild_kpi_rollups()
    ids = rollups_test._drive(eng, clock)  # the engine's commands: the triggers of 0025 then of 0032
    _same(eng, monkeypatch, BERLIN_WINDOWS)
    with eng.db.write() as s:  # source rows changed around the engine: the day counts change, so do the months
        s.execute(update(Task).where(Task.instance_id == ids[2], Task.bpmn_id == "approve").values(
            completed_by="dir", role="sales_director", completed_at=rollups_test._utc("2026-03-29T12:00")))
        s.execute(delete(Task).where(Task.instance_id == ids[3], Task.bpmn_id == "archive"))
    _same(eng, monkeypatch, BERLIN_WINDOWS)


def test_day_rows_changed_by_hand_move_their_months(approval, clock, berlin):
    eng = approval
    eng.rebuild_kpi_rollups()
    rollups_test._drive(eng, clock)
    with eng.db.write() as s:  # a count changed, a row moved to another month, one deleted, one inserted
        s.execute(update(KpiCompletedDay).where(KpiCompletedDay.day == "2026-03-28").values(n=KpiCompletedDay.n + 2))
        s.execute(update(KpiCompletedDay).where(KpiCompletedDay.day == "2026-10-25").values(day="2026-11-02"))
        s.execute(delete(KpiCompletedDay).where(KpiCompletedDay.day == "2026-10-26"))
        s.add(KpiCompletedDay(day="2026-05-01", process_key="approval", role="sales_manager", person="mgr", n=3))
    kept = months_kept(eng)
    assert kept == months_of_days(eng)
    assert ("2026-11", "approval", "sales_manager", "mgr", 1) in kept["kpi_completed_month"]
    assert ("2026-05", "approval", "sales_manager", "mgr", 3) in kept["kpi_completed_month"]


def test_the_page_reads_a_whole_month_from_its_month_row_only(approval, clock, berlin):
    """A window's whole months from their month rows, and a partial month too when its days outside the window hold
    no rows (before the first day or after the last one holding a count: the data's completions are on 28 March
    to 1 April and 24 to 26 October) or fewer days than inside it may hold rows (the month row less those days'
    rows); a month with more such days outside the window than inside from its days."""
    eng = approval
    eng.rebuild_kpi_rollups()
    rollups_test._drive(eng, clock)

    def completed(filters: dict) -> int:
        return eng.kpi("aud", filters)["volume"]["tasks"]["overall"]["completed"]

    windows = {"whole": ({"from": "2026-03-01", "to": "2026-03-31"}, "2026-03"),
               "partial": ({"from": "2026-03-30", "to": "2026-03-30"}, None),  # 1 day inside, 28, 29, 31 outside
               "nothing before": ({"from": "2026-03-20", "to": "2026-03-31"}, "2026-03"),
               "nothing after": ({"from": "2026-10-01", "to": "2026-10-28"}, "2026-10"),
               "less a day before": ({"from": "2026-03-29", "to": "2026-03-31"}, "2026-03"),  # less the 28th
               "less a day after": ({"from": "2026-10-01", "to": "2026-10-25"}, "2026-10")}  # less the 26th
    before = {name: completed(filters) for name, (filters, _) in windows.items()}
    assert before["partial"] < before["less a day before"] < before["whole"] == before["nothing before"]
    assert before["less a day after"] < before["nothing after"]
    with eng.db.write() as s:  # the month rows alone, around their trigger (which is on the day table)
        s.execute(update(KpiCompletedMonth).where(KpiCompletedMonth.month.in_(("2026-03", "2026-10"))).values(
            n=KpiCompletedMonth.n + 100))
    assert {name: completed(filters) for name, (filters, _) in windows.items()} == {
        name: before[name] + (100 * _rows_of(eng, month) if month else 0) for name, (_, month) in windows.items()}
    eng.rebuild_kpi_rollups()  # counts them again from the day rows
    assert {name: completed(filters) for name, (filters, _) in windows.items()} == before
    assert months_kept(eng) == months_of_days(eng)


def test_a_rebuild_counts_the_month_tables_once_and_leaves_their_triggers_on(approval, clock, berlin):
    """PostgreSQL: the rebuild counts the month tables once, after their day rows, without the triggers upserting a
    month row per day row (in one transaction none of those row versions can be pruned: the tables grew ~30 times at
    a million instances); the triggers are on again for the writes after it, and the months are exact."""
    eng = approval
    if eng.db.is_sqlite:
        pytest.skip("PostgreSQL's row versions: SQLite updates its rows in place")
    rollups_test._drive(eng, clock)
    # a connection of its own: PostgreSQL's transaction counts are those its backend has not reported yet (up to a
    # second of earlier transactions' on a pooled one)
    fresh = create_engine(eng.db.url, poolclass=NullPool)
    with Session(fresh) as s, s.begin():
        rollups.rebuild(s, "Europe/Berlin")
        inserted, changed = s.execute(text(  # this transaction's row operations on the table
            "SELECT n_tup_ins, n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = 'kpi_completed_month'")).one()
        rows = s.scalar(select(func.count()).select_from(KpiCompletedMonth))
    # (this data set's completions: approval holds no measured case, kpi_case_month is empty)
    assert rows > 0
    assert inserted == rows  # each month row written once, by the recount
    assert changed <= rows  # the rows the engine's steps had kept deleted once, none updated
    fresh.dispose()
    with eng.db.read() as s:
        enabled = dict(s.execute(text(  # the day tables' triggers, each enabled ('O') or not
            "SELECT tgname, tgenabled = 'O' FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN ('kpi_completed_day'::regclass, 'kpi_case_day'::regclass)")).all())
    assert enabled == {f"{t}_{e}": True for t in ("kpi_completed_month", "kpi_case_month")
                       for e in ("insert", "update", "delete")}
    rollups_test._drive(eng, clock)  # writes after it: the triggers keep the months
    assert months_kept(eng) == months_of_days(eng)


def _rows_of(eng: Engine, month: str) -> int:
    with eng.db.read() as s:
        return len(s.execute(select(KpiCompletedMonth.n).where(KpiCompletedMonth.month == month)).all())


# -- migration 0032 ------------------------------------------------------------------------------------------------

def _month_tables(raw) -> set[str]:
    query = ("SELECT table_name FROM information_schema.tables" if raw.dialect.name == "postgresql"
             else "SELECT name FROM sqlite_master WHERE type = 'table'")
    with raw.connect() as conn:
        return set(conn.scalars(text(query))) & {"kpi_completed_month", "kpi_case_month"}


def _month_triggers(raw) -> set[str]:
    with raw.connect() as conn:
        if raw.dialect.name == "postgresql":
            return set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE "
                                         "'kpi%month%' UNION SELECT proname FROM pg_proc WHERE proname LIKE "
                                         "'kpi%month%'")))
        return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE "
                                     "'kpi%month%'")))


def test_migration_0032_up_down_up_gives_the_same_page(approval, clock, berlin, db_url, monkeypatch):
    eng = approval
    eng.rebuild_kpi_rollups()
    rollups_test._drive(eng, clock)
    expected = {str(f): eng.kpi("aud", f) for f in BERLIN_WINDOWS}
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0031")
        raw.dispose()
        assert _month_tables(raw) == set() and _month_triggers(raw) == set()
        eng.db.dispose()
        assert {str(f): eng.kpi("aud", f) for f in BERLIN_WINDOWS} == expected  # from the day rows alone
        rollups_test._drive(eng, clock)  # written under 0031: no month counts them
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    eng.db.dispose()  # a connection opened before the tables came may not see them (SQLite)
    assert _month_tables(raw) == {"kpi_completed_month", "kpi_case_month"} and _month_triggers(raw)
    _same(eng, monkeypatch, BERLIN_WINDOWS)
    expected = {str(f): eng.kpi("aud", f) for f in BERLIN_WINDOWS}
    command.downgrade(cfg, "0031")
    command.upgrade(cfg, "head")
    raw.dispose()
    eng.db.dispose()
    assert {str(f): eng.kpi("aud", f) for f in BERLIN_WINDOWS} == expected
    _same(eng, monkeypatch, BERLIN_WINDOWS)
