"""Issue 11, finding 3: one failing timer stopped every later timer in the system. A script after a
timer that raises, or that leaves a value JSON cannot hold (`checked = now()`), made each worker pass
abort on that instance: no attempt was counted and instances with higher ids never fired. Now each
instance is fired on its own: its failure is counted against it, with a back-off, and after the last
attempt it is halted by an incident while every other timer fires exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from engine.errors import Halted, ProcessError
from engine.runtime import timers
from tests.security._incidents import deploy, events, kinds, run_out_of_attempts, start


@pytest.fixture
def eng(engine):
    return deploy(engine)


def timer_row(db_url: str, iid: int) -> dict:
    raw = create_engine(db_url)
    try:
        with raw.connect() as conn:
            row = conn.execute(text("SELECT status, attempts, last_error, next_attempt_at FROM timer "
                                    "WHERE instance_id = :i"), {"i": iid}).one()
            return dict(row._mapping)
    finally:
        raw.dispose()


@pytest.mark.parametrize("mode", ["raise", "clock"])
def test_a_poisoned_timer_does_not_stop_the_timers_of_later_instances(eng, clock, db_url, mode):
    poisoned = start(eng, mode, "坏")
    healthy = [start(eng, "ok", f"客户{i}") for i in range(3)]
    assert poisoned < min(healthy)  # the worker goes by id: the broken one comes first
    clock.advance(hours=2)

    assert eng.fire_due_timers() == 3

    for iid in healthy:
        assert kinds(eng, iid).count("timer_fired") == 1
        assert eng.instance("aud", iid)["data"]["checked"] == "ok"
    assert "timer_fired" not in kinds(eng, poisoned)
    assert eng.instance("aud", poisoned)["status"] == "running"
    row = timer_row(db_url, poisoned)
    assert row["status"] == "waiting" and row["attempts"] == 1 and row["last_error"]

    assert run_out_of_attempts(eng, clock) == 0  # the healthy ones never fire again
    for iid in healthy:
        assert kinds(eng, iid).count("timer_fired") == 1


def test_failed_attempts_are_counted_with_a_doubling_back_off(eng, clock, db_url):
    iid = start(eng, "raise")
    clock.advance(hours=2)
    eng.fire_due_timers()
    assert timer_row(db_url, iid)["attempts"] == 1

    for attempt in range(1, timers.MAX_ATTEMPTS):
        wait = timers.backoff(attempt)
        assert wait == min(timedelta(minutes=2 ** (attempt - 1)), timers.MAX_DELAY)
        clock.advance(seconds=wait.total_seconds() - 1)
        eng.fire_due_timers()
        assert timer_row(db_url, iid)["attempts"] == attempt, "retried before its back-off was over"
        clock.advance(seconds=1)
        eng.fire_due_timers()
        assert timer_row(db_url, iid)["attempts"] == attempt + 1, "not retried once its back-off was over"
    assert events(eng, iid, "incident")  # the last attempt halted it


def test_after_the_last_attempt_the_instance_is_halted_by_an_incident(eng, clock):
    iid = start(eng, "raise")
    clock.advance(hours=2)
    raised_at = clock.now() + sum((timers.backoff(a) for a in range(1, timers.MAX_ATTEMPTS)), timedelta())

    run_out_of_attempts(eng, clock)

    assert eng.instance("aud", iid)["status"] == "incident"
    [incident] = eng.incidents("adm")
    assert incident["instance_id"] == iid and incident["process_key"] == "poison"
    assert incident["kind"] == "timer" and incident["status"] == "open"
    assert incident["element"] == "check" and incident["element_name"] == {"zh": "核对", "en": "核对"}
    assert "division by zero" in incident["message"]
    assert incident["attempts"] == timers.MAX_ATTEMPTS
    assert incident["raised_at"] == raised_at.isoformat()
    [event] = events(eng, iid, "incident")
    assert event["task"] == "check" and event["actor"] == "system"
    assert event["payload"]["incident_id"] == incident["id"] and event["payload"]["attempts"] == timers.MAX_ATTEMPTS

    clock.advance(days=30)  # the worker leaves it to people now
    assert eng.fire_due_timers() == 0
    assert len(events(eng, iid, "incident")) == 1


def test_a_state_json_cannot_hold_is_halted_too(eng, clock):
    iid = start(eng, "clock")
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    [incident] = eng.incidents("adm")
    assert incident["instance_id"] == iid and eng.instance("aud", iid)["status"] == "incident"
    # the sandbox names the script and the variable: the step is refused before anything is saved
    assert incident["element"] == "check"
    assert "variable 'checked' holds a date and time, which cannot be stored" in incident["message"]


def test_a_halted_case_keeps_its_tasks_visible_but_refuses_to_advance(eng, clock):
    iid = start(eng, "raise")
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    assert eng.instance("rep", iid)["status"] == "incident"
    [task] = eng.inbox("mgr")
    assert task["instance_id"] == iid and task["name"] == "review"
    assert eng.task("mgr", task["id"])["may"]["complete"] is False

    with pytest.raises(Halted, match="halted by an incident; an administrator must retry or cancel it"):
        eng.complete("mgr", task["id"], {"done": True})
    with pytest.raises(Halted):
        eng.deliver_message("adm", iid, "anything")
    assert eng.instance("aud", iid)["status"] == "incident"
    assert [t["id"] for t in eng.inbox("mgr")] == [task["id"]]


def test_the_requester_can_cancel_a_case_whose_timer_keeps_failing(eng, clock):
    iid = start(eng, "raise")
    clock.advance(hours=2)
    eng.fire_due_timers()  # failing, not yet halted: the cancel must not run the broken step first
    eng.cancel("rep", iid, "客户撤单")
    assert eng.instance("aud", iid)["status"] == "cancelled"
    assert kinds(eng, iid)[-1] in ("cancelled", "ended")
    assert "timer_fired" not in kinds(eng, iid)
    run_out_of_attempts(eng, clock)
    assert eng.incidents("adm") == []


@pytest.mark.parametrize("mode", ["raise", "clock"])
def test_a_person_working_a_case_whose_overdue_timer_fails_gets_a_clear_422(eng, clock, mode):
    """The timer fires first, as always; when it fails the person's command is refused and nothing is
    saved (a value JSON cannot hold was a 500 before)."""
    iid = start(eng, mode)
    clock.advance(hours=2)
    [task] = eng.inbox("mgr")
    with pytest.raises(ProcessError, match=f"instance {iid}|failed"):
        eng.complete("mgr", task["id"], {"done": True})
    assert [t["id"] for t in eng.inbox("mgr")] == [task["id"]]
    assert eng.instance("aud", iid)["status"] == "running" and "timer_fired" not in kinds(eng, iid)
