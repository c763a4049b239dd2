"""P4 complaint: the reviewer confirms or re-grades the severity before the complaint is routed (issue 12
item 4): the sales director for a quality complaint, the office for a service complaint. A late review
(8 hours) is reminded to the general manager; the reminder ends when the complaint is taken."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    events,
    holders,
    offered_to,
    open_task,
    parse,
    requester_may_not_work,
    submissions,
    trail,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    IMPLEMENTED,
    KEY,
    PROPOSAL,
    REVIEW_QUALITY,
    REVIEW_SERVICE,
    investigate,
    registration,
    review,
    routes,
    taken,
)


@pytest.mark.rule("P4.REVIEW")
@pytest.mark.rule("P4.2e")
@pytest.mark.rule("P4.REPORT")
def test_a_major_quality_incident_registered_as_minor_reaches_the_director_and_the_general_manager(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "minor"))
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_sales_manager"  # as registered
    assert offered_to(eng, "take_quality_by_manager", iid) == set()
    regraded = review(eng, iid, "critical", note="整批釉面开裂，客户工程停工，属重大质量事故")

    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["severity"], data["complaint_route"]) == ("critical", "quality_general_manager")
    assert offered_to(eng, "take_quality_by_manager", iid) == set()
    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")
    [change] = [e["payload"]["changes"] for e in events(eng, iid, "completed")]
    assert change["severity"] == ["minor", "critical"]  # the registrant's grade stays in the trail
    assert change["complaint_route"] == ["quality_sales_manager", "quality_general_manager"]

    do(eng, "dir", "take_quality_by_director", taken("ZL-2026-060", onsite_visit=False), iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_director", iid) == holders("sales_director")  # forced: seed 410
    do(eng, "dir", "onsite_visit_by_director", {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长",
                                                 "onsite_findings": "整批开裂"}, iid)
    do(eng, "dir", "decide_quality_by_director", {"quality_resolution": "replace", "resolution_details": "整批更换"},
       iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    do(eng, "mgr1", "summarise_complaint", {"root_cause": "釉料批次异常", "improvement_actions": "釉料进厂检验"}, iid)
    told = {"corrective_action_notified_on": "2026-03-02", "notice_channel": "visit",
            "corrective_action_notice": "已上门说明"}
    do(eng, "svc1", "notify_corrective_action", told, iid)
    assert offered_to(eng, "acknowledge_report", iid) == holders("general_manager")
    assert submissions(eng, iid)[0] == ("review_severity_by_director", regraded)
    assert routes(eng, iid)[:2] == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.REVIEW")
@pytest.mark.parametrize(("kind", "registered", "confirmed", "first_task", "role"), [
    pytest.param("quality", "major", "minor", "take_quality_by_manager", "sales_manager", id="quality_downgraded"),
    pytest.param("quality", "major", "major", "take_quality_by_director", "sales_director", id="quality_confirmed"),
    pytest.param("service", "minor", "major", "propose_service_by_vp", "sales_vp", id="service_upgraded"),
    pytest.param("service", "critical", "minor", "propose_service_by_manager", "sales_manager",
                 id="service_downgraded")])
def test_the_route_follows_the_reviewed_severity(flows, kind, registered, confirmed, first_task, role):
    eng = flows
    iid = eng.start("rep1", KEY, registration(kind, registered))
    review(eng, iid, confirmed)
    inst = eng.instance(AUDITOR, iid)
    assert [t["name"] for t in inst["tasks"]] == [first_task]
    assert offered_to(eng, first_task, iid) == holders(role)
    assert inst["data"]["severity"] == confirmed
    assert routes(eng, iid)[0] == (REVIEW_QUALITY if kind == "quality" else REVIEW_SERVICE)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.REVIEW")
@pytest.mark.rule("P4.SOD")
def test_the_review_needs_a_grade_and_is_never_done_by_the_registrant(flows):
    eng = flows
    iid = eng.start("svc_off", KEY, registration("service", "minor"))  # customer service who works in the office
    assert offered_to(eng, "review_severity_by_office", iid) == holders("office") - {"svc_off"}
    requester_may_not_work(eng, iid, "svc_off", "review_severity_by_office", {"severity": "minor"})
    task = open_task(eng, iid, "review_severity_by_office")
    with pytest.raises(InvalidData) as bad:
        eng.complete("off1", task["id"], {"severity": "huge"})
    assert set(bad.value.fields) == {"severity"}
    with pytest.raises(InvalidData) as missing:
        eng.complete("off1", task["id"], {"severity_note": "看不出严重程度"})
    assert set(missing.value.fields) == {"severity"}
    assert open_task(eng, iid, "review_severity_by_office")["status"] == "ready"


@pytest.mark.rule("P4.DEADLINE")
def test_a_review_late_by_8_hours_is_reminded_to_the_general_manager_until_the_complaint_is_taken(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("quality", "major"))
    task = open_task(eng, iid, "review_severity_by_director")
    assert parse(task["due_at"]) == T0 + timedelta(hours=8)

    clock.set(T0 + timedelta(hours=7, minutes=59))
    assert eng.fire_due_timers() == 0
    clock.set(T0 + timedelta(hours=8, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_gm_of_quality_review", iid) == holders("general_manager")
    assert offered_to(eng, "review_severity_by_director", iid) == holders("sales_director")  # still open
    assert [t["overdue"] for t in eng.inbox("dir") if t["instance_id"] == iid] == [True]
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "quality_review_overdue", "review_severity_by_director", False)

    review(eng, iid, "major")
    assert offered_to(eng, "remind_gm_of_quality_review", iid) == holders("general_manager")  # not yet dealt with
    do(eng, "dir", "take_quality_by_director", taken("ZL-2026-061", onsite_visit=False), iid)
    # taken: the reminder about the review has nothing left to chase and ends with the first response
    assert offered_to(eng, "remind_gm_of_quality_review", iid) == set()
    assert [e["task"] for e in events(eng, iid, "task_cancelled")] == ["remind_gm_of_quality_review"]
    assert offered_to(eng, "quality_investigation", iid) == holders("quality")
    assert trail(eng, iid)[:8] == [
        ("started", None), ("gateway_taken", "review_gateway"), ("task_ready", "review_severity_by_director"),
        ("timers_due", None), ("timer_fired", "quality_review_overdue"), ("escalated", "quality_review_overdue"),
        ("task_ready", "remind_gm_of_quality_review"), ("completed", "review_severity_by_director")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.DEADLINE")
def test_the_general_manager_deals_with_a_late_office_review(flows, clock):
    eng = flows
    iid = eng.start("svc1", KEY, registration("service", "minor"))
    clock.set(T0 + timedelta(hours=9))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "remind_gm_of_service_review", iid) == holders("general_manager")
    with pytest.raises(InvalidData) as empty:
        eng.complete("gm1", open_task(eng, iid, "remind_gm_of_service_review")["id"], {"reminder_note": " "})
    assert empty.value.fields["reminder_note"]["zh"] == "须写明督促情况"
    reminded = {"reminder_note": "已督促办公室当日审核"}
    do(eng, "gm1", "remind_gm_of_service_review", reminded, iid)
    review(eng, iid, "minor", reviewer="off2")
    do(eng, "mgr1", "propose_service_by_manager", {**PROPOSAL, "handled_by": "office"}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["data"]["reminder_note"], [t["name"] for t in inst["tasks"]]) == (
        reminded["reminder_note"], ["office_decision"])
    assert events(eng, iid, "task_cancelled") == []
    assert_audit_intact(eng, iid)
