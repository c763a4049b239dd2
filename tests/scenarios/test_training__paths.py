"""P10 training (培训): every path to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. A training officer draws up the plan for a
session on Tuesday 10 March; the general manager approves it or rejects it with the reason; approved,
the training officer records each person's attendance, score and pass. The results are due three days
after the session, 18:00 (Friday 13 March); past that the general manager is reminded and the recording
stays open. The gate that reads these results is tested in tests/test_training__gate.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import PASSWORD, T0
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    branches,
    do,
    end_events,
    events,
    holders,
    inbox_of,
    inbox_task,
    local_time,
    offered_to,
    parse,
    ready_and_done,
    submissions,
    trail,
)

KEY = "training"
PLAN = {"training_kind": "safety", "topic": "门店消防与用电安全", "trainer": "安全管理部 王工",
        "session_date": "2026-03-10", "session_place": "公司三楼会议室", "planned_participants": 3}
APPROVED = {"approved": True}
RESULTS = {"held_on": "2026-03-10", "results": [
    {"login": "rep1", "attended": True, "score": 92, "passed": True},
    {"login": "fix1", "attended": True, "score": 45, "passed": False},
    {"login": "asst1", "attended": False, "passed": False}], "assessment_note": "闭卷笔试，60分合格"}
DUE = local_time("2026-03-13", "18:00")


@pytest.fixture
def training(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = {(key, status) for key, _version, status in deploy_repository(engine)}
    assert (KEY, "deployed") in deployed
    return engine


def plan(eng: Engine, user: str = "train1", data: dict | None = None) -> int:
    """A training officer draws up the plan; the general managers are offered to approve it."""
    iid = eng.start(user, KEY, dict(data or PLAN))
    assert offered_to(eng, "approve_plan", iid) == holders("general_manager") - {user}
    task = inbox_task(eng, "gm1", "approve_plan", iid)
    assert (task["role"], task["title"]) == ("general_manager", "审批培训计划")
    return iid


@pytest.mark.rule("P10.1")
@pytest.mark.rule("P10.2")
def test_a_rejected_plan_ends_at_the_approval_with_the_reason(training, clock):
    eng = training
    with pytest.raises(InvalidData) as refused:
        eng.start("train1", KEY, {k: v for k, v in PLAN.items() if k != "topic"})
    assert "topic" in refused.value.fields
    with pytest.raises(InvalidData) as refused:  # a session is planned at least a day ahead
        eng.start("train1", KEY, {**PLAN, "session_date": "2026-03-02"})
    assert "session_date" in refused.value.fields
    with pytest.raises(InvalidData) as refused:
        eng.start("train1", KEY, {**PLAN, "training_kind": "fire_drill"})
    assert "training_kind" in refused.value.fields
    for role in ("sales_rep", "general_manager"):  # only a training officer draws up a plan
        with pytest.raises(Forbidden, match="roles that may start training: training_officer"):
            eng.start(next(u for u, r in PEOPLE.items() if r == [role]), KEY, dict(PLAN))

    iid = plan(eng)
    task = inbox_task(eng, "gm1", "approve_plan", iid)
    assert parse(task["due_at"]) == T0 + timedelta(days=1)  # one working day: Tuesday 09:00
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", task["id"], {"approved": False})
    assert "comment" in refused.value.fields
    do(eng, "gm1", "approve_plan", {"approved": False, "comment": "与季度安全月活动合并举办"}, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["started_by"]) == ("completed", "rejected", "train1")
    assert end_events(eng, iid) == ["plan_rejected"]
    assert branches(eng, iid) == [("plan_approved_gateway", "plan_rejected", "default")]
    assert trail(eng, iid) == [("started", None), *ready_and_done("approve_plan"),
                               ("gateway_taken", "plan_approved_gateway"), ("ended", None)]
    assert inst["data"] == {**PLAN, "approved": False, "comment": "与季度安全月活动合并举办"}
    assert all(t["process_key"] != KEY for u in PEOPLE for t in inbox_of(eng, u))
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P10.2")
def test_a_training_officer_who_is_also_general_manager_does_not_approve_his_own_plan(training, clock):
    eng = training
    eng.add_user("train_gm", ["training_officer", "general_manager"], PASSWORD)
    iid = eng.start("train_gm", KEY, dict(PLAN))
    assert offered_to(eng, "approve_plan", iid) == holders("general_manager")  # not train_gm
    task = inbox_task(eng, "gm1", "approve_plan", iid)
    with pytest.raises(Forbidden, match="separation of duties"):
        eng.claim("train_gm", task["id"])
    with pytest.raises(Forbidden, match="separation of duties"):
        eng.complete("train_gm", task["id"], APPROVED)
    do(eng, "gm1", "approve_plan", APPROVED, iid)
    assert offered_to(eng, "record_results", iid) == holders("training_officer")
    assert "record_results" in {t["name"] for t in eng.inbox("train_gm")}  # his own plan: he may hold it


@pytest.mark.rule("P10.1")
@pytest.mark.rule("P10.3")
def test_an_approved_plan_is_held_and_each_persons_attendance_score_and_pass_recorded(training, clock):
    eng = training
    iid = plan(eng, data={**PLAN, "training_kind": "sales_skills", "topic": "大客户沟通技巧"})
    do(eng, "gm1", "approve_plan", APPROVED, iid)
    assert offered_to(eng, "record_results", iid) == holders("training_officer")
    task = inbox_task(eng, "train2", "record_results", iid)
    assert parse(task["due_at"]) == DUE  # three days after the session, 18:00

    clock.set(local_time("2026-03-10", "17:00"))
    bad_rows = [
        {"login": "rep1", "attended": True, "score": 50, "passed": True},   # passed under 60
        {"login": "rep1", "attended": False, "score": 80, "passed": True},  # passed without attending
        {"login": "rep1", "attended": True, "score": 101, "passed": False},  # a score over 100
        {"login": "rep 1", "attended": True, "score": 70, "passed": True},  # not a login id
        {"login": "rep1", "attended": True, "score": 70},                   # passed missing
    ]
    for row in bad_rows:
        with pytest.raises(InvalidData) as refused:
            eng.complete("train2", task["id"], {"held_on": "2026-03-10", "results": [row]})
        assert "results" in str(refused.value.fields), row
    with pytest.raises(InvalidData) as refused:
        eng.complete("train2", task["id"], {"held_on": "2026-03-10", "results": []})
    assert "results" in refused.value.fields
    do(eng, "train2", "record_results", RESULTS, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "completed", [])
    assert end_events(eng, iid) == ["training_completed"]
    assert branches(eng, iid) == [("plan_approved_gateway", "record_results", "approved == True")]
    assert trail(eng, iid) == [("started", None), *ready_and_done("approve_plan"),
                               ("gateway_taken", "plan_approved_gateway"), *ready_and_done("record_results"),
                               ("ended", None)]
    assert inst["data"] == {**PLAN, "training_kind": "sales_skills", "topic": "大客户沟通技巧", **APPROVED,
                            **RESULTS}
    assert [t for t, _ in submissions(eng, iid)] == ["approve_plan", "record_results"]
    assert events(eng, iid, "timers_due") == []
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P10.4")
def test_results_not_recorded_three_days_after_the_session_remind_the_general_manager(training, clock):
    eng = training
    iid = plan(eng)
    do(eng, "gm1", "approve_plan", APPROVED, iid)
    clock.set(DUE - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(DUE + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_results", iid) == holders("general_manager")
    assert offered_to(eng, "record_results", iid) == holders("training_officer")  # non-interrupting
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", inbox_task(eng, "gm1", "remind_results", iid)["id"], {"reminder_comment": " "})
    assert "reminder_comment" in refused.value.fields
    do(eng, "gm1", "remind_results", {"reminder_comment": "请培训专员今日内录入考核结果"}, iid)
    clock.advance(hours=1)
    do(eng, "train1", "record_results", RESULTS, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "completed")
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["results_overdue"]]
    assert [e["task"] for e in events(eng, iid, "completed")] == ["approve_plan", "remind_results", "record_results"]
    assert sorted(end_events(eng, iid)) == ["training_completed"]
    assert inst["data"]["reminder_comment"] == "请培训专员今日内录入考核结果"
    assert_audit_intact(eng, iid)
