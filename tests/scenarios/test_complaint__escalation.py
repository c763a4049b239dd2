"""P4 complaint: a refused solution goes one level up each time (DMN complaint_escalation), and every
48-hour breach escalates one level further (the sales director at 48 h, the general manager at 96 h and
every 48 h after), until the complaint is resolved (issue 12 item 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from tests.conftest import ROOT, T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    end_events,
    events,
    holders,
    offered_to,
    open_task,
    parse,
    trail,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    IMPLEMENTED,
    KEY,
    PROPOSAL,
    close,
    investigate,
    registration,
    review,
    routes,
    service_form,
    taken,
)

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
LADDER = {
    "quality_sales_manager": "quality_sales_director",
    "quality_sales_director": "quality_general_manager_decides",
    "quality_general_manager": "quality_general_manager_decides",
    "quality_general_manager_decides": "quality_general_manager_decides",
    "service_sales_manager": "service_sales_vp_decides",
    "service_sales_vp": "service_general_manager_decides",
    "service_sales_vp_decides": "service_general_manager_decides",
    "service_general_manager_decides": "service_general_manager_decides",
}


@pytest.mark.rule("P4.ESC")
def test_the_escalation_table_raises_every_route_one_level_and_keeps_the_general_manager_at_the_top():
    tree = etree.parse(str(ROOT / "processes" / "complaint_escalation.dmn"))
    [table] = tree.getroot().iter(f"{{{DMN}}}decisionTable")
    assert table.get("hitPolicy") == "UNIQUE"
    assert [i.findtext(f"{{{DMN}}}inputExpression/{{{DMN}}}text") for i in table.iter(f"{{{DMN}}}input")] == [
        "complaint_route"]
    assert [o.get("name") for o in table.iter(f"{{{DMN}}}output")] == ["complaint_route"]
    rows = {}
    for rule in table.iter(f"{{{DMN}}}rule"):
        [route] = (e.findtext(f"{{{DMN}}}text").strip().strip('"') for e in rule.iter(f"{{{DMN}}}inputEntry"))
        [after] = (e.findtext(f"{{{DMN}}}text").strip().strip('"') for e in rule.iter(f"{{{DMN}}}outputEntry"))
        assert route not in rows
        rows[route] = after
    assert rows == LADDER


def refuse(eng, iid: int, round_no: int) -> None:
    do(eng, "svc1", "inform_customer", {"customer_accepts": False, "customer_feedback": f"第{round_no}次不接受"}, iid)


@pytest.mark.rule("P4.ESC")
@pytest.mark.rule("P4.3b")
def test_a_minor_service_complaint_refused_goes_to_the_vice_president_then_the_general_manager(flows):
    eng = flows
    iid = eng.start("rep1", KEY, registration("service", "minor"))
    review(eng, iid, "minor")
    do(eng, "mgr1", "propose_service_by_manager", {**PROPOSAL, "handled_by": "sales_department"}, iid)
    service_form(eng, iid, "sales")
    refuse(eng, iid, 1)

    # the sales department decided: one level up is the sales vice president, not the office
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_sales_vp_decides"
    assert offered_to(eng, "office_decision", iid) == set()
    assert offered_to(eng, "decide_service_by_vp", iid) == holders("sales_vp")
    do(eng, "vp1", "decide_service_by_vp", {"service_decision": "更换业务员，销售副总电话致歉"}, iid)
    service_form(eng, iid, "sales")
    refuse(eng, iid, 2)

    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_general_manager_decides"
    assert offered_to(eng, "decide_service_by_vp", iid) == set()
    assert offered_to(eng, "decide_service_by_gm", iid) == holders("general_manager")
    do(eng, "gm1", "decide_service_by_gm", {"service_decision": "总经理约见客户，赠送下批货运费"}, iid)
    service_form(eng, iid, "sales")
    refuse(eng, iid, 3)

    # the general manager is the top: he decides again
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_general_manager_decides"
    assert offered_to(eng, "decide_service_by_gm", iid) == holders("general_manager")
    final = {"service_decision": "总经理亲自登门致歉，更换对接团队"}
    do(eng, "rep_gm", "decide_service_by_gm", final, iid)
    service_form(eng, iid, "finance")
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    close(eng, iid, "assess_service_penalty", {"complaint_verified": False})

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["service_decision"]) == (
        "completed", "resolved", final["service_decision"])
    assert [b for b in routes(eng, iid) if b[0] == "service_decider_gateway"] == [
        ("service_decider_gateway", "service_decision_merge",
         "complaint_route == 'service_sales_manager' and handled_by == 'sales_department'"),
        ("service_decider_gateway", "decide_service_by_vp", "complaint_route == 'service_sales_vp_decides'"),
        ("service_decider_gateway", "decide_service_by_gm", "complaint_route == 'service_general_manager_decides'"),
        ("service_decider_gateway", "decide_service_by_gm", "complaint_route == 'service_general_manager_decides'")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.ESC")
def test_a_major_quality_incident_refused_goes_from_the_director_to_the_general_manager(flows):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "critical"))
    review(eng, iid, "critical")
    do(eng, "dir", "take_quality_by_director", taken("ZL-2026-070", onsite_visit=True), iid)
    investigate(eng, iid)
    do(eng, "dir", "onsite_visit_by_director", {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长",
                                                 "onsite_findings": "釉面开裂"}, iid)
    do(eng, "dir", "decide_quality_by_director", {"quality_resolution": "replace", "resolution_details": "更换"}, iid)
    refuse(eng, iid, 1)
    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["complaint_route"], data["severity"]) == ("quality_general_manager_decides", "critical")
    assert offered_to(eng, "decide_quality_by_director", iid) == set()
    assert offered_to(eng, "decide_quality_by_gm", iid) == holders("general_manager")
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.SLA48")
def test_every_48_hour_breach_escalates_one_level_further_until_the_complaint_is_resolved(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "minor"))
    review(eng, iid, "minor")
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-2026-071", onsite_visit=False), iid)
    investigate(eng, iid)

    # 48 h: the sales director (seed 79)
    clock.set(T0 + timedelta(hours=48, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "resolution_escalation", iid) == holders("sales_director")
    assert offered_to(eng, "resolution_escalation_by_gm", iid) == set()
    do(eng, "dir", "resolution_escalation", {"resolution_escalation_note": "督促经理当天决定"}, iid)

    # 96 h: one level further, the general manager
    clock.set(T0 + timedelta(hours=95, minutes=59))
    assert eng.fire_due_timers() == 0
    clock.set(T0 + timedelta(hours=96, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "resolution_escalation_by_gm", iid) == holders("general_manager")
    assert offered_to(eng, "resolution_escalation", iid) == set()  # the director is not asked again
    first = open_task(eng, iid, "resolution_escalation_by_gm")
    assert parse(first["created_at"]) == T0 + timedelta(hours=96, minutes=1)
    do(eng, "gm1", "resolution_escalation_by_gm", {"gm_escalation_note": "责成销售部限期解决"}, iid)

    # and every 48 h after that, while it is not resolved: the general manager again (there is no level above)
    clock.set(T0 + timedelta(hours=144, minutes=2))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "resolution_escalation_by_gm", iid) == holders("general_manager")
    clock.set(T0 + timedelta(hours=192, minutes=3))
    assert eng.fire_due_timers() == 1
    assert len([t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == "resolution_escalation_by_gm"]) == 2

    # resolved: the open follow-ups and the watch end with the handling; no more breaches
    do(eng, "mgr1", "decide_quality_by_manager", {"quality_resolution": "replace", "resolution_details": "更换"}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    assert [e["task"] for e in events(eng, iid, "task_cancelled")] == ["resolution_escalation_by_gm"] * 2
    assert [t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]] == ["summarise_complaint"]
    clock.set(T0 + timedelta(days=30))
    assert eng.fire_due_timers() == 0
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["gm_escalation_note"]) == (
        "completed", "resolved", "责成销售部限期解决")
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [
        ["resolution_overdue"], ["watch_second_breach"], ["watch_next_breach"], ["watch_next_breach"]]
    # the general manager's follow-ups are not reminders of a reviewer: each is its own branch of the watch
    assert [e["task"] for e in events(eng, iid, "task_ready") if "escalation" in e["task"]] == [
        "resolution_escalation", "resolution_escalation_by_gm", "resolution_escalation_by_gm",
        "resolution_escalation_by_gm"]
    assert ("timer_fired", "response_overdue") not in trail(eng, iid)  # taken in time
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
