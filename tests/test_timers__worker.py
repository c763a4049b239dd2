"""The timer worker: the 24 h SLA boundary timer of the `approval` process, on the manual clock."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import create_engine, text

from engine import Engine
from engine.clock import iso
from tests.conftest import T0

REQUEST = {"customer_name": "ACME", "amount_yuan": 500}


def start(eng: Engine) -> int:
    return eng.start("rep", "approval", dict(REQUEST))


def kinds(eng: Engine, iid: int) -> list[str]:
    return [e["kind"] for e in eng.history("aud", iid)]


def timer_rows(db_url: str, iid: int) -> list[tuple[str, str]]:
    raw = create_engine(db_url)
    try:
        with raw.connect() as conn:
            return [tuple(r) for r in conn.execute(
                text("SELECT bpmn_id, status FROM timer WHERE instance_id = :i ORDER BY id"), {"i": iid})]
    finally:
        raw.dispose()


def fire_together(db_url: str, clock, workers: int) -> list[int]:
    """`workers` timer workers (own Engine, own thread) each make one pass at the same moment."""
    engines = [Engine(db_url, clock=clock) for _ in range(workers)]
    for eng in engines:
        eng.processes()  # connected before the race
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = engines[i].fire_due_timers()
        except Exception as exc:  # reported to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not any(t.is_alive() for t in threads), "a timer worker hung"
    finally:
        for eng in engines:
            eng.db.dispose()
    assert all(isinstance(r, int) for r in results), results
    return results  # type: ignore[return-value]


def test_nothing_fires_before_the_sla(approval, clock, db_url):
    iid = start(approval)
    clock.advance(hours=23)
    assert approval.fire_due_timers() == 0
    assert approval.inbox("dir") == []
    assert not {"timers_due", "timer_fired", "escalated"} & set(kinds(approval, iid))
    assert timer_rows(db_url, iid) == [("sla", "waiting")]


def test_the_sla_fires_once_after_24_hours_and_escalates_to_the_director(approval, clock, db_url):
    iid = start(approval)
    approve_id = approval.inbox("mgr")[0]["id"]
    before = len(kinds(approval, iid))
    clock.advance(hours=25)

    assert approval.fire_due_timers() == 1

    [escalation] = approval.inbox("dir")
    assert escalation["name"] == "escalation" and escalation["instance_id"] == iid
    assert escalation["role"] == "sales_director"
    # non-interrupting: the manager's task is still open
    assert [t["id"] for t in approval.inbox("mgr")] == [approve_id]

    new = approval.history("aud", iid)[before:]
    assert [(e["kind"], e["task"]) for e in new] == [("timers_due", None), ("timer_fired", "sla"),
                                                     ("escalated", "sla"), ("task_ready", "escalation")]
    assert new[0]["payload"]["fired"] == ["sla"]
    assert new[2]["payload"] == {"attached_to": "approve", "interrupting": False}
    assert new[3]["payload"]["task_id"] == escalation["id"]
    assert all(e["actor"] == "system" for e in new)
    assert all(e["at"] == iso(T0 + timedelta(hours=25)) for e in new)  # recorded at the worker's now
    assert timer_rows(db_url, iid) == [("sla", "fired")]

    assert approval.fire_due_timers() == 0
    clock.advance(hours=48)
    assert approval.fire_due_timers() == 0
    assert kinds(approval, iid).count("timer_fired") == 1
    assert len(approval.inbox("dir")) == 1


def test_one_pass_fires_the_timers_of_every_due_instance(approval, clock):
    early = [start(approval) for _ in range(3)]
    clock.advance(hours=12)
    late = start(approval)
    clock.advance(hours=13)  # 25 h after the first three, 13 h after the last
    assert approval.fire_due_timers() == 3
    assert sorted(t["instance_id"] for t in approval.inbox("dir")) == early
    assert "timer_fired" not in kinds(approval, late)
    clock.advance(hours=12)
    assert approval.fire_due_timers() == 1
    assert "timer_fired" in kinds(approval, late)


def test_two_workers_at_the_same_moment_fire_the_timer_once(approval, clock, db_url):
    iid = start(approval)
    clock.advance(hours=25)

    fired = fire_together(db_url, clock, 2)

    assert sum(fired) == 1, fired
    assert kinds(approval, iid).count("timer_fired") == 1
    assert kinds(approval, iid).count("timers_due") == 1
    assert len(approval.inbox("dir")) == 1
    assert timer_rows(db_url, iid) == [("sla", "fired")]
    [chain] = list(approval.verify_chains(iid))
    assert chain.ok, chain.describe()
    assert approval.replay(iid).verified


def test_many_workers_and_many_instances_fire_each_timer_once(approval, clock, db_url):
    ids = [start(approval) for _ in range(5)]
    clock.advance(hours=25)

    fired = fire_together(db_url, clock, 4)

    # a worker skips an instance another holds, so one pass of all workers may leave some for the next pass
    total = sum(fired) + approval.fire_due_timers()
    assert total == 5, fired
    for iid in ids:
        assert kinds(approval, iid).count("timer_fired") == 1, iid
        assert timer_rows(db_url, iid) == [("sla", "fired")]
    assert sorted(t["instance_id"] for t in approval.inbox("dir")) == ids


def test_approving_in_time_cancels_the_timer(approval, clock, db_url):
    iid = start(approval)
    clock.advance(hours=2)
    approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": True})
    assert timer_rows(db_url, iid) == [("sla", "cancelled")]

    clock.advance(hours=46)  # 48 h after the start
    assert approval.fire_due_timers() == 0
    assert approval.inbox("dir") == []
    assert not {"timers_due", "timer_fired", "escalated"} & set(kinds(approval, iid))
    assert [t["name"] for t in approval.instance("rep", iid)["tasks"]] == ["archive"]


def test_rejecting_in_time_ends_the_instance_and_no_timer_fires(approval, clock, db_url):
    iid = start(approval)
    clock.advance(hours=23)
    approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": False, "comment": "价格太低"})
    assert approval.instance("rep", iid)["status"] == "completed"
    assert timer_rows(db_url, iid) == [("sla", "cancelled")]
    clock.advance(hours=25)
    assert approval.fire_due_timers() == 0
    assert approval.inbox("dir") == []


def test_an_escalated_instance_still_finishes(approval, clock):
    iid = start(approval)
    clock.advance(hours=25)
    assert approval.fire_due_timers() == 1
    approval.complete("dir", approval.inbox("dir")[0]["id"], {"comment": "跟进"})
    approval.complete("mgr", approval.inbox("mgr")[0]["id"], {"approved": True})
    assert approval.instance("rep", iid)["status"] == "running"
    approval.complete("rep", approval.inbox("rep")[0]["id"], {"archive_no": "A-1"})
    assert approval.instance("rep", iid)["status"] == "completed"
    assert kinds(approval, iid)[-1] == "ended"
    assert approval.replay(iid).verified


def test_a_late_approval_still_escalates_when_no_worker_came_round(approval, clock, db_url):
    """The SLA passed at 24 h; the manager approves at 25 h before any worker pass. The
    breach must not vanish: the timer fires first, in the same transaction, then the approval."""
    iid = start(approval)
    [task] = approval.inbox("mgr")
    clock.advance(hours=25)
    approval.complete("mgr", task["id"], {"approved": True})
    trail = [(e["kind"], e["task"], e["actor"]) for e in approval.history("aud", iid)]
    fire_at = trail.index(("timers_due", None, "system"))
    assert trail[fire_at + 1:fire_at + 4] == [("timer_fired", "sla", "system"), ("escalated", "sla", "system"),
                                               ("task_ready", "escalation", "system")]
    assert trail.index(("completed", "approve", "mgr")) > fire_at
    assert [t["name"] for t in approval.inbox("dir")] == ["escalation"]
    assert timer_rows(db_url, iid) == [("sla", "fired")]
    assert approval.fire_due_timers() == 0
    assert approval.replay(iid).verified
