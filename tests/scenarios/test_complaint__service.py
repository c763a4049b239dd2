"""P4 complaint, service flows: a minor one may be handled by the sales department instead of the
office (seed 392); the department of the person responsible handles it in its own task (seed 395); the
office decides within one working day or the general manager is reminded (issue 12 items 4 and 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import InvalidData
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    open_task,
    parse,
    ready_and_done,
    requester_may_not_work,
    submissions,
    trail,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    ARCHIVED,
    CLOSING_SERVICE,
    CORRECTIVE,
    DEPARTMENT_TASKS,
    IMPLEMENTED,
    KEY,
    PROPOSAL,
    SERVICE_START,
    SUMMARY,
    close,
    registration,
    review,
    routes,
)


@pytest.mark.rule("P4.3b")
@pytest.mark.rule("P4.3c")
def test_a_minor_service_complaint_handled_by_the_sales_department_without_the_office(flows, clock):
    eng, starter = flows, "rep2"
    form = registration("service", "minor")
    iid = eng.start(starter, KEY, form)
    reviewed = review(eng, iid, "minor")
    kept = {**PROPOSAL, "handled_by": "sales_department"}
    do(eng, "mgr1", "propose_service_by_manager", kept, iid)

    # the proposal is the sales department's decision: the office is not asked
    assert offered_to(eng, "office_decision", iid) == set()
    assert offered_to(eng, "fill_service_form", iid) == holders("sales_manager")
    filled = {"service_form_no": "FW-2026-020", "responsible_department": "sales"}
    do(eng, "mgr2", "fill_service_form", filled, iid)
    assert offered_to(eng, "handle_in_sales_department", iid) == holders("sales_manager")
    handled = {"department_handling": "李强已当面致歉，送货改由主管安排"}
    do(eng, "mgr1", "handle_in_sales_department", handled, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": 20}
    close(eng, iid, "assess_service_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, **reviewed, "complaint_route": "service_sales_manager", **kept,
                                         **filled, **handled, **ACCEPTED, **IMPLEMENTED, **SUMMARY, **CORRECTIVE,
                                         **penalty, **ARCHIVED})
    assert [task for task, _ in submissions(eng, iid)][:4] == [
        "review_severity_by_office", "propose_service_by_manager", "fill_service_form", "handle_in_sales_department"]
    assert trail(eng, iid) == [
        *SERVICE_START, *ready_and_done("propose_service_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"),
        ("gateway_taken", "office_decision_merge"), ("gateway_taken", "service_decider_gateway"),
        ("gateway_taken", "service_decision_merge"), *ready_and_done("fill_service_form"),
        ("gateway_taken", "department_gateway"), *ready_and_done("handle_in_sales_department"),
        ("gateway_taken", "department_merge"), ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
        ("gateway_taken", "accepted_gateway"), *CLOSING_SERVICE]
    assert [b for b in routes(eng, iid) if b[0] == "service_decider_gateway"] == [
        ("service_decider_gateway", "service_decision_merge",
         "complaint_route == 'service_sales_manager' and handled_by == 'sales_department'")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.3b")
@pytest.mark.rule("P4.SOD")
def test_the_sales_managers_proposal_says_who_handles_it_and_is_never_the_registrants(flows):
    eng = flows
    iid = eng.start("rep_mgr", KEY, registration("service", "minor"))  # a sales rep who is a sales manager
    review(eng, iid, "minor")
    assert offered_to(eng, "propose_service_by_manager", iid) == holders("sales_manager") - {"rep_mgr"}
    requester_may_not_work(eng, iid, "rep_mgr", "propose_service_by_manager",
                           {**PROPOSAL, "handled_by": "sales_department"})
    task = open_task(eng, iid, "propose_service_by_manager")
    with pytest.raises(InvalidData) as undecided:
        eng.complete("mgr1", task["id"], PROPOSAL)
    assert undecided.value.fields["handled_by"]["zh"] == "请选择由销售部处理还是报办公室决定"
    with pytest.raises(InvalidData) as unknown:
        eng.complete("mgr1", task["id"], {**PROPOSAL, "handled_by": "finance"})
    assert set(unknown.value.fields) == {"handled_by"}


@pytest.mark.rule("P4.3")
def test_a_major_service_complaint_is_always_decided_by_the_office(flows):
    """The vice president's proposal has no choice of handler: only a minor complaint may stay in sales."""
    eng = flows
    iid = eng.start("svc1", KEY, registration("service", "major"))
    review(eng, iid, "major")
    task = open_task(eng, iid, "propose_service_by_vp")
    with pytest.raises(InvalidData) as extra:
        eng.complete("vp1", task["id"], {**PROPOSAL, "handled_by": "sales_department"})
    assert set(extra.value.fields) == {"handled_by"}
    do(eng, "vp1", "propose_service_by_vp", PROPOSAL, iid)
    assert [t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]] == ["office_decision"]


@pytest.mark.rule("P4.3c")
@pytest.mark.parametrize("department", list(DEPARTMENT_TASKS))
def test_the_responsible_department_handles_the_complaint_in_its_own_task(flows, department):
    eng = flows
    iid = eng.start("svc1", KEY, registration("service", "minor"))
    review(eng, iid, "minor")
    do(eng, "mgr1", "propose_service_by_manager", {**PROPOSAL, "handled_by": "office"}, iid)
    do(eng, "off1", "office_decision", {"office_decision": "由责任部门约谈责任人并致歉"}, iid)
    do(eng, "mgr1", "fill_service_form", {"service_form_no": "FW-2026-021", "responsible_department": department},
       iid)
    task, role = DEPARTMENT_TASKS[department]
    inst = eng.instance(AUDITOR, iid)
    assert [t["name"] for t in inst["tasks"]] == [task]
    assert offered_to(eng, task, iid) == holders(role)
    offered = inbox_task(eng, sorted(holders(role))[0], task, iid)
    assert (offered["role"], offered["title"]) == (role, {
        "sales": "责任部门处理投诉（销售部）", "office": "责任部门处理投诉（办公室）",
        "quality": "责任部门处理投诉（品质部）", "production": "责任部门处理投诉（生产部）",
        "finance": "责任部门处理投诉（财务部）"}[department])
    with pytest.raises(InvalidData) as empty:
        eng.complete(sorted(holders(role))[0], offered["id"], {"department_handling": "  "})
    assert empty.value.fields["department_handling"]["zh"] == "须写明本部门的处理情况"
    do(eng, sorted(holders(role))[0], task, {"department_handling": "已约谈责任人"}, iid)
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    condition = "default" if department == "sales" else f"responsible_department == '{department}'"
    assert [b for b in routes(eng, iid) if b[0] == "department_gateway"] == [("department_gateway", task, condition)]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.DEADLINE")
def test_an_office_decision_late_by_one_working_day_is_reminded_to_the_general_manager(flows, clock):
    eng = flows
    thursday = local_time("2026-03-05", "10:00")
    clock.set(thursday)
    iid = eng.start("svc1", KEY, registration("service", "major"))
    review(eng, iid, "major")
    do(eng, "vp1", "propose_service_by_vp", PROPOSAL, iid)
    decision = open_task(eng, iid, "office_decision")
    friday = local_time("2026-03-06", "10:00")
    assert parse(decision["due_at"]) == friday

    clock.set(friday + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_gm_of_office_decision", iid) == holders("general_manager")
    assert offered_to(eng, "office_decision", iid) == holders("office")  # stays open
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "office_decision_overdue", "office_decision", False)
    do(eng, "gm1", "remind_gm_of_office_decision", {"reminder_note": "已要求办公室今日决定"}, iid)
    do(eng, "off1", "office_decision", {"office_decision": "同意"}, iid)
    assert offered_to(eng, "fill_service_form", iid) == holders("sales_manager")
    assert events(eng, iid, "task_cancelled") == []
    assert_audit_intact(eng, iid)
