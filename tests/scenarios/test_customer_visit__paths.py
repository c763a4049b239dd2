"""P6 customer_visit (客户参观申请): every path from the start form to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai; the visits below are
on Thursday 2026-03-05, so the reception deadline (the boundary timer) is Wednesday
2026-03-04 09:00 and the visit record waits until Thursday 18:00 (company time).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import InvalidData, NotFound
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    branches,
    company_day,
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

KEY = "customer_visit"
ROUTING_GATEWAYS = {"approver_gateway", "approved_gateway", "followup_gateway", "followup_done_gateway"}
TOO_LATE = "参观申请须至少提前一天填写"

VISIT_DAY = company_day(T0, 3)  # Thursday 2026-03-05
DAY_BEFORE = company_day(T0, 2)  # Wednesday 2026-03-04

RECEPTION = {"reception_plan": "9:30 会议室介绍；10:00 参观生产线与化验室；11:30 工作餐。化验数据不对外。",
             "host_name": "王经理"}
ACKNOWLEDGED = {"reminder_acknowledged": True, "reminder_comment": "已电话督促申请人当天落实"}


def visit_form(customer_class: str, visit_date: str = VISIT_DAY) -> dict:
    """The customer visit form (《客户参观申请表》) as a sales rep fills it in."""
    return {"customer_name": "芜湖商砼有限公司", "customer_class": customer_class, "company": "芜湖商砼有限公司采购部",
            "visitors": "李明（采购经理）、赵静（技术主管）", "visitor_count": 2,
            "purpose": "考察熟料生产线，洽谈年度供货", "visit_date": visit_date, "places": "熟料生产线、中心化验室",
            "handling_suggestion": "由销售部陪同，安排技术部介绍质量控制"}


def routes(eng, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]






def wait_for_visit_day(eng, clock, iid: int, starter: str):  # the instant it fired
    """Nothing happens until 18:00 on the visit day; then the record is offered to the applicant."""
    clock.set(local_time(VISIT_DAY, "17:59"))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "record_visit", iid) == set()
    fired_at = local_time(VISIT_DAY, "18:01")
    clock.set(fired_at)
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "record_visit", iid) == {starter}
    record = inbox_task(eng, starter, "record_visit", iid)
    assert (record["role"], record["assignee"]) == ("initiator", starter)
    assert parse(record["created_at"]) == fired_at
    assert parse(record["due_at"]) == fired_at + timedelta(days=2)
    return fired_at


# -- key accounts (统销客户): the sales department approves ------------------------------------------------


@pytest.mark.rule("P6.1")
@pytest.mark.rule("P6.2")
@pytest.mark.rule("P6.3a")
@pytest.mark.rule("P6.3b")
@pytest.mark.rule("P6.SOD")
def test_key_account_approved_reception_in_time_no_followup(flows, clock):
    eng, starter = flows, "rep_mgr"  # a sales rep who is also a sales manager
    form = visit_form("key_account")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "leader_approval", iid) == set()
    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "sales_approval", {"approved": True})
    approved = {"approved": True, "comment": "同意，按二号参观路线接待，注意保密"}
    clock.advance(hours=1)
    do(eng, "mgr2", "sales_approval", approved, iid)

    assert offered_to(eng, "arrange_reception", iid) == {starter}
    clock.advance(hours=1)
    do(eng, starter, "arrange_reception", RECEPTION, iid)

    # arranged in time: the deadline passes without a reminder
    clock.set(local_time(DAY_BEFORE, "09:01"))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "reception_overdue_reminder", iid) == set()

    wait_for_visit_day(eng, clock, iid, starter)
    recorded = {"visit_summary": "客户对熟料质量满意，无遗留事项", "followup_needed": False}
    clock.advance(hours=1)
    do(eng, starter, "record_visit", recorded, iid)

    assert offered_to(eng, "handle_followup", iid) == set()
    assert_completed(eng, iid, starter, {**form, "visit_approver": "sales_manager", **approved, **RECEPTION,
                                         **recorded})
    assert submissions(eng, iid) == [("sales_approval", approved), ("arrange_reception", RECEPTION),
                                     ("record_visit", recorded)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        *ready_and_done("arrange_reception"),
        ("timers_due", None), ("timer_fired", "wait_for_visit_day"),
        *ready_and_done("record_visit"), ("gateway_taken", "followup_gateway"), ("gateway_taken", "visit_done_merge"),
        ("ended", None)]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["wait_for_visit_day"]]
    assert events(eng, iid, "escalated") == []
    assert end_events(eng, iid) == ["visit_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("approver_gateway", "sales_approval", "visit_approver == 'sales_manager'"),
        ("approved_gateway", "arrange_reception", "approved == True"),
        ("followup_gateway", "visit_done_merge", "default")]


@pytest.mark.rule("P6.2")
def test_key_account_rejected(flows, clock):
    eng, starter = flows, "rep1"
    form = visit_form("key_account")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager")
    rejected = {"approved": False, "comment": "当周生产线检修，不便接待，请改期"}
    clock.advance(hours=3)
    do(eng, "mgr1", "sales_approval", rejected, iid)

    assert offered_to(eng, "arrange_reception", iid) == set()
    clock.set(local_time(VISIT_DAY, "18:01"))
    assert eng.fire_due_timers() == 0  # no timer outlives the rejection
    assert_completed(eng, iid, starter, {**form, "visit_approver": "sales_manager", **rejected})
    seen_by_applicant = eng.instance(starter, iid)["data"]
    assert (seen_by_applicant["approved"], seen_by_applicant["comment"]) == (False, rejected["comment"])
    assert submissions(eng, iid) == [("sales_approval", rejected)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        ("ended", None)]
    assert end_events(eng, iid) == ["visit_rejected"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("approver_gateway", "sales_approval", "visit_approver == 'sales_manager'"),
        ("approved_gateway", "visit_rejected", "default")]


# -- local customers (地销客户): the division leader approves ------------------------------------------------


@pytest.mark.rule("P6.2")
@pytest.mark.rule("P6.SOD")
def test_local_rejected_by_division_leader(flows, clock):
    eng, starter = flows, "rep_lead"  # a sales rep who is also a division leader
    form = visit_form("local")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == set()
    assert offered_to(eng, "leader_approval", iid) == holders("division_leader") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "leader_approval", {"approved": True})
    rejected = {"approved": False, "comment": "该客户欠款未清，暂缓接待"}
    clock.advance(hours=2)
    do(eng, "lead", "leader_approval", rejected, iid)

    assert offered_to(eng, "arrange_reception", iid) == set()
    assert_completed(eng, iid, starter, {**form, "visit_approver": "division_leader", **rejected})
    assert eng.instance(starter, iid)["data"]["comment"] == rejected["comment"]
    assert submissions(eng, iid) == [("leader_approval", rejected)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"),
        *ready_and_done("leader_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        ("ended", None)]
    assert end_events(eng, iid) == ["visit_rejected"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("approver_gateway", "leader_approval", "default"),
        ("approved_gateway", "visit_rejected", "default")]


@pytest.mark.rule("P6.2")
@pytest.mark.rule("P6.3a")
@pytest.mark.rule("P6.3b")
@pytest.mark.rule("P6.3c")
def test_local_approved_reception_overdue_reminder_then_followup_twice(flows, clock):
    eng, starter = flows, "rep2"
    form = visit_form("local")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == set()
    assert offered_to(eng, "leader_approval", iid) == holders("division_leader")
    approved = {"approved": True, "comment": "同意，由销售部全程陪同"}
    clock.advance(hours=1)
    do(eng, "rep_lead", "leader_approval", approved, iid)  # a leader who is a rep may approve another's request

    assert offered_to(eng, "arrange_reception", iid) == {starter}
    # not arranged: nothing before 09:00 the day before the visit ...
    clock.set(local_time(DAY_BEFORE, "08:59"))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "reception_overdue_reminder", iid) == set()
    # ... then every sales manager is reminded, and the reception task stays with the applicant
    clock.set(local_time(DAY_BEFORE, "09:01"))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "reception_overdue_reminder", iid) == holders("sales_manager")
    assert offered_to(eng, "arrange_reception", iid) == {starter}
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "reception_overdue", "arrange_reception", False)

    clock.advance(minutes=30)
    do(eng, "mgr1", "reception_overdue_reminder", ACKNOWLEDGED, iid)
    assert eng.instance(starter, iid)["status"] == "running"
    assert offered_to(eng, "arrange_reception", iid) == {starter}
    clock.advance(minutes=30)
    do(eng, starter, "arrange_reception", RECEPTION, iid)

    wait_for_visit_day(eng, clock, iid, starter)
    recorded = {"visit_summary": "客户关注 P·O 42.5 早期强度，要求提供检测报告", "followup_needed": True}
    clock.advance(hours=1)
    do(eng, starter, "record_visit", recorded, iid)

    rounds = [{"followup_notes": "已索取检测报告，待技术部出具", "followup_done": False},
              {"followup_notes": "检测报告已寄出，等待客户确认", "followup_done": False},
              {"followup_notes": "客户确认收到报告，签订年度供货意向", "followup_done": True}]
    for notes in rounds:
        assert offered_to(eng, "handle_followup", iid) == {starter}
        followup = inbox_task(eng, starter, "handle_followup", iid)
        assert parse(followup["due_at"]) == parse(followup["created_at"]) + timedelta(days=7)
        assert parse(followup["created_at"]) == clock.now()
        clock.advance(days=2)
        do(eng, starter, "handle_followup", notes, iid)

    assert_completed(eng, iid, starter, {**form, "visit_approver": "division_leader", **approved, **ACKNOWLEDGED,
                                         **RECEPTION, **recorded, **rounds[-1]})
    assert submissions(eng, iid) == [
        ("leader_approval", approved), ("reception_overdue_reminder", ACKNOWLEDGED), ("arrange_reception", RECEPTION),
        ("record_visit", recorded), *[("handle_followup", r) for r in rounds]]
    followup_round = [*ready_and_done("handle_followup"), ("gateway_taken", "followup_done_gateway")]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"),
        *ready_and_done("leader_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        ("task_ready", "arrange_reception"),
        ("timers_due", None), ("timer_fired", "reception_overdue"), ("escalated", "reception_overdue"),
        *ready_and_done("reception_overdue_reminder"),
        ("completed", "arrange_reception"),
        ("timers_due", None), ("timer_fired", "wait_for_visit_day"),
        *ready_and_done("record_visit"), ("gateway_taken", "followup_gateway"),
        ("gateway_taken", "followup_merge"), *followup_round,
        ("gateway_taken", "followup_merge"), *followup_round,
        ("gateway_taken", "followup_merge"), *followup_round,
        ("gateway_taken", "visit_done_merge"), ("ended", None)]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [
        ["reception_overdue"], ["wait_for_visit_day"]]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "division_leader", "initiator", "sales_manager", "initiator", "initiator", "initiator", "initiator"]
    assert end_events(eng, iid) == ["visit_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("approver_gateway", "leader_approval", "default"),
        ("approved_gateway", "arrange_reception", "approved == True"),
        ("followup_gateway", "followup_merge", "followup_needed == True"),
        ("followup_done_gateway", "followup_merge", "default"),
        ("followup_done_gateway", "followup_merge", "default"),
        ("followup_done_gateway", "visit_done_merge", "followup_done == True")]


@pytest.mark.rule("P6.3a")
def test_reminder_left_open_keeps_the_visit_running_until_the_manager_handles_it(flows, clock):
    """The reminder runs beside the main path: the instance ends only when both are done."""
    eng, starter = flows, "rep1"
    form = visit_form("key_account")
    iid = eng.start(starter, KEY, form)
    approved = {"approved": True, "comment": "同意"}
    do(eng, "mgr1", "sales_approval", approved, iid)

    clock.set(local_time(DAY_BEFORE, "09:01"))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "reception_overdue_reminder", iid) == holders("sales_manager")
    clock.advance(hours=2)
    do(eng, starter, "arrange_reception", RECEPTION, iid)
    wait_for_visit_day(eng, clock, iid, starter)
    recorded = {"visit_summary": "参观顺利", "followup_needed": False}
    do(eng, starter, "record_visit", recorded, iid)

    inst = eng.instance(starter, iid)
    assert inst["status"] == "running"
    assert [t["name"] for t in inst["tasks"]] == ["reception_overdue_reminder"]
    assert offered_to(eng, "reception_overdue_reminder", iid) == holders("sales_manager")
    assert events(eng, iid, "ended") == []

    clock.advance(hours=1)
    do(eng, "mgr2", "reception_overdue_reminder", ACKNOWLEDGED, iid)
    assert_completed(eng, iid, starter, {**form, "visit_approver": "sales_manager", **approved, **RECEPTION,
                                         **recorded, **ACKNOWLEDGED})
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        ("task_ready", "arrange_reception"),
        ("timers_due", None), ("timer_fired", "reception_overdue"), ("escalated", "reception_overdue"),
        ("task_ready", "reception_overdue_reminder"),
        ("completed", "arrange_reception"),
        ("timers_due", None), ("timer_fired", "wait_for_visit_day"),
        *ready_and_done("record_visit"), ("gateway_taken", "followup_gateway"), ("gateway_taken", "visit_done_merge"),
        ("completed", "reception_overdue_reminder"), ("ended", None)]
    assert end_events(eng, iid) == ["reminder_handled"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("approver_gateway", "sales_approval", "visit_approver == 'sales_manager'"),
        ("approved_gateway", "arrange_reception", "approved == True"),
        ("followup_gateway", "visit_done_merge", "default")]


# -- "at least one day before the visit" (seed 256, 365) ---------------------------------------------------

# (the instant the rep applies, the visit date, accepted?)
APPLICATIONS = [
    pytest.param(T0, company_day(T0), False, id="today"),
    pytest.param(T0, company_day(T0, -1), False, id="yesterday"),
    pytest.param(T0, company_day(T0, 1), True, id="tomorrow"),
    # 00:30 on Tuesday in Shanghai is still Monday in UTC: "today" is the company's day
    pytest.param(local_time("2026-03-03", "00:30"), "2026-03-03", False, id="today_after_midnight_company_time"),
    pytest.param(local_time("2026-03-03", "00:30"), "2026-03-04", True, id="tomorrow_after_midnight_company_time"),
    pytest.param(local_time("2026-03-02", "23:30"), "2026-03-03", True, id="tomorrow_late_in_the_evening"),
]


@pytest.mark.rule("P6.1")
@pytest.mark.rule("P6.4")
@pytest.mark.parametrize(("applied_at", "visit_date", "accepted"), APPLICATIONS)
def test_visit_date_must_be_at_least_tomorrow(flows, clock, applied_at, visit_date, accepted):
    eng, starter = flows, "rep1"
    clock.set(applied_at)
    form = visit_form("key_account", visit_date)

    if not accepted:
        chains_before = [r.chain for r in eng.verify_chains()]  # the monthly survey is armed already
        with pytest.raises(InvalidData) as refused:
            eng.start(starter, KEY, form)
        assert set(refused.value.fields) == {"visit_date"}
        assert refused.value.fields["visit_date"]["zh"] == TOO_LATE
        assert refused.value.fields["visit_date"]["en"]
        # nothing was started: no instance, no trail, no task
        assert [r.chain for r in eng.verify_chains()] == chains_before
        with pytest.raises(NotFound):
            eng.instance(AUDITOR, len(chains_before))
        assert offered_to(eng, "sales_approval") == set()
        return

    iid = eng.start(starter, KEY, form)
    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["data"]["visit_date"], inst["started_by"]) == ("running", visit_date, starter)
    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager")
    # applied after 09:00 the day before the visit: the approval is overdue at once, and the sales director
    # is told in the same step (P6.4); earlier, nothing but the approval
    late = clock.now() > local_time(company_day(local_time(visit_date, "09:00"), -1), "09:00")
    assert trail(eng, iid) == [("started", None), ("gateway_taken", "approver_gateway"),
                               ("task_ready", "sales_approval"),
                               *([("timer_fired", "sales_approval_overdue"), ("escalated", "sales_approval_overdue"),
                                  ("task_ready", "sales_approval_escalation")] if late else [])]
    assert offered_to(eng, "sales_approval_escalation", iid) == (holders("sales_director") if late else set())
    assert_audit_intact(eng, iid)


# -- deadlines (issue 12, our own choice): due in one working day, but by 09:00 the day before the visit at the
# latest; then the next level up is told; undecided when the visit date begins, the request lapses -------------

def overdue_escalation(eng, clock, iid: int, approval: str, due, escalated_to: str) -> None:
    """Nothing before `due`; then the next level up gets the escalation and the approval stays open."""
    task = inbox_task(eng, sorted(offered_to(eng, approval, iid))[0], approval, iid)
    assert parse(task["due_at"]) == due
    clock.set(due - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, f"{approval}_escalation", iid) == set()
    clock.set(due + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, f"{approval}_escalation", iid) == holders(escalated_to)
    assert open_task(eng, iid, approval)["id"] == task["id"]
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]) == (f"{approval}_overdue",
                                                        {"attached_to": approval, "interrupting": False})


@pytest.mark.rule("P6.4")
@pytest.mark.rule("P6.2")
def test_key_account_approval_overdue_after_one_working_day_the_sales_director_follows_it_up(flows, clock):
    eng, starter = flows, "rep1"
    form = visit_form("key_account")  # applied Monday 09:00 for Thursday
    iid = eng.start(starter, KEY, form)
    # one working day (Tuesday 09:00) comes before 09:00 the day before the visit (Wednesday)
    overdue_escalation(eng, clock, iid, "sales_approval", local_time(company_day(T0, 1), "09:00"), "sales_director")

    approved = {"approved": True, "comment": "同意"}
    clock.advance(hours=1)
    do(eng, "mgr1", "sales_approval", approved, iid)
    assert offered_to(eng, "arrange_reception", iid) == {starter}
    note = {"sales_escalation_note": "已督促销售部经理，当日已审批"}
    clock.advance(hours=1)
    do(eng, "dir", "sales_approval_escalation", note, iid)
    do(eng, starter, "arrange_reception", RECEPTION, iid)
    wait_for_visit_day(eng, clock, iid, starter)
    recorded = {"visit_summary": "参观顺利", "followup_needed": False}
    do(eng, starter, "record_visit", recorded, iid)

    assert_completed(eng, iid, starter, {**form, "visit_approver": "sales_manager", **approved, **note, **RECEPTION,
                                         **recorded})
    assert eng.instance(starter, iid)["outcome"] == "approved"
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "approver_gateway"), ("task_ready", "sales_approval"),
        ("timers_due", None), ("timer_fired", "sales_approval_overdue"), ("escalated", "sales_approval_overdue"),
        ("task_ready", "sales_approval_escalation"),
        ("completed", "sales_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        ("task_ready", "arrange_reception"), ("completed", "sales_approval_escalation"),
        ("completed", "arrange_reception"), ("timers_due", None), ("timer_fired", "wait_for_visit_day"),
        *ready_and_done("record_visit"), ("gateway_taken", "followup_gateway"), ("gateway_taken", "visit_done_merge"),
        ("ended", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "sales_manager", "sales_director", "initiator", "initiator"]
    assert end_events(eng, iid) == ["visit_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P6.4")
@pytest.mark.rule("P6.2")
def test_local_approval_due_by_nine_the_day_before_the_visit_the_general_manager_follows_it_up(flows, clock):
    eng, starter = flows, "rep2"
    clock.set(local_time(company_day(T0, 1), "15:00"))  # Tuesday 15:00 for Thursday
    form = visit_form("local")
    iid = eng.start(starter, KEY, form)
    # one working day would be Wednesday 15:00: 09:00 on Wednesday, the day before the visit, comes first
    overdue_escalation(eng, clock, iid, "leader_approval", local_time(DAY_BEFORE, "09:00"), "general_manager")

    note = {"leader_escalation_note": "已提醒分管领导今日内审批"}
    do(eng, "gm1", "leader_approval_escalation", note, iid)
    approved = {"approved": True, "comment": "同意"}
    clock.advance(hours=2)
    do(eng, "lead", "leader_approval", approved, iid)
    # approved after the reception deadline (09:00 the day before): the sales manager is reminded at once
    assert offered_to(eng, "reception_overdue_reminder", iid) == holders("sales_manager")
    do(eng, "mgr1", "reception_overdue_reminder", ACKNOWLEDGED, iid)
    do(eng, starter, "arrange_reception", RECEPTION, iid)
    wait_for_visit_day(eng, clock, iid, starter)
    recorded = {"visit_summary": "参观顺利", "followup_needed": False}
    do(eng, starter, "record_visit", recorded, iid)

    assert_completed(eng, iid, starter, {**form, "visit_approver": "division_leader", **note, **approved,
                                         **ACKNOWLEDGED, **RECEPTION, **recorded})
    assert eng.instance(starter, iid)["outcome"] == "approved"
    assert submissions(eng, iid) == [("leader_approval_escalation", note), ("leader_approval", approved),
                                     ("reception_overdue_reminder", ACKNOWLEDGED), ("arrange_reception", RECEPTION),
                                     ("record_visit", recorded)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "division_leader", "general_manager", "initiator", "sales_manager", "initiator"]
    assert end_events(eng, iid) == ["visit_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P6.5")
@pytest.mark.parametrize(("customer_class", "approval", "escalated_to", "lapsed_end"), [
    ("key_account", "sales_approval", "sales_director", "lapsed_at_sales"),
    ("local", "leader_approval", "general_manager", "lapsed_at_leader"),
])
def test_still_undecided_when_the_visit_date_begins_the_request_lapses(flows, clock, customer_class, approval,
                                                                      escalated_to, lapsed_end):
    eng, starter = flows, "rep1"
    form = visit_form(customer_class)
    iid = eng.start(starter, KEY, form)
    clock.set(local_time(DAY_BEFORE, "09:00"))
    assert eng.fire_due_timers() == 1  # the escalation (due Tuesday 09:00)
    assert offered_to(eng, f"{approval}_escalation", iid) == holders(escalated_to)

    clock.set(local_time(DAY_BEFORE, "23:59"))  # the approval can still be given on the day before ...
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, approval, iid) != set()
    clock.set(local_time(VISIT_DAY, "00:01"))  # ... not on the visit date
    assert eng.fire_due_timers() == 1

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "lapsed", [])
    assert offered_to(eng, approval, iid) == offered_to(eng, f"{approval}_escalation", iid) == set()
    assert offered_to(eng, "arrange_reception", iid) == set()
    assert inst["data"] == {**form, "visit_approver": "sales_manager" if approval == "sales_approval"
                            else "division_leader"}
    assert trail(eng, iid)[-7:] == [
        ("task_ready", f"{approval}_escalation"), ("timers_due", None), ("task_cancelled", approval),
        ("task_cancelled", f"{approval}_escalation"), ("timer_fired", f"{approval}_deadline"),
        ("escalated", f"{approval}_deadline"), ("ended", None)]
    assert [(e["task"], e["payload"]["interrupting"]) for e in events(eng, iid, "escalated")] == [
        (f"{approval}_overdue", False), (f"{approval}_deadline", True)]
    assert end_events(eng, iid) == [lapsed_end]
    clock.set(local_time(VISIT_DAY, "18:01"))
    assert eng.fire_due_timers() == 0  # no timer outlives the lapse
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P6.4")
def test_an_approval_given_in_time_raises_no_escalation_and_no_lapse(flows, clock):
    eng, starter = flows, "rep1"
    iid = eng.start(starter, KEY, visit_form("local"))
    clock.advance(hours=20)
    do(eng, "lead", "leader_approval", {"approved": False, "comment": "当周不便接待"}, iid)
    clock.set(local_time(VISIT_DAY, "00:01"))
    assert eng.fire_due_timers() == 0
    assert events(eng, iid, "escalated") == []
    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "rejected")
    assert end_events(eng, iid) == ["visit_rejected"]


@pytest.mark.rule("P6.5")
def test_a_visit_called_from_an_inquiry_lapses_and_the_inquiry_goes_on(flows, clock):
    """P1 presale runs this process as a call activity: its lapse ends the visit, not the inquiry."""
    eng, starter = flows, "rep2"
    inquiry = {"customer_name": "芜湖商砼有限公司", "customer_class": "local", "company": "芜湖商砼有限公司采购部",
               "contact": "李明 0553-5551234", "address": "安徽省芜湖市弋江区中山南路 88 号",
               "products": "P·O 42.5 散装水泥", "requirements": "年需求约 6000 吨", "channel": "on_site",
               "inquiry_purpose": "了解年度供货价格与供货能力", "identity_checked": True}
    iid = eng.start(starter, "presale", inquiry)
    do(eng, starter, "analyse_needs", {"needs_summary": "商砼站扩产", "products_introduced": "介绍 P·O 42.5",
                                       "special_requirements": False, "sample_wanted": False,
                                       "visit_wanted": True}, iid)
    do(eng, starter, "prepare_visit_request", {**visit_form("local"), "customer_name": inquiry["customer_name"]}, iid)
    assert offered_to(eng, "leader_approval", iid) == holders("division_leader")

    clock.set(local_time(VISIT_DAY, "00:01"))  # nobody decided: the escalation and the lapse fall due together
    eng.fire_due_timers()
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("running", None)  # the inquiry goes on ...
    assert offered_to(eng, "leader_approval", iid) == offered_to(eng, "leader_approval_escalation", iid) == set()
    assert offered_to(eng, "arrange_reception", iid) == set()  # ... without the visit
    assert [e["task"] for e in events(eng, iid, "escalated")][-1] == "leader_approval_deadline"
    assert "leader_approval" not in [t["name"] for t in inst["tasks"]] and inst["tasks"] != []
    assert_audit_intact(eng, iid)
