"""tests/deployed_state.py's `prepared`: a restored state is the one build made, the manual clock included
(a build that drives instances through their timers leaves it later than T0), and anything it cannot
restore faithfully builds for real."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from engine import Engine
from engine.clock import ManualClock
from tests.conftest import PG_URL, T0, _empty, add_users, deploy_approval
from tests.deployed_state import _TRIGGERED, prepared
from tests.web import test_pages__kpi as kpi_pages

REQUEST = {"customer_name": "ACME", "amount_yuan": 20000}


@pytest.fixture
def fresh(_schema: str, tmp_path: Path) -> Callable[[], Engine]:
    """A new engine on a new database at T0, each call (the one before it disposed of)."""
    made: list[Engine] = []

    def make() -> Engine:
        for old in made:
            old.db.dispose()
        if PG_URL:
            _empty(PG_URL)
            url = PG_URL
        else:
            target = tmp_path / f"db{len(made)}.db"
            shutil.copy(_schema, target)
            url = f"sqlite:///{target}"
        eng = Engine(url, clock=ManualClock(T0))
        eng.init()
        made.append(eng)
        return eng

    yield make
    for old in made:
        old.db.dispose()


def _timed_out(eng: Engine) -> int:
    """One approval overdue: 25 hours on, its SLA timer fired and the follow-up task open."""
    deploy_approval(eng)
    iid = eng.start("rep", "approval", REQUEST)
    eng.clock.advance(hours=25)
    assert eng.fire_due_timers() == 1
    return iid


def _state(eng: Engine, iid: int) -> tuple:
    inst = eng.instance("aud", iid)
    return inst["status"], sorted(t["name"] for t in inst["tasks"]), [e["kind"] for e in eng.history("aud", iid)]


def test_a_restore_sets_the_clock_where_build_left_it(fresh, request):
    name = request.node.name
    built = fresh()
    iid = prepared(built, name, _timed_out)
    expected = _state(built, iid)
    assert built.clock.now() == T0 + timedelta(hours=25)

    restored = fresh()
    calls = []
    assert prepared(restored, name, lambda eng: calls.append(eng)) == iid
    assert calls == []  # restored, not built
    assert restored.clock.now() == T0 + timedelta(hours=25)
    assert _state(restored, iid) == expected
    assert restored.fire_due_timers() == 0  # the timer fired in build: nothing is due again
    assert restored.replay(iid).verified


def test_a_build_that_keeps_the_clock_at_t0_leaves_it_there(fresh, request):
    name = request.node.name
    prepared(fresh(), name, deploy_approval)
    restored = fresh()
    prepared(restored, name, deploy_approval)
    assert restored.clock.now() == T0
    assert restored.user("mgr")["roles"] == ["sales_manager"]
    assert restored.start("rep", "approval", REQUEST) == 1


def test_a_moved_clock_or_a_database_with_rows_builds_for_real(fresh, request):
    name = request.node.name
    prepared(fresh(), name, _timed_out)

    moved = fresh()
    moved.clock.advance(minutes=1)
    calls = []
    prepared(moved, name, lambda eng: calls.append("built"))
    assert calls == ["built"]
    assert moved.clock.now() == T0 + timedelta(minutes=1)  # left where the test put it

    with_rows = fresh()
    add_users(with_rows, {"someone": ["sales_rep"]})
    prepared(with_rows, name, lambda eng: calls.append("built again"))
    assert calls == ["built", "built again"]


def _rollups(eng: Engine) -> dict[str, set[tuple]]:
    """The rows with a count of every table the database's triggers write (they are not copied back: the restored
    source rows' triggers write them again; a count that fell to zero may keep its row or not)."""
    counted = {"n": "n <> 0", "done": "done <> 0 OR within <> 0 OR unresolved <> 0"}
    found = {}
    with eng.db.read() as s:
        for table in sorted(_TRIGGERED):
            columns = {c["name"] for c in inspect(s.connection()).get_columns(table)}
            where = next((f" WHERE {rule}" for column, rule in counted.items() if column in columns), "")
            found[table] = {tuple(r) for r in s.execute(text(f"SELECT * FROM {table}{where}"))}
    return found


def test_a_restore_counts_each_kpi_rollup_once(fresh, request):
    """Measured after-sales cases answered (kpi_case rows, their day, month and hour counts): restored, the rollups
    are the built ones, not those counted twice (once copied, once by the triggers of the copied rows)."""
    name = f"kpi cases {request.node.name}"
    eng = fresh()
    prepared(eng, name, kpi_pages._answer)
    built = _rollups(eng)
    assert all(built[table] for table in ("kpi_case_day", "kpi_case_month", "kpi_hours_month", "kpi_hours_total"))
    eng = fresh()
    prepared(eng, name, kpi_pages._answer)
    assert _rollups(eng) == built
