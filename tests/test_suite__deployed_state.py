"""tests/deployed_state.py's `prepared`: a restored state is the one build made, the manual clock included
(a build that drives instances through their timers leaves it later than T0), and anything it cannot
restore faithfully builds for real."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from engine import Engine
from engine.clock import ManualClock
from tests.conftest import PG_URL, T0, _empty, add_users, deploy_approval
from tests.deployed_state import prepared

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
