"""Issue 11, finding 3 (continued): a halted instance could be neither repaired nor cancelled. Now an
administrator sees every incident, retries the failed step (typically after migrating the instance
to a fixed version) or cancels the instance with a reason without running the broken step; each is
an event of the instance's trail, and `audit verify` with replay still verifies it."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.runtime import timers
from tests.security._incidents import deploy, events, fix_poison, kinds, run_out_of_attempts, start, verified


@pytest.fixture
def eng(engine):
    return deploy(engine)


@pytest.fixture
def halted(eng, clock) -> int:
    """A poisoned instance after the worker's last attempt."""
    iid = start(eng, "raise", "坏客户")
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    assert eng.instance("aud", iid)["status"] == "incident"
    return iid


def the_incident(eng, iid: int) -> dict:
    [incident] = [i for i in eng.incidents("adm", status="all") if i["instance_id"] == iid]
    return incident


def test_only_administrators_see_and_resolve_incidents(eng, halted):
    incident = the_incident(eng, halted)
    for who in ("rep", "mgr", "aud", "own"):
        with pytest.raises(Forbidden):
            eng.incidents(who)
        with pytest.raises(Forbidden):
            eng.retry_incident(who, incident["id"])
        with pytest.raises(Forbidden):
            eng.cancel_incident(who, incident["id"], "不要了")
    assert eng.instance("aud", halted)["status"] == "incident"
    with pytest.raises(NotFound):
        eng.retry_incident("adm", incident["id"] + 1000)
    with pytest.raises(InvalidData):
        eng.incidents("adm", status="broken")


def test_a_retry_that_fails_again_keeps_the_incident_with_the_new_error(eng, halted, clock):
    incident = the_incident(eng, halted)
    clock.advance(minutes=5)

    after = eng.retry_incident("adm", incident["id"])

    assert after["status"] == "open" and after["attempts"] == timers.MAX_ATTEMPTS + 1
    assert "division by zero" in after["message"]
    assert eng.instance("aud", halted)["status"] == "incident"
    failed = events(eng, halted, "incident")[-1]
    assert failed["actor"] == "adm" and failed["payload"]["retry"] is True
    assert "retried" not in kinds(eng, halted)
    verified(eng, halted)


def test_a_retry_after_migrating_to_a_fixed_version_resumes_the_case(eng, halted, clock):
    incident = the_incident(eng, halted)
    version = fix_poison(eng)
    moved = eng.migrate("own", "poison", version)
    assert moved["migrated"] == [halted], moved
    assert eng.instance("aud", halted)["status"] == "incident"  # moved, still halted until retried
    clock.advance(minutes=3)

    after = eng.retry_incident("adm", incident["id"])

    assert after["status"] == "resolved" and after["resolution"] == "retried" and after["resolved_by"] == "adm"
    assert after["resolved_at"] == clock.now().isoformat()
    inst = eng.instance("aud", halted)
    assert inst["status"] == "running" and inst["version"] == version and inst["data"]["checked"] == "ok"
    [retried] = events(eng, halted, "retried")
    assert retried["actor"] == "adm" and retried["payload"]["incident_id"] == incident["id"]
    assert retried["payload"]["step"] == "timers_due"
    assert eng.incidents("adm") == []

    [task] = eng.inbox("mgr")
    eng.complete("mgr", task["id"], {"done": True})
    assert eng.instance("aud", halted)["status"] == "completed"
    verified(eng, halted)  # incident -> migration -> retry -> completion


def test_a_case_halted_by_a_value_json_cannot_hold_resumes_after_the_fix(eng, clock):
    iid = start(eng, "clock")
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    incident = the_incident(eng, iid)
    version = fix_poison(eng)
    eng.migrate("own", "poison", version)
    after = eng.retry_incident("adm", incident["id"])
    assert after["status"] == "resolved"
    assert eng.instance("aud", iid)["status"] == "running"
    verified(eng, iid)


def test_a_resolved_incident_cannot_be_retried_or_cancelled_again(eng, halted):
    incident = the_incident(eng, halted)
    eng.cancel_incident("adm", incident["id"], "客户已撤单")
    with pytest.raises(Conflict):
        eng.retry_incident("adm", incident["id"])
    with pytest.raises(Conflict):
        eng.cancel_incident("adm", incident["id"], "again")


def test_cancelling_a_halted_case_needs_a_reason_and_does_not_run_the_broken_step(eng, halted):
    incident = the_incident(eng, halted)
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidData) as refused:
            eng.cancel_incident("adm", incident["id"], reason)
        assert set(refused.value.fields) == {"reason"}
    assert eng.instance("aud", halted)["status"] == "incident"

    after = eng.cancel_incident("adm", incident["id"], "客户已撤单")

    assert after["status"] == "resolved" and after["resolution"] == "cancelled" and after["reason"] == "客户已撤单"
    inst = eng.instance("aud", halted)
    assert inst["status"] == "cancelled" and inst["ended_at"] and inst["tasks"] == []
    assert "timer_fired" not in kinds(eng, halted)
    [cancelled] = events(eng, halted, "cancelled")
    assert cancelled["actor"] == "adm" and cancelled["payload"]["reason"] == "客户已撤单"
    assert cancelled["payload"]["incidents"] == [incident["id"]]
    assert eng.inbox("mgr") == []
    verified(eng, halted)  # incident -> cancel


def test_the_requester_may_cancel_a_halted_case_too(eng, halted):
    with pytest.raises(NotFound):  # another rep takes no part in it: to him it does not exist
        eng.cancel("rep2", halted)
    eng.cancel("rep", halted, "不再需要")
    assert eng.instance("aud", halted)["status"] == "cancelled"
    assert the_incident(eng, halted)["resolution"] == "cancelled"
    verified(eng, halted)


def test_the_list_shows_open_incidents_newest_first_and_resolved_ones_on_request(eng, clock):
    first, second = start(eng, "raise", "甲"), start(eng, "clock", "乙")
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    listed = eng.incidents("adm")
    assert [i["instance_id"] for i in listed] == [second, first]
    eng.cancel_incident("adm", listed[1]["id"], "测试")
    assert [i["instance_id"] for i in eng.incidents("adm")] == [second]
    assert [i["instance_id"] for i in eng.incidents("adm", status="resolved")] == [first]
    assert len(eng.incidents("adm", status="all")) == 2
    assert eng.incidents("adm", process="waiter") == []


def test_migration_lists_halted_cases_and_leaves_one_the_new_version_does_not_fix(eng, halted):
    from tests.security._incidents import fixed_version

    still_broken = fixed_version(eng, "poison", "checked = 1 / 0", "checked = 2 / 0")
    [row] = eng.migration_plan("own", "poison", still_broken)
    assert row["instance_id"] == halted and row["status"] == "incident" and row["movable"]
    result = eng.migrate("own", "poison", still_broken)
    assert result["migrated"] == [] and "division by zero" in result["skipped"][0]["reasons"][0]
    inst = eng.instance("aud", halted)
    assert inst["status"] == "incident" and inst["version"] == 1
    verified(eng, halted)
