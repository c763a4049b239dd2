"""P12a monthly_appraisal (月度考核): the timer start on the 3rd working day, the review, the approval
(returned once, then approved) and the payroll record.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai: deploying arms the appraisal of Friday
2026-04-03 09:00 (the 3rd working day of April, company time); when it starts, the engine arms Tuesday
2026-05-05 09:00 (1, 4 and 5 May: processes/calendar.yaml lists no holiday).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    branches,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    parse,
    submissions,
    trail,
)

KEY = "monthly_appraisal"
# The report's rows name representatives by login id as typed (the engine does not check them, and the pages show
# them as typed): accounts that are not among PEOPLE, whose login ids the pages would otherwise have to hide.
APRIL, MAY = local_time("2026-04-03", "09:00"), local_time("2026-05-05", "09:00")
FIGURES = [{"login_id": "zhangwei", "sales_yuan": 386500.5, "target_met": True, "remarks": "新开统销客户 2 家"},
           {"login_id": "lina", "sales_yuan": 142000, "target_met": False}]
PROPOSALS = [{"login_id": "zhangwei", "measure": "绩效奖金、表彰", "bonus_yuan": 3000, "reason": "超额完成目标 29%"},
             {"login_id": "lina", "measure": "警告、绩效扣减", "deduction_yuan": 500, "reason": "连续两月未达标"}]
REVIEW = {"appraisal_month": "2026-03", "figures": FIGURES, "proposals": PROPOSALS,
          "review_notes": "三月整体完成率 87%"}
PAYROLL = {"payroll_month": "2026-04", "payroll_recorded": True}


def instances(eng: Engine) -> list[dict]:
    """Every appraisal instance, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == KEY]


def start_april_appraisal(eng: Engine, clock) -> int:
    """Nothing before 09:00 on the 3rd working day; then the sales managers are offered the review."""
    clock.set(APRIL - timedelta(minutes=1))
    eng.fire_due_timers()  # the survey and the safety inspection of 1 April
    assert offered_to(eng, "review_performance") == set()
    clock.set(APRIL + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "review_performance") == holders("sales_manager")
    task = inbox_task(eng, "mgr1", "review_performance")
    assert (task["role"], task["assignee"], task["title"]) == ("sales_manager", None, "核对业绩并提出奖惩")
    assert parse(task["due_at"]) == APRIL + timedelta(days=7, minutes=1)  # 5 working days: Friday next week
    return task["instance_id"]


@pytest.mark.rule("P12.1")
def test_the_appraisal_starts_on_the_third_working_day_and_arms_the_next_month(flows, clock):
    eng = flows
    [armed] = instances(eng)
    assert (armed["status"], armed["tasks"], armed["started_by"]) == ("running", [], "system")
    iid = start_april_appraisal(eng, clock)
    assert iid == armed["id"]
    [_, may] = instances(eng)
    clock.set(MAY - timedelta(minutes=1))
    eng.fire_due_timers()  # the survey and the safety inspection of 1 May
    assert {t["instance_id"] for t in eng.inbox("mgr2") if t["name"] == "review_performance"} == {iid}
    clock.set(MAY + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert {t["instance_id"] for t in eng.inbox("mgr2") if t["name"] == "review_performance"} == {iid, may["id"]}
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["monthly_appraisal_start"]]
    assert trail(eng, iid) == [("started", None), ("timers_due", None), ("timer_fired", "monthly_appraisal_start"),
                               ("task_ready", "review_performance")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P12.1")
@pytest.mark.rule("P12.2")
def test_the_figures_and_proposals_are_checked(flows, clock):
    eng = flows
    iid = start_april_appraisal(eng, clock)
    task = inbox_task(eng, "mgr1", "review_performance", iid)
    for bad, field in ((({**REVIEW, "appraisal_month": "2026-13"}), "appraisal_month"),
                       ({**REVIEW, "figures": []}, "figures"),
                       ({**REVIEW, "figures": [{"login_id": "zhangwei", "sales_yuan": 1.001, "target_met": True}]},
                        "figures"),
                       ({**REVIEW, "figures": [{"login_id": "zhangwei", "sales_yuan": -1, "target_met": True}]},
                        "figures"),
                       ({**REVIEW, "proposals": [{"login_id": "lina", "measure": "警告"}]},
                        "proposals")):
        with pytest.raises(InvalidData) as refused:
            eng.complete("mgr1", task["id"], bad)
        assert field in refused.value.fields
    with pytest.raises(Forbidden):  # a representative does not start an appraisal by hand
        eng.start("rep1", KEY, {})


@pytest.mark.rule("P12.2")
@pytest.mark.rule("P12.3")
@pytest.mark.rule("P12.4")
def test_the_director_returns_the_proposals_then_approves_and_finance_records_them(flows, clock):
    eng = flows
    iid = start_april_appraisal(eng, clock)
    do(eng, "rep_mgr", "review_performance", REVIEW, iid)
    assert offered_to(eng, "approve_appraisal", iid) == holders("sales_director")
    approval = inbox_task(eng, "dir", "approve_appraisal", iid)
    assert parse(approval["due_at"]) == local_time("2026-04-06", "09:01")  # one working day: Monday
    with pytest.raises(InvalidData) as refused:
        eng.complete("dir", approval["id"], {"approved": False})
    assert "comment" in refused.value.fields
    returned = {"approved": False, "comment": "lina 的扣减请附客户回访记录"}
    do(eng, "dir", "approve_appraisal", returned, iid)
    assert offered_to(eng, "review_performance", iid) == holders("sales_manager")
    revised = {**REVIEW, "review_notes": "已附 lina 的回访记录"}
    do(eng, "mgr2", "review_performance", revised, iid)
    do(eng, "dir", "approve_appraisal", {"approved": True}, iid)

    assert offered_to(eng, "record_in_payroll", iid) == holders("finance")
    pay = inbox_task(eng, "fin1", "record_in_payroll", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("fin1", pay["id"], {"payroll_month": "2026-04", "payroll_recorded": False})
    assert "payroll_recorded" in refused.value.fields
    do(eng, "fin2", "record_in_payroll", PAYROLL, iid)

    assert_completed(eng, iid, AUDITOR, {**revised, "approved": True, "comment": returned["comment"], **PAYROLL})
    inst = eng.instance(AUDITOR, iid)
    assert (inst["outcome"], end_events(eng, iid)) == ("completed", ["appraisal_recorded"])
    assert branches(eng, iid) == [("appraisal_approved_gateway", "review_performance", "default"),
                                  ("appraisal_approved_gateway", "record_in_payroll", "approved == True")]
    assert [t for t, _ in submissions(eng, iid)] == ["review_performance", "approve_appraisal", "review_performance",
                                                     "approve_appraisal", "record_in_payroll"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P12.3")
def test_the_manager_who_proposed_does_not_approve(flows, clock):
    eng = flows
    iid = start_april_appraisal(eng, clock)
    task = inbox_task(eng, "mgr1", "review_performance", iid)
    eng.complete("mgr1", task["id"], {"appraisal_month": "2026-03", "figures": FIGURES})  # no proposal this month
    assert offered_to(eng, "approve_appraisal", iid) == holders("sales_director")
    assert "proposals" not in eng.instance(AUDITOR, iid)["data"]
