"""P4 complaint: refunds and compensations have approval limits by amount (DMN complaint_compensation; the
limits are the project's own choice): the sales manager up to 2,000 yuan, the sales director up to 10,000
yuan, above that the general manager. Approvals are due one working day after they are ready; a late
approval of the sales director is reminded to the general manager (issue 12 items 4 and 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from engine.errors import InvalidData
from tests.conftest import ROOT, T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    events,
    holders,
    local_time,
    offered_to,
    open_task,
    parse,
    requester_may_not_work,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    IMPLEMENTED,
    KEY,
    close,
    investigate,
    registration,
    review,
    routes,
    taken,
)

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DECIDERS = {"minor": ("take_quality_by_manager", "mgr1", "decide_quality_by_manager"),
            "major": ("take_quality_by_director", "dir", "decide_quality_by_director"),
            "critical": ("take_quality_by_director", "dir", "decide_quality_by_director")}
APPROVAL_TASKS = {"sales_director": "approve_compensation_by_director", "general_manager": "approve_compensation_by_gm"}


def decided(eng, iid: int, severity: str, resolution: str, amount: float) -> None:
    """From the registration to the decision of the taker (the visit done when it is forced)."""
    take, person, decide = DECIDERS[severity]
    review(eng, iid, severity)
    do(eng, person, take, taken("ZL-2026-080", onsite_visit=False), iid)
    investigate(eng, iid)
    if severity == "critical":
        do(eng, "dir", "onsite_visit_by_director", {"onsite_date": "2026-03-02", "onsite_participants": "品质部",
                                                     "onsite_findings": "开裂"}, iid)
    do(eng, person, decide, {"quality_resolution": resolution, "resolution_details": "按金额处理",
                             "compensation_yuan": amount}, iid)


@pytest.mark.rule("P4.COMP")
def test_the_compensation_table_has_one_band_per_decider_and_amount():
    tree = etree.parse(str(ROOT / "processes" / "complaint_compensation.dmn"))
    [table] = tree.getroot().iter(f"{{{DMN}}}decisionTable")
    assert table.get("hitPolicy") == "UNIQUE"
    assert [i.findtext(f"{{{DMN}}}inputExpression/{{{DMN}}}text") for i in table.iter(f"{{{DMN}}}input")] == [
        "complaint_route", "compensation_yuan", "compensation_yuan"]
    assert [o.get("name") for o in table.iter(f"{{{DMN}}}output")] == ["compensation_approver"]
    rows = [tuple(e.findtext(f"{{{DMN}}}text").strip().strip('"') for e in (*rule.iter(f"{{{DMN}}}inputEntry"),
                                                                          *rule.iter(f"{{{DMN}}}outputEntry")))
            for rule in table.iter(f"{{{DMN}}}rule")]
    assert rows == [
        ("quality_sales_manager", "-", "<= 2000", "none"),
        ("quality_sales_manager", "> 2000", "<= 10000", "sales_director"),
        ("quality_sales_manager", "> 10000", "-", "general_manager"),
        ("quality_sales_director", "-", "<= 10000", "none"),
        ("quality_sales_director", "> 10000", "-", "general_manager"),
        ("quality_general_manager", "-", "<= 10000", "none"),
        ("quality_general_manager", "> 10000", "-", "general_manager"),
        ("quality_general_manager_decides", "-", "-", "none")]


@pytest.mark.rule("P4.COMP")
@pytest.mark.parametrize(("severity", "resolution", "amount", "approver"), [
    pytest.param("minor", "refund", 2000, "none", id="manager_2000_own"),
    pytest.param("minor", "compensate", 2000.5, "sales_director", id="manager_2000.5_director"),
    pytest.param("minor", "refund", 10000, "sales_director", id="manager_10000_director"),
    pytest.param("minor", "compensate", 10001, "general_manager", id="manager_10001_gm"),
    pytest.param("major", "refund", 10000, "none", id="director_10000_own"),
    pytest.param("major", "compensate", 10000.01, "general_manager", id="director_10000.01_gm"),
    pytest.param("critical", "compensate", 9000, "none", id="incident_9000_own"),
    pytest.param("critical", "refund", 50000, "general_manager", id="incident_50000_gm")])
def test_each_band_sends_the_decision_to_its_approver(flows, severity, resolution, amount, approver):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", severity))
    decided(eng, iid, severity, resolution, amount)
    inst = eng.instance(AUDITOR, iid)
    assert inst["data"]["compensation_approver"] == approver
    expected = APPROVAL_TASKS.get(approver, "inform_customer")
    assert [t["name"] for t in inst["tasks"]] == [expected]
    assert offered_to(eng, expected, iid) == holders({"approve_compensation_by_director": "sales_director",
                                                      "approve_compensation_by_gm": "general_manager",
                                                      "inform_customer": "customer_service"}[expected])
    condition = {"none": "default", "sales_director": "compensation_approver == 'sales_director'",
                 "general_manager": "compensation_approver == 'general_manager'"}[approver]
    assert routes(eng, iid)[-1] == ("compensation_approver_gateway", APPROVAL_TASKS.get(approver, "solution_merge"),
                                    condition)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.COMP")
def test_the_general_manager_deciding_after_a_refusal_has_no_limit(flows):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "major"))
    decided(eng, iid, "major", "refund", 3000)
    do(eng, "svc1", "inform_customer", {"customer_accepts": False, "customer_feedback": "要求更高赔偿"}, iid)
    do(eng, "gm1", "decide_quality_by_gm", {"quality_resolution": "compensate", "resolution_details": "总经理决定赔偿",
                                            "compensation_yuan": 80000}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["data"]["compensation_approver"], [t["name"] for t in inst["tasks"]]) == ("none", ["inform_customer"])


@pytest.mark.rule("P4.COMP")
@pytest.mark.rule("P4.SOD")
def test_the_director_sends_a_refund_back_to_the_manager_who_decides_within_his_limit(flows):
    eng = flows
    iid = eng.start("rep1", KEY, registration("quality", "minor"))
    decided(eng, iid, "minor", "refund", 6000)
    task = open_task(eng, iid, "approve_compensation_by_director")
    with pytest.raises(InvalidData) as no_reason:
        eng.complete("dir", task["id"], {"approved": False})
    assert no_reason.value.fields["comment"]["en"] == "Give the reason when you send it back"
    do(eng, "dir", "approve_compensation_by_director", {"approved": False, "comment": "只退问题砖部分"}, iid)

    assert offered_to(eng, "decide_quality_by_manager", iid) == holders("sales_manager")
    assert offered_to(eng, "inform_customer", iid) == set()
    do(eng, "mgr2", "decide_quality_by_manager", {"quality_resolution": "refund", "resolution_details": "退问题砖",
                                                  "compensation_yuan": 1800}, iid)
    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["compensation_approver"], data["compensation_yuan"], data["comment"]) == (
        "none", 1800, "只退问题砖部分")
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    assert [b for b in routes(eng, iid) if b[0] == "compensation_approved_gateway"] == [
        ("compensation_approved_gateway", "quality_decision_merge", "default")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.SOD")
def test_the_registrant_never_approves_a_refund_of_his_own_complaint(flows):
    eng = flows
    iid = eng.start("rep_gm", KEY, registration("quality", "major"))  # a sales rep who is a general manager
    decided(eng, iid, "major", "compensate", 20000)
    assert offered_to(eng, "approve_compensation_by_gm", iid) == holders("general_manager") - {"rep_gm"}
    requester_may_not_work(eng, iid, "rep_gm", "approve_compensation_by_gm", {"approved": True})


@pytest.mark.rule("P4.DEADLINE")
def test_an_approval_late_by_one_working_day_is_reminded_to_the_general_manager(flows, clock):
    eng = flows
    friday = local_time("2026-03-06", "15:00")
    clock.set(friday)
    iid = eng.start("svc1", KEY, registration("quality", "minor"))
    decided(eng, iid, "minor", "compensate", 5000)
    approval = open_task(eng, iid, "approve_compensation_by_director")
    monday = local_time("2026-03-09", "15:00")  # its timer: Friday 15:00 + one working day, not Saturday
    # its deadline: the complaint's "resolved within 48 hours of the registration" comes first (Sunday)
    assert parse(approval["due_at"]) == friday + timedelta(hours=48) < monday

    clock.set(friday + timedelta(hours=48, minutes=1))  # Sunday: the 48-hour limit, nothing about the approval
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_gm_of_compensation", iid) == set()
    do(eng, "dir", "resolution_escalation", {"resolution_escalation_note": "周一前审批"}, iid)
    clock.set(monday - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(monday + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_gm_of_compensation", iid) == holders("general_manager")
    assert offered_to(eng, "approve_compensation_by_director", iid) == holders("sales_director")  # stays open
    escalated = events(eng, iid, "escalated")[-1]
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "director_approval_overdue", "approve_compensation_by_director", False)

    do(eng, "dir", "approve_compensation_by_director", {"approved": True}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    assert offered_to(eng, "remind_gm_of_compensation", iid) == holders("general_manager")
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    # resolved: the reminder has nothing left to chase
    assert [e["task"] for e in events(eng, iid, "task_cancelled")] == ["remind_gm_of_compensation"]
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})
    assert eng.instance(AUDITOR, iid)["outcome"] == "resolved"
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.DEADLINE")
def test_the_general_managers_approval_is_due_in_one_working_day_with_nobody_above_to_remind(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "major"))
    decided(eng, iid, "major", "refund", 12000)
    approval = open_task(eng, iid, "approve_compensation_by_gm")
    assert parse(approval["due_at"]) == T0 + timedelta(days=1)
    clock.set(T0 + timedelta(days=2, minutes=1))
    assert eng.fire_due_timers() == 1  # only the 48-hour limit: no reminder timer on the top level's approval
    assert [e["task"] for e in events(eng, iid, "timer_fired")] == ["resolution_overdue"]
    assert [t["overdue"] for t in eng.inbox("gm1") if t["name"] == "approve_compensation_by_gm"] == [True]
    assert offered_to(eng, "remind_gm_of_compensation", iid) == set()
