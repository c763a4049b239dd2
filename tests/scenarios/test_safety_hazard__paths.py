"""P8 safety_hazard (安全隐患排查整改) and its periodic start, safety_inspection: every path to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. An employee reports a hazard by hand, or
the monthly inspection (a timer start, 1 April 09:00) finds one and its message starts the process. A
department head verifies and grades it; the table safety_rectification gives a major hazard 24 hours
(work stops at once and the general manager is told) and a general one 7 days; when the period has
passed the safety department is reminded, later the general manager follows it up. The safety
department checks the result (sent back: rectified again) and records the reporter's reward.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    assert_completed,
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
    requester_may_not_work,
    submissions,
    trail,
)

KEY = "safety_hazard"
INSPECTION = "safety_inspection"
REPORT = {"hazard_description": "展厅货架第三层堆放超高，瓷砖箱有倾倒危险", "hazard_location": "芜湖门店展厅东侧",
          "photo_note": "照片已存门店共享盘 2026-03-02 文件夹"}
GENERAL = {"hazard_confirmed": True, "hazard_level": "general"}
MAJOR = {"hazard_confirmed": True, "hazard_level": "major"}
RECTIFIED = {"rectification_measures": "货架降层码放，加装防倾倒挡板", "rectification_owner": "门店店长"}
ACCEPTED = {"rectification_accepted": True}
CASH = {"reward_kind": "cash", "reward_yuan": 200, "reward_reason": "举报属实，及时消除倾倒隐患"}
APRIL = local_time("2026-04-01", "09:00")


@pytest.fixture
def safety(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = {(key, status) for key, _version, status in deploy_repository(engine)}
    assert {(KEY, "deployed"), (INSPECTION, "deployed")} <= deployed
    return engine


def report(eng: Engine, user: str = "rep1", data: dict | None = None) -> int:
    """An employee reports a hazard by hand; the department heads are offered to verify it."""
    iid = eng.start(user, KEY, dict(data or REPORT))
    assert offered_to(eng, "verify_hazard", iid) == holders("department_head") - {user}
    task = inbox_task(eng, "head1", "verify_hazard", iid)
    assert (task["role"], task["title"]) == ("department_head", "核实安全隐患")
    return iid


def instances_of(eng: Engine, key: str) -> list[dict]:
    """Every instance of the process, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == key]


def rectify_and_close(eng: Engine, iid: int, reward: dict = CASH) -> None:
    do(eng, "head2", "rectify_hazard", RECTIFIED, iid)
    assert offered_to(eng, "check_rectification", iid) == holders("safety_officer")
    do(eng, "safe1", "check_rectification", ACCEPTED, iid)
    assert offered_to(eng, "record_reward", iid) == holders("safety_officer")
    do(eng, "safe2", "record_reward", reward, iid)


@pytest.mark.rule("P8.3")
@pytest.mark.rule("P8.4")
def test_a_report_that_is_not_a_hazard_ends_at_the_verification(safety, clock):
    eng = safety
    with pytest.raises(InvalidData) as refused:
        eng.start("rep1", KEY, {"hazard_description": "地面湿滑"})  # where is missing
    assert "hazard_location" in refused.value.fields
    iid = report(eng, "svc1", {k: v for k, v in REPORT.items() if k != "photo_note"})  # the photo note is optional
    task = inbox_task(eng, "head1", "verify_hazard", iid)
    assert parse(task["due_at"]) == T0 + timedelta(days=1)  # one working day: Tuesday 09:00
    with pytest.raises(InvalidData) as refused:
        eng.complete("head1", task["id"], {"hazard_confirmed": False})
    assert "verification_note" in refused.value.fields
    not_a_hazard = {"hazard_confirmed": False, "verification_note": "货架已按规定固定，不属隐患"}
    do(eng, "head1", "verify_hazard", not_a_hazard, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["started_by"]) == ("completed", "rejected", "svc1")
    assert end_events(eng, iid) == ["not_a_hazard"]
    assert branches(eng, iid) == [("hazard_confirmed_gateway", "not_a_hazard", "default")]
    assert trail(eng, iid) == [("started", None), ("task_ready", "verify_hazard"), ("completed", "verify_hazard"),
                               ("gateway_taken", "hazard_confirmed_gateway"), ("ended", None)]
    assert all(t["process_key"] != KEY for u in PEOPLE for t in inbox_of(eng, u))
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.4")
def test_the_reporter_does_not_verify_his_own_report(safety, clock):
    eng = safety
    iid = report(eng, "rep_head")
    requester_may_not_work(eng, iid, "rep_head", "verify_hazard", GENERAL)
    do(eng, "head2", "verify_hazard", GENERAL, iid)
    assert offered_to(eng, "rectify_hazard", iid) == holders("department_head")


@pytest.mark.rule("P8.3")
@pytest.mark.rule("P8.6")
@pytest.mark.rule("P8.8")
@pytest.mark.rule("P8.9")
def test_a_general_hazard_is_rectified_within_seven_days_checked_and_the_reporter_rewarded(safety, clock):
    eng = safety
    iid = report(eng)
    do(eng, "head1", "verify_hazard", GENERAL, iid)
    assert offered_to(eng, "stop_work", iid) == set() and offered_to(eng, "inform_general_manager", iid) == set()
    assert offered_to(eng, "rectify_hazard", iid) == holders("department_head")
    task = inbox_task(eng, "head2", "rectify_hazard", iid)
    assert parse(task["due_at"]) == T0 + timedelta(days=7)  # the reminder timer is the deadline
    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["stop_work"], data["rectification_period"], data["escalation_period"]) == (False, "P7D", "P10D")

    clock.advance(days=2)
    do(eng, "head2", "rectify_hazard", RECTIFIED, iid)
    check = inbox_task(eng, "safe1", "check_rectification", iid)
    assert parse(check["due_at"]) == T0 + timedelta(days=3)  # Wednesday + one working day
    do(eng, "safe1", "check_rectification", ACCEPTED, iid)
    reward = inbox_task(eng, "safe2", "record_reward", iid)
    with pytest.raises(InvalidData) as refused:  # a cash reward states its amount, within bounds
        eng.complete("safe2", reward["id"], {"reward_kind": "cash", "reward_reason": "举报属实"})
    assert "reward_yuan" in refused.value.fields
    with pytest.raises(InvalidData) as refused:
        eng.complete("safe2", reward["id"], {**CASH, "reward_yuan": 100000.01})
    assert "reward_yuan" in refused.value.fields
    do(eng, "safe2", "record_reward", CASH, iid)

    assert_completed(eng, iid, AUDITOR, {**REPORT, **GENERAL, "stop_work": False, "rectification_period": "P7D",
                                         "escalation_period": "P10D", **RECTIFIED, **ACCEPTED, **CASH})
    inst = eng.instance(AUDITOR, iid)
    assert (inst["outcome"], end_events(eng, iid)) == ("resolved", ["hazard_closed"])
    assert branches(eng, iid) == [
        ("hazard_confirmed_gateway", "rectification_terms", "hazard_confirmed == True"),
        ("major_hazard_gateway", "rectify_merge", "default"), ("rectify_merge", "rectify_hazard", "default"),
        ("rectification_accepted_gateway", "record_reward", "rectification_accepted == True")]
    assert [kind for kind, _ in trail(eng, iid) if kind not in ("gateway_taken",)] == [
        "started", *[k for k, _ in ready_and_done("verify_hazard")], "task_ready", "completed",
        "task_ready", "completed", "task_ready", "completed", "ended"]
    assert [t for t, _ in submissions(eng, iid)] == ["verify_hazard", "rectify_hazard", "check_rectification",
                                                     "record_reward"]
    assert events(eng, iid, "timer_fired") == []
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.8")
@pytest.mark.rule("P8.9")
def test_a_rectification_sent_back_is_rectified_again_then_closed(safety, clock):
    eng = safety
    iid = report(eng)
    do(eng, "head1", "verify_hazard", GENERAL, iid)
    do(eng, "head1", "rectify_hazard", RECTIFIED, iid)
    check = inbox_task(eng, "safe1", "check_rectification", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("safe1", check["id"], {"rectification_accepted": False})
    assert "check_comment" in refused.value.fields
    clock.advance(days=1)
    back = {"rectification_accepted": False, "check_comment": "挡板未固定，仍可能倾倒"}
    do(eng, "safe1", "check_rectification", back, iid)
    again = inbox_task(eng, "head1", "rectify_hazard", iid)
    assert parse(again["due_at"]) == T0 + timedelta(days=8)  # a new period from the send-back
    assert offered_to(eng, "rectify_hazard", iid) == holders("department_head")
    none = {"reward_kind": "none", "reward_reason": "举报人为隐患所在部门负责人，属本职"}
    rectify_and_close(eng, iid, none)

    assert [t for t, _ in submissions(eng, iid)] == [
        "verify_hazard", "rectify_hazard", "check_rectification", "rectify_hazard", "check_rectification",
        "record_reward"]
    assert [b[:2] for b in branches(eng, iid) if b[0] == "rectification_accepted_gateway"] == [
        ("rectification_accepted_gateway", "rectify_merge"), ("rectification_accepted_gateway", "record_reward")]
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "resolved")
    assert (inst["data"]["reward_kind"], "reward_yuan" in inst["data"]) == ("none", False)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.5")
@pytest.mark.rule("P8.6")
def test_a_major_hazard_stops_work_at_once_and_the_general_manager_is_told(safety, clock):
    eng = safety
    iid = report(eng)
    do(eng, "head1", "verify_hazard", MAJOR, iid)
    assert offered_to(eng, "rectify_hazard", iid) == set()
    assert offered_to(eng, "stop_work", iid) == holders("department_head")
    stop = inbox_task(eng, "head1", "stop_work", iid)
    assert parse(stop["due_at"]) == T0 + timedelta(hours=2)
    with pytest.raises(InvalidData):
        eng.complete("head1", stop["id"], {"work_stopped": False, "immediate_measures": "x"})
    stopped = {"work_stopped": True, "immediate_measures": "封闭展厅东侧，疏散顾客，货架卸载"}
    do(eng, "head1", "stop_work", stopped, iid)
    assert offered_to(eng, "inform_general_manager", iid) == holders("general_manager")
    clock.advance(hours=1)
    do(eng, "gm1", "inform_general_manager", {"gm_acknowledged": True, "gm_instructions": "今天内整改完毕"}, iid)
    rectify = inbox_task(eng, "head2", "rectify_hazard", iid)
    assert parse(rectify["due_at"]) == T0 + timedelta(hours=25)  # 24 hours
    rectify_and_close(eng, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "resolved")
    assert (inst["data"]["stop_work"], inst["data"]["rectification_period"]) == (True, "PT24H")
    assert branches(eng, iid)[1] == ("major_hazard_gateway", "stop_work", "stop_work == True")
    assert [t for t, _ in submissions(eng, iid)][:3] == ["verify_hazard", "stop_work", "inform_general_manager"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.7")
def test_an_overdue_rectification_reminds_the_safety_department_then_the_general_manager_follows_it_up(
        safety, clock):
    eng = safety
    iid = report(eng)
    do(eng, "head1", "verify_hazard", GENERAL, iid)
    clock.set(T0 + timedelta(days=7) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(T0 + timedelta(days=7, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_rectification", iid) == holders("safety_officer")
    assert offered_to(eng, "escalate_rectification", iid) == set()
    assert offered_to(eng, "rectify_hazard", iid) == holders("department_head")  # non-interrupting
    do(eng, "safe1", "remind_rectification", {"reminder_note": "已电话催促门店，承诺两日内完成"}, iid)

    clock.set(T0 + timedelta(days=10, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "escalate_rectification", iid) == holders("general_manager")
    do(eng, "gm1", "escalate_rectification", {"escalation_note": "责成门店今日完成整改"}, iid)
    rectify_and_close(eng, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "resolved")
    fired = [e["payload"]["fired"] for e in events(eng, iid, "timers_due")]
    assert fired == [["rectification_overdue"], ["rectification_long_overdue"]]
    assert [e["task"] for e in events(eng, iid, "completed")][1:3] == ["remind_rectification", "escalate_rectification"]
    assert end_events(eng, iid) == ["hazard_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P8.1")
@pytest.mark.rule("P8.2")
def test_the_monthly_inspection_starts_by_its_timer_and_a_hazard_it_finds_starts_the_rectification(safety, clock):
    eng = safety
    with pytest.raises(Forbidden, match="started by its timer"):
        eng.start("head1", INSPECTION, {})
    [armed] = instances_of(eng, INSPECTION)
    assert (armed["status"], armed["started_by"], armed["tasks"]) == ("running", "system", [])
    clock.set(APRIL - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(APRIL + timedelta(minutes=1))
    assert eng.fire_due_timers() == 2  # the inspection, and the satisfaction survey of the same minute
    assert offered_to(eng, "inspect_department", armed["id"]) == holders("department_head")
    task = inbox_task(eng, "head1", "inspect_department", armed["id"])
    assert parse(task["due_at"]) == APRIL + timedelta(days=7, minutes=1)
    assert len([v for v in instances_of(eng, INSPECTION) if v["tasks"] == []]) == 1  # May's is armed

    with pytest.raises(InvalidData) as refused:  # a hazard found says what and where
        eng.complete("head1", task["id"], {"inspection_scope": "展厅、仓库、消防设施", "hazard_found": True})
    assert {"hazard_description", "hazard_location"} <= set(refused.value.fields)
    found = {"inspection_scope": "展厅、仓库、消防设施", "hazard_found": True,
             "hazard_description": "仓库灭火器过期", "hazard_location": "芜湖门店仓库"}
    do(eng, "head1", "inspect_department", found, armed["id"])
    inst = eng.instance(AUDITOR, armed["id"])
    assert (inst["status"], inst["outcome"]) == ("completed", "transferred")
    assert end_events(eng, armed["id"]) == ["hazard_passed_on"]

    [hazard] = instances_of(eng, KEY)
    assert (hazard["status"], hazard["started_by"]) == ("running", "head1")  # who found it: he does not verify it
    assert hazard["data"] == {"hazard_description": "仓库灭火器过期", "hazard_location": "芜湖门店仓库",
                              "inspection_scope": "展厅、仓库、消防设施", "found_in_inspection": True}
    assert offered_to(eng, "verify_hazard", hazard["id"]) == holders("department_head") - {"head1"}
    do(eng, "head2", "verify_hazard", GENERAL, hazard["id"])
    rectify_and_close(eng, hazard["id"], {"reward_kind": "none", "reward_reason": "部门定期检查发现，非员工举报"})
    assert eng.instance(AUDITOR, hazard["id"])["outcome"] == "resolved"
    assert_audit_intact(eng, armed["id"])
    assert_audit_intact(eng, hazard["id"])


@pytest.mark.rule("P8.1")
def test_an_inspection_that_finds_nothing_ends_completed(safety, clock):
    eng = safety
    [armed] = instances_of(eng, INSPECTION)
    clock.set(APRIL + timedelta(minutes=1))
    assert eng.fire_due_timers() == 2  # the inspection, and the satisfaction survey of the same minute
    do(eng, "head2", "inspect_department", {"inspection_scope": "展厅、仓库、消防设施", "hazard_found": False},
       armed["id"])
    inst = eng.instance(AUDITOR, armed["id"])
    assert (inst["status"], inst["outcome"]) == ("completed", "completed")
    assert inst["data"] == {"inspection_scope": "展厅、仓库、消防设施", "hazard_found": False}
    assert branches(eng, armed["id"]) == [("hazard_found_gateway", "no_hazard_found", "default")]
    assert instances_of(eng, KEY) == []
    assert_audit_intact(eng, armed["id"])


@pytest.mark.rule("P8.3")
def test_any_employee_may_report_a_hazard_but_not_a_system_account(safety, clock):
    eng = safety
    for user in ("fin1", "prod1", "disp", "gm1", "safe1"):  # finance, production, dispatch, management, safety
        iid = eng.start(user, KEY, dict(REPORT))
        assert eng.instance(AUDITOR, iid)["started_by"] == user
    with pytest.raises(Forbidden):
        eng.start(AUDITOR, KEY, dict(REPORT))
    assert len(instances_of(eng, KEY)) == 5


@pytest.mark.rule("P8.7")
def test_a_major_hazard_is_overdue_after_24_hours_and_goes_to_the_general_manager_24_hours_later(safety, clock):
    eng = safety
    iid = report(eng)
    do(eng, "head1", "verify_hazard", MAJOR, iid)
    do(eng, "head1", "stop_work", {"work_stopped": True, "immediate_measures": "封闭现场"}, iid)
    do(eng, "gm1", "inform_general_manager", {"gm_acknowledged": True}, iid)
    ready = parse(inbox_task(eng, "head1", "rectify_hazard", iid)["created_at"])
    clock.set(ready + timedelta(hours=24, minutes=-1))
    assert eng.fire_due_timers() == 0
    clock.set(ready + timedelta(hours=24, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_rectification", iid) == holders("safety_officer")
    clock.set(ready + timedelta(hours=48, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "escalate_rectification", iid) == holders("general_manager")
    assert offered_to(eng, "rectify_hazard", iid) == holders("department_head")
