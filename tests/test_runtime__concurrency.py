"""Racing commands with real threads, each with its own Engine on the same database (like web workers)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from engine import Engine
from engine.errors import Conflict
from tests.conftest import add_users

REQUEST = {"customer_name": "ACME", "amount_yuan": 500}


def race(db_url: str, clock, actions: list[Callable[[Engine], object]]) -> list[tuple[str, object]]:
    """Run each action in its own thread with its own Engine; all start at one barrier.
    Returns ("ok", result) or ("error", exception) per action, in order."""
    engines = [Engine(db_url, clock=clock) for _ in actions]
    for eng in engines:  # connect and load the specs before the race, so the race is the command itself
        eng.processes()
    barrier = threading.Barrier(len(actions))
    results: list[tuple[str, object] | None] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", actions[i](engines[i]))
        except Exception as exc:  # reported to the test
            results[i] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not any(t.is_alive() for t in threads), "a racing command hung"
    finally:
        for eng in engines:
            eng.db.dispose()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def open_task(eng: Engine, iid: int, name: str) -> dict:
    [task] = [t for t in eng.instance("adm", iid)["tasks"] if t["name"] == name]
    return task


def events_for(eng: Engine, iid: int, task_id: str, kind: str) -> list[dict]:
    return [e for e in eng.history("aud", iid) if e["kind"] == kind and e["payload"].get("task_id") == task_id]


def assert_consistent(eng: Engine, iid: int) -> None:
    """The trail is one gap-free verified chain and replays to the saved state."""
    history = eng.history("aud", iid)
    assert [e["position"] for e in history] == list(range(1, len(history) + 1))
    [result] = list(eng.verify_chains(iid))
    assert result.ok, result.describe()
    replayed = eng.replay(iid)
    assert replayed.verified, replayed.first_mismatch


def assert_one_winner(results: list[tuple[str, object]], iid: int) -> None:
    winners = [r for r in results if r[0] == "ok"]
    losers = [r[1] for r in results if r[0] == "error"]
    assert len(winners) == 1, results
    assert winners[0][1] == iid
    assert all(isinstance(exc, Conflict) for exc in losers), losers


@pytest.mark.parametrize("round_", range(3))
def test_two_managers_complete_the_same_task_exactly_one_wins(approval, db_url, clock, round_):
    iid = approval.start("rep", "approval", dict(REQUEST))
    task_id = open_task(approval, iid, "approve")["id"]
    rev = approval.instance("adm", iid)["rev"]

    results = race(db_url, clock, [lambda e: e.complete("mgr", task_id, {"approved": True}),
                                   lambda e: e.complete("mgr2", task_id, {"approved": True})])

    assert_one_winner(results, iid)
    winner = ["mgr", "mgr2"][[r[0] for r in results].index("ok")]
    assert len(events_for(approval, iid, task_id, "completed")) == 1
    assert len(events_for(approval, iid, task_id, "claimed")) == 1
    view = approval.instance("adm", iid)
    assert view["rev"] == rev + 1
    [row] = [t for t in view["history_tasks"] if t["id"] == task_id]
    assert (row["status"], row["completed_by"], row["assignee"]) == ("completed", winner, winner)
    assert [t["name"] for t in view["tasks"]] == ["archive"]  # the gateway ran once
    assert [e["kind"] for e in approval.history("aud", iid)].count("gateway_taken") == 1
    assert_consistent(approval, iid)


def test_eight_threads_complete_the_same_task_exactly_one_wins(approval, db_url, clock):
    managers = [f"m{i}" for i in range(8)]
    add_users(approval, {m: ["sales_manager"] for m in managers})
    iid = approval.start("rep", "approval", dict(REQUEST))
    task_id = open_task(approval, iid, "approve")["id"]
    rev = approval.instance("adm", iid)["rev"]

    results = race(db_url, clock,
                   [lambda e, m=m: e.complete(m, task_id, {"approved": True}) for m in managers])

    assert_one_winner(results, iid)
    assert len(events_for(approval, iid, task_id, "completed")) == 1
    view = approval.instance("adm", iid)
    assert view["rev"] == rev + 1
    assert [t["name"] for t in view["tasks"]] == ["archive"]
    assert_consistent(approval, iid)


def test_eight_threads_completing_as_the_same_user_exactly_one_wins(approval, db_url, clock):
    iid = approval.start("rep", "approval", dict(REQUEST))
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)

    results = race(db_url, clock, [lambda e: e.complete("mgr", task_id, {"approved": True})] * 8)

    assert_one_winner(results, iid)
    assert len(events_for(approval, iid, task_id, "completed")) == 1
    assert_consistent(approval, iid)


def test_claim_race_has_one_holder(approval, db_url, clock):
    iid = approval.start("rep", "approval", dict(REQUEST))
    task_id = open_task(approval, iid, "approve")["id"]

    results = race(db_url, clock, [lambda e: e.claim("mgr", task_id), lambda e: e.claim("mgr2", task_id)])

    assert [r[0] for r in results].count("ok") == 1, results
    assert all(isinstance(r[1], Conflict) for r in results if r[0] == "error")
    holder = ["mgr", "mgr2"][[r[0] for r in results].index("ok")]
    assert open_task(approval, iid, "approve")["assignee"] == holder
    assert len(events_for(approval, iid, task_id, "claimed")) == 1
    assert_consistent(approval, iid)


@pytest.mark.parametrize("round_", range(3))
def test_two_different_tasks_of_one_instance_completed_at_once_both_count(approval, db_url, clock, round_):
    iid = approval.start("rep", "approval", dict(REQUEST))
    clock.advance(hours=25)
    assert approval.fire_due_timers() == 1
    approve = open_task(approval, iid, "approve")["id"]
    escalation = open_task(approval, iid, "escalation")["id"]
    rev = approval.instance("adm", iid)["rev"]

    results = race(db_url, clock, [lambda e: e.complete("mgr", approve, {"approved": True}),
                                   lambda e: e.complete("dir", escalation, {"comment": "请尽快处理"})])

    assert results == [("ok", iid), ("ok", iid)]
    assert len(events_for(approval, iid, approve, "completed")) == 1
    assert len(events_for(approval, iid, escalation, "completed")) == 1
    view = approval.instance("adm", iid)
    assert view["rev"] == rev + 2
    done = {t["id"]: t for t in view["history_tasks"]}
    assert done[approve]["status"] == "completed" and done[approve]["completed_by"] == "mgr"
    assert done[escalation]["status"] == "completed" and done[escalation]["completed_by"] == "dir"
    assert view["data"]["approved"] is True
    assert view["data"]["comment"] == "请尽快处理"
    assert [t["name"] for t in view["tasks"]] == ["archive"]
    assert view["status"] == "running"
    assert_consistent(approval, iid)

    # the saved state really holds both completions: the instance can still finish
    approval.complete("rep", open_task(approval, iid, "archive")["id"], {"archive_no": "A-9"})
    assert approval.instance("adm", iid)["status"] == "completed"
    assert_consistent(approval, iid)


def test_commands_on_different_instances_do_not_block_each_other(approval, db_url, clock):
    ids = [approval.start("rep", "approval", dict(REQUEST)) for _ in range(4)]
    tasks = [open_task(approval, iid, "approve")["id"] for iid in ids]

    results = race(db_url, clock, [lambda e, t=t: e.complete("mgr", t, {"approved": True}) for t in tasks])

    assert results == [("ok", iid) for iid in ids]
    for iid in ids:
        assert [t["name"] for t in approval.instance("adm", iid)["tasks"]] == ["archive"]
        assert_consistent(approval, iid)


@pytest.mark.parametrize("round_", range(3))
def test_timer_worker_and_a_completion_racing_leave_a_consistent_instance(approval, db_url, clock, round_):
    """At 25 h the worker fires the SLA while the manager approves: whichever goes first, both succeed,
    the approval is recorded once, the timer fires at most once and the trail replays."""
    iid = approval.start("rep", "approval", dict(REQUEST))
    approve = open_task(approval, iid, "approve")["id"]
    clock.advance(hours=25)

    results = race(db_url, clock, [lambda e: e.complete("mgr", approve, {"approved": True}),
                                   lambda e: e.fire_due_timers()])

    assert results[0] == ("ok", iid), results
    assert results[1][0] == "ok" and results[1][1] in (0, 1), results
    kinds = [e["kind"] for e in approval.history("aud", iid)]
    assert kinds.count("timer_fired") <= 1
    assert len(events_for(approval, iid, approve, "completed")) == 1
    escalated = kinds.count("timer_fired") == 1
    assert [t["name"] for t in approval.inbox("dir")] == (["escalation"] if escalated else [])
    assert approval.fire_due_timers() == 0
    assert_consistent(approval, iid)


def test_concurrent_starts_get_their_own_instances_and_chains(approval, db_url, clock):
    add_users(approval, {f"r{i}": ["sales_rep"] for i in range(6)})
    results = race(db_url, clock, [lambda e, i=i: e.start(f"r{i}", "approval", dict(REQUEST, amount_yuan=i))
                                   for i in range(6)])
    assert all(r[0] == "ok" for r in results), results
    ids = [r[1] for r in results]
    assert len(set(ids)) == 6
    for i, iid in enumerate(ids):
        view = approval.instance("adm", iid)
        assert view["started_by"] == f"r{i}" and view["data"]["amount_yuan"] == i
        assert_consistent(approval, iid)
    assert len(approval.inbox("mgr")) == 6
