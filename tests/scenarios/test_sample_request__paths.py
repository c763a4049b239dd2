"""P5 sample_request (样品提供申请): every path from the start form to an end event.

Each path asserts who was offered each task, the data at the end (each step's
submission and the DMN output sample_route), the audit trail (with the branch
each routing gateway took and the end event reached), that replay reproduces
it and every chain verifies, and that the instance is completed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import InvalidData
from tests.scenarios.driver import (
    SHANGHAI,
    assert_audit_intact,
    assert_completed,
    branches,
    do,
    end_events,
    events,
    history,
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

KEY = "sample_request"
ROUTING_GATEWAYS = {"route_gateway", "sales_approved_gateway", "quality_approved_gateway",
                    "countersign_approved_gateway", "leader_approved_gateway", "shipping_gateway"}
REJECT_MESSAGE = "驳回时须填写驳回理由"

SAMPLING = {"batch_no": "QC-20260302-07"}
# shipped the day the request is approved (T0's day): a day that has not come yet is refused
SHIPPED = {"shipped_on": "2026-03-02", "carrier": "顺丰速运", "tracking_no": "SF1234567890"}
FEEDBACK = {"feedback": "强度达标，和易性好，客户准备试用于二期工程", "satisfaction": 5}


def request(customer_class: str) -> dict:
    """The sample request form (《样品提供申请表》) as a sales rep fills it in."""
    return {"customer_name": "合肥建工集团", "customer_class": customer_class, "product": "P·O 42.5 普通硅酸盐水泥",
            "spec": "袋装 50kg", "quantity": 100, "purpose": "project_bid",
            "delivery_address": "合肥市蜀山区长江西路 88 号工地", "wanted_by": "2026-03-20", "remarks": "投标急用"}


def routes(eng, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]






# -- key accounts (统销客户): sales department, then quality; the dispatch office ships -----------------


@pytest.mark.rule("P5.1")
@pytest.mark.rule("P5.2a")
@pytest.mark.rule("P5.3")
@pytest.mark.rule("P5.4")
@pytest.mark.rule("P5.SOD")
def test_key_account_approved_all_the_way(flows, clock):
    eng, starter = flows, "rep_mgr"  # a sales rep who is also a sales manager
    form = request("key_account")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "sales_approval", {"approved": True, "comment": "自己批"})
    eng.claim("mgr1", open_task(eng, iid, "sales_approval")["id"])
    assert offered_to(eng, "sales_approval", iid) == {"mgr1"}  # claimed: gone from the other inboxes
    sales_ok = {"approved": True, "comment": "同意，重点工程项目"}
    clock.advance(hours=1)
    do(eng, "mgr1", "sales_approval", sales_ok, iid)

    assert offered_to(eng, "quality_approval", iid) == holders("quality")
    task = inbox_task(eng, "qa2", "quality_approval", iid)
    assert eng.task("qa2", task["id"])["instance_data"]["comment"] == sales_ok["comment"]  # sees sales' opinion
    quality_ok = {"approved": True, "comment": "同意，按出厂批取样"}
    clock.advance(hours=1)
    do(eng, "qa2", "quality_approval", quality_ok, iid)

    assert offered_to(eng, "take_sample", iid) == holders("quality")
    clock.advance(hours=1)
    do(eng, "qa1", "take_sample", SAMPLING, iid)

    assert offered_to(eng, "dispatch_ship", iid) == holders("dispatcher")
    shipped_at = clock.advance(hours=5)
    do(eng, "disp", "dispatch_ship", SHIPPED, iid)

    assert offered_to(eng, "collect_feedback", iid) == {starter}
    feedback = inbox_task(eng, starter, "collect_feedback", iid)
    assert (feedback["role"], feedback["assignee"]) == ("initiator", starter)
    assert parse(feedback["created_at"]) == shipped_at
    assert parse(feedback["due_at"]) == shipped_at + timedelta(days=14)
    assert feedback["overdue"] is False
    clock.advance(days=14, minutes=1)
    assert inbox_task(eng, starter, "collect_feedback", iid)["overdue"] is True
    do(eng, starter, "collect_feedback", FEEDBACK, iid)

    assert_completed(eng, iid, starter, {**form, "sample_route": "key_account", **sales_ok, **quality_ok,
                                         **SAMPLING, **SHIPPED, **FEEDBACK})
    assert submissions(eng, iid) == [("sales_approval", sales_ok), ("quality_approval", quality_ok),
                                     ("take_sample", SAMPLING), ("dispatch_ship", SHIPPED),
                                     ("collect_feedback", FEEDBACK)]
    assert [e["actor"] for e in events(eng, iid, "claimed")] == ["mgr1", "qa2", "qa1", "disp"]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "sales_approved_gateway"),
        *ready_and_done("quality_approval"), ("gateway_taken", "quality_approved_gateway"),
        ("gateway_taken", "approval_merge"),
        *ready_and_done("take_sample"), ("gateway_taken", "shipping_gateway"),
        *ready_and_done("dispatch_ship"), ("gateway_taken", "shipped_merge"),
        *ready_and_done("collect_feedback"), ("ended", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "sales_manager", "quality", "quality", "dispatcher", "initiator"]
    assert end_events(eng, iid) == ["request_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "sales_approval", "sample_route == 'key_account'"),
        ("sales_approved_gateway", "quality_approval", "approved == True"),
        ("quality_approved_gateway", "approval_merge", "approved == True"),
        ("shipping_gateway", "dispatch_ship", "sample_route == 'key_account'")]


@pytest.mark.rule("P5.2a")
@pytest.mark.rule("P5.5")
def test_key_account_rejected_by_sales(flows, clock):
    eng, starter = flows, "rep1"
    form = request("key_account")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager")
    rejected = {"approved": False, "comment": "该客户本年度已提供过同型号样品"}
    clock.advance(hours=2)
    do(eng, "mgr2", "sales_approval", rejected, iid)

    assert offered_to(eng, "quality_approval", iid) == set()
    assert_completed(eng, iid, starter, {**form, "sample_route": "key_account", **rejected})
    seen_by_applicant = eng.instance(starter, iid)
    assert (seen_by_applicant["data"]["approved"], seen_by_applicant["data"]["comment"]) == (False, rejected["comment"])
    [ended] = [e for e in eng.history(starter, iid) if e["kind"] == "ended"]
    assert ended["payload"]["end_events"] == ["rejected_by_sales"]
    assert submissions(eng, iid) == [("sales_approval", rejected)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "sales_approved_gateway"), ("ended", None)]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "sales_approval", "sample_route == 'key_account'"),
        ("sales_approved_gateway", "rejected_by_sales", "default")]


@pytest.mark.rule("P5.2a")
@pytest.mark.rule("P5.5")
@pytest.mark.rule("P5.SOD")
def test_key_account_rejected_by_quality(flows, clock):
    eng, starter = flows, "rep_qa"  # a sales rep who also works in the quality department
    form = request("key_account")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager")
    sales_ok = {"approved": True, "comment": "同意"}
    clock.advance(hours=1)
    do(eng, "mgr2", "sales_approval", sales_ok, iid)

    assert offered_to(eng, "quality_approval", iid) == holders("quality") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "quality_approval", {"approved": True})
    rejected = {"approved": False, "comment": "该批号库存不足，无法取样"}
    clock.advance(hours=1)
    do(eng, "qa1", "quality_approval", rejected, iid)

    assert offered_to(eng, "take_sample", iid) == set()
    assert_completed(eng, iid, starter, {**form, "sample_route": "key_account", **rejected})
    assert eng.instance(starter, iid)["data"]["comment"] == rejected["comment"]
    assert submissions(eng, iid) == [("sales_approval", sales_ok), ("quality_approval", rejected)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "sales_approved_gateway"),
        *ready_and_done("quality_approval"), ("gateway_taken", "quality_approved_gateway"), ("ended", None)]
    assert end_events(eng, iid) == ["rejected_by_quality"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "sales_approval", "sample_route == 'key_account'"),
        ("sales_approved_gateway", "quality_approval", "approved == True"),
        ("quality_approved_gateway", "rejected_by_quality", "default")]


# -- local customers (地销客户): quality countersigns, the division leader approves, the sales office ships --


@pytest.mark.rule("P5.1")
@pytest.mark.rule("P5.2b")
@pytest.mark.rule("P5.3")
@pytest.mark.rule("P5.4")
@pytest.mark.rule("P5.SOD")
def test_local_approved(flows, clock):
    eng, starter = flows, "rep_qa"
    form = request("local")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "sales_approval", iid) == set()
    assert offered_to(eng, "quality_countersign", iid) == holders("quality") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "quality_countersign", {"approved": True})
    countersigned = {"approved": True, "comment": "会签同意"}
    clock.advance(hours=1)
    do(eng, "qa2", "quality_countersign", countersigned, iid)

    assert offered_to(eng, "leader_approval", iid) == holders("division_leader")
    leader_ok = {"approved": True, "comment": "同意，注意控制数量"}
    clock.advance(hours=1)
    do(eng, "lead", "leader_approval", leader_ok, iid)

    assert offered_to(eng, "take_sample", iid) == holders("quality")  # no separation of duties here
    clock.advance(hours=1)
    do(eng, "qa1", "take_sample", SAMPLING, iid)

    assert offered_to(eng, "dispatch_ship", iid) == set()
    assert offered_to(eng, "sales_ship", iid) == holders("sales_rep")  # every sales rep, the applicant too
    shipped_at = clock.advance(hours=3)
    do(eng, "rep1", "sales_ship", SHIPPED, iid)

    assert offered_to(eng, "collect_feedback", iid) == {starter}
    feedback = inbox_task(eng, starter, "collect_feedback", iid)
    assert parse(feedback["due_at"]) == parse(feedback["created_at"]) + timedelta(days=14)
    assert parse(feedback["created_at"]) == shipped_at
    clock.advance(days=3)
    do(eng, starter, "collect_feedback", FEEDBACK, iid)

    assert_completed(eng, iid, starter, {**form, "sample_route": "local", **countersigned, **leader_ok,
                                         **SAMPLING, **SHIPPED, **FEEDBACK})
    assert submissions(eng, iid) == [("quality_countersign", countersigned), ("leader_approval", leader_ok),
                                     ("take_sample", SAMPLING), ("sales_ship", SHIPPED),
                                     ("collect_feedback", FEEDBACK)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("quality_countersign"), ("gateway_taken", "countersign_approved_gateway"),
        *ready_and_done("leader_approval"), ("gateway_taken", "leader_approved_gateway"),
        ("gateway_taken", "approval_merge"),
        *ready_and_done("take_sample"), ("gateway_taken", "shipping_gateway"),
        *ready_and_done("sales_ship"), ("gateway_taken", "shipped_merge"),
        *ready_and_done("collect_feedback"), ("ended", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "quality", "division_leader", "quality", "sales_rep", "initiator"]
    assert end_events(eng, iid) == ["request_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "quality_countersign", "default"),
        ("countersign_approved_gateway", "leader_approval", "approved == True"),
        ("leader_approved_gateway", "approval_merge", "approved == True"),
        ("shipping_gateway", "sales_ship", "default")]


@pytest.mark.rule("P5.2b")
@pytest.mark.rule("P5.5")
def test_local_refused_at_countersign(flows, clock):
    eng, starter = flows, "rep2"
    form = request("local")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "quality_countersign", iid) == holders("quality")
    refused = {"approved": False, "comment": "该规格不属于地销产品目录"}
    clock.advance(hours=1)
    do(eng, "qa1", "quality_countersign", refused, iid)

    assert offered_to(eng, "leader_approval", iid) == set()
    assert_completed(eng, iid, starter, {**form, "sample_route": "local", **refused})
    assert eng.instance(starter, iid)["data"]["comment"] == refused["comment"]
    assert submissions(eng, iid) == [("quality_countersign", refused)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("quality_countersign"), ("gateway_taken", "countersign_approved_gateway"), ("ended", None)]
    assert end_events(eng, iid) == ["rejected_by_countersign"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "quality_countersign", "default"),
        ("countersign_approved_gateway", "rejected_by_countersign", "default")]


@pytest.mark.rule("P5.2b")
@pytest.mark.rule("P5.5")
@pytest.mark.rule("P5.SOD")
def test_local_rejected_by_leader(flows, clock):
    eng, starter = flows, "rep_lead"  # a sales rep who is also a division leader
    form = request("local")
    iid = eng.start(starter, KEY, form)

    assert offered_to(eng, "quality_countersign", iid) == holders("quality")
    countersigned = {"approved": True, "comment": "会签同意"}
    clock.advance(hours=1)
    do(eng, "qa2", "quality_countersign", countersigned, iid)

    assert offered_to(eng, "leader_approval", iid) == holders("division_leader") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "leader_approval", {"approved": True})
    rejected = {"approved": False, "comment": "本月样品费用已超预算"}
    clock.advance(hours=1)
    do(eng, "lead", "leader_approval", rejected, iid)

    assert offered_to(eng, "take_sample", iid) == set()
    assert_completed(eng, iid, starter, {**form, "sample_route": "local", **rejected})
    assert eng.instance(starter, iid)["data"]["comment"] == rejected["comment"]
    assert submissions(eng, iid) == [("quality_countersign", countersigned), ("leader_approval", rejected)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"),
        *ready_and_done("quality_countersign"), ("gateway_taken", "countersign_approved_gateway"),
        *ready_and_done("leader_approval"), ("gateway_taken", "leader_approved_gateway"), ("ended", None)]
    assert end_events(eng, iid) == ["rejected_by_leader"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "quality_countersign", "default"),
        ("countersign_approved_gateway", "leader_approval", "approved == True"),
        ("leader_approved_gateway", "rejected_by_leader", "default")]


# -- a rejection needs its reason ------------------------------------------------------------------------

# (approval task, customer class, the approvals before it: [(task, user)], an approver)
APPROVALS = [
    ("sales_approval", "key_account", [], "mgr1"),
    ("quality_approval", "key_account", [("sales_approval", "mgr1")], "qa1"),
    ("quality_countersign", "local", [], "qa1"),
    ("leader_approval", "local", [("quality_countersign", "qa2")], "lead"),
]


@pytest.mark.parametrize(("task_name", "customer_class", "before", "approver"), APPROVALS,
                         ids=[a[0] for a in APPROVALS])
@pytest.mark.parametrize("decision", [{"approved": False}, {"approved": False, "comment": "  \n "}],
                         ids=["no_comment", "blank_comment"])
@pytest.mark.rule("P5.5")
def test_rejecting_without_a_reason_is_refused_and_the_task_stays_open(flows, clock, task_name, customer_class,
                                                                        before, approver, decision):
    eng, starter = flows, "rep1"
    form = request(customer_class)
    iid = eng.start(starter, KEY, form)
    for earlier, user in before:
        do(eng, user, earlier, {"approved": True}, iid)
    offered = offered_to(eng, task_name, iid)
    task = inbox_task(eng, approver, task_name, iid)
    trail_before = history(eng, iid)
    data_before = eng.instance(starter, iid)["data"]

    with pytest.raises(InvalidData) as refused:
        eng.complete(approver, task["id"], decision)

    assert set(refused.value.fields) == {"comment"}
    assert refused.value.fields["comment"]["zh"] == REJECT_MESSAGE
    assert refused.value.fields["comment"]["en"]
    still = open_task(eng, iid, task_name)
    assert (still["id"], still["status"], still["assignee"]) == (task["id"], "ready", None)
    assert offered_to(eng, task_name, iid) == offered
    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["data"]) == ("running", data_before)
    assert history(eng, iid) == trail_before  # nothing recorded, not even the automatic claim

    # the same task still takes a proper rejection
    reason = {"approved": False, "comment": "理由：客户资信不足"}
    do(eng, approver, task_name, reason, iid)
    assert eng.instance(starter, iid)["status"] == "completed"
    assert eng.instance(starter, iid)["data"]["comment"] == reason["comment"]
    assert_audit_intact(eng, iid)


# -- deadlines: one working day per approval, then the next level up is told (issue 12, our own choice) ----

FRIDAY = local_time("2026-03-06", "15:00")  # a request filed on Friday afternoon is due on Monday afternoon
MONDAY = local_time("2026-03-09", "15:00")


def escalation_is_due(eng, clock, iid: int, ready_at, approval: str, escalation: str, escalated_to: str):
    """Nothing until one working day after `ready_at`; then the next level up gets the escalation, and the
    approval stays open with the same approvers."""
    approvers = offered_to(eng, approval, iid)
    task = open_task(eng, iid, approval)
    due = parse(task["due_at"])
    assert due == working_day_after(ready_at)
    clock.set(due - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, escalation, iid) == set()
    clock.set(due + timedelta(minutes=1))
    assert open_task(eng, iid, approval)["overdue"] is True
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, escalation, iid) == holders(escalated_to)
    assert offered_to(eng, approval, iid) == approvers
    assert open_task(eng, iid, approval)["id"] == task["id"]
    escalated = [e for e in events(eng, iid, "escalated") if e["payload"]["attached_to"] == approval]
    assert [(e["task"], e["payload"]["interrupting"]) for e in escalated] == [(f"{approval}_overdue", False)]


def working_day_after(instant):
    """Monday to Friday, company time (processes/calendar.yaml lists no holiday in March 2026)."""
    day = instant
    while True:
        day = day + timedelta(days=1)
        if day.astimezone(SHANGHAI).weekday() < 5:
            return day


def overdue_round(task: str) -> list[tuple[str, str | None]]:
    return [("timers_due", None), ("timer_fired", f"{task}_overdue"), ("escalated", f"{task}_overdue")]


@pytest.mark.rule("P5.6")
@pytest.mark.rule("P5.2a")
def test_key_account_both_approvals_overdue_escalated_then_approved(flows, clock):
    eng, starter = flows, "rep1"
    clock.set(FRIDAY)
    form = request("key_account")
    iid = eng.start(starter, KEY, form)

    # Friday 15:00 + one working day = Monday 15:00: the weekend does not count
    clock.set(local_time("2026-03-08", "23:00"))
    assert eng.fire_due_timers() == 0
    escalation_is_due(eng, clock, iid, FRIDAY, "sales_approval", "sales_approval_escalation", "sales_director")
    sales_note = {"sales_escalation_note": "已电话督促销售部经理当天审批"}
    clock.advance(minutes=30)
    do(eng, "dir", "sales_approval_escalation", sales_note, iid)
    sales_ok = {"approved": True, "comment": "同意"}
    approved_at = clock.advance(hours=1)
    do(eng, "mgr2", "sales_approval", sales_ok, iid)

    # quality's own working day starts when its task is ready; past it the division leader is told
    escalation_is_due(eng, clock, iid, approved_at, "quality_approval", "quality_approval_escalation",
                      "division_leader")
    quality_ok = {"approved": True, "comment": "同意取样"}
    clock.advance(minutes=10)
    do(eng, "qa1", "quality_approval", quality_ok, iid)  # decided while the escalation is still open
    assert offered_to(eng, "quality_approval_escalation", iid) == holders("division_leader")
    assert offered_to(eng, "take_sample", iid) == holders("quality")
    quality_note = {"quality_escalation_note": "品质部已审批，督办结束"}
    clock.advance(minutes=10)
    do(eng, "lead", "quality_approval_escalation", quality_note, iid)

    do(eng, "qa2", "take_sample", SAMPLING, iid)
    do(eng, "disp", "dispatch_ship", SHIPPED, iid)
    do(eng, starter, "collect_feedback", FEEDBACK, iid)

    assert_completed(eng, iid, starter, {**form, "sample_route": "key_account", **sales_note, **sales_ok,
                                         **quality_ok, **quality_note, **SAMPLING, **SHIPPED, **FEEDBACK})
    assert eng.instance(starter, iid)["outcome"] == "approved"
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"), ("task_ready", "sales_approval"),
        *overdue_round("sales_approval"), *ready_and_done("sales_approval_escalation"),
        ("completed", "sales_approval"), ("gateway_taken", "sales_approved_gateway"),
        ("task_ready", "quality_approval"), *overdue_round("quality_approval"),
        ("task_ready", "quality_approval_escalation"), ("completed", "quality_approval"),
        ("gateway_taken", "quality_approved_gateway"), ("gateway_taken", "approval_merge"),
        ("task_ready", "take_sample"), ("completed", "quality_approval_escalation"), ("completed", "take_sample"),
        ("gateway_taken", "shipping_gateway"), *ready_and_done("dispatch_ship"), ("gateway_taken", "shipped_merge"),
        *ready_and_done("collect_feedback"), ("ended", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "sales_manager", "sales_director", "quality", "division_leader", "quality", "dispatcher", "initiator"]
    assert end_events(eng, iid) == ["request_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P5.6")
@pytest.mark.rule("P5.2b")
def test_local_both_approvals_overdue_escalated_then_approved(flows, clock):
    eng, starter = flows, "rep2"
    form = request("local")
    started = clock.now()  # Monday 09:00
    iid = eng.start(starter, KEY, form)

    escalation_is_due(eng, clock, iid, started, "quality_countersign", "quality_countersign_escalation",
                      "division_leader")
    countersign_note = {"countersign_escalation_note": "已督促品质部会签"}
    do(eng, "lead", "quality_countersign_escalation", countersign_note, iid)
    countersigned = {"approved": True, "comment": "会签同意"}
    countersigned_at = clock.advance(hours=2)
    do(eng, "qa2", "quality_countersign", countersigned, iid)

    escalation_is_due(eng, clock, iid, countersigned_at, "leader_approval", "leader_approval_escalation",
                      "general_manager")
    leader_note = {"leader_escalation_note": "已提醒分管领导"}
    do(eng, "gm1", "leader_approval_escalation", leader_note, iid)
    leader_ok = {"approved": True, "comment": "同意"}
    do(eng, "lead", "leader_approval", leader_ok, iid)

    do(eng, "qa1", "take_sample", SAMPLING, iid)
    do(eng, "rep1", "sales_ship", SHIPPED, iid)
    do(eng, starter, "collect_feedback", FEEDBACK, iid)

    assert_completed(eng, iid, starter, {**form, "sample_route": "local", **countersign_note, **countersigned,
                                         **leader_note, **leader_ok, **SAMPLING, **SHIPPED, **FEEDBACK})
    assert eng.instance(starter, iid)["outcome"] == "approved"
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"), ("task_ready", "quality_countersign"),
        *overdue_round("quality_countersign"), *ready_and_done("quality_countersign_escalation"),
        ("completed", "quality_countersign"), ("gateway_taken", "countersign_approved_gateway"),
        ("task_ready", "leader_approval"), *overdue_round("leader_approval"),
        *ready_and_done("leader_approval_escalation"), ("completed", "leader_approval"),
        ("gateway_taken", "leader_approved_gateway"), ("gateway_taken", "approval_merge"),
        *ready_and_done("take_sample"), ("gateway_taken", "shipping_gateway"), *ready_and_done("sales_ship"),
        ("gateway_taken", "shipped_merge"), *ready_and_done("collect_feedback"), ("ended", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "quality", "division_leader", "division_leader", "general_manager", "quality", "sales_rep", "initiator"]
    assert end_events(eng, iid) == ["request_completed"]
    assert_audit_intact(eng, iid)


# (approval, customer class, the approvals before it, its approver, escalation, the next level, its note, the end)
ESCALATIONS = [
    ("sales_approval", "key_account", [], "mgr1", "sales_approval_escalation", "sales_director",
     "sales_escalation_note", "rejected_by_sales"),
    ("quality_approval", "key_account", [("sales_approval", "mgr1")], "qa1", "quality_approval_escalation",
     "division_leader", "quality_escalation_note", "rejected_by_quality"),
    ("quality_countersign", "local", [], "qa2", "quality_countersign_escalation", "division_leader",
     "countersign_escalation_note", "rejected_by_countersign"),
    ("leader_approval", "local", [("quality_countersign", "qa1")], "lead", "leader_approval_escalation",
     "general_manager", "leader_escalation_note", "rejected_by_leader"),
]


GATEWAY_OF = {"sales_approval": "sales_approved_gateway", "quality_approval": "quality_approved_gateway",
              "quality_countersign": "countersign_approved_gateway", "leader_approval": "leader_approved_gateway"}
DONE_OF = {"sales_approval_escalation": "sales_escalation_done",
           "quality_approval_escalation": "quality_escalation_done",
           "quality_countersign_escalation": "countersign_escalation_done",
           "leader_approval_escalation": "leader_escalation_done"}


@pytest.mark.rule("P5.6")
@pytest.mark.rule("P5.5")
@pytest.mark.parametrize(("approval", "customer_class", "before", "approver", "escalation", "next_level", "note",
                          "end"), ESCALATIONS, ids=[e[0] for e in ESCALATIONS])
def test_rejected_after_the_escalation_the_case_ends_when_the_next_level_has_recorded_it(
        flows, clock, approval, customer_class, before, approver, escalation, next_level, note, end):
    eng, starter = flows, "rep1"
    form = request(customer_class)
    iid = eng.start(starter, KEY, form)
    for earlier, user in before:
        do(eng, user, earlier, {"approved": True}, iid)
    escalation_is_due(eng, clock, iid, clock.now(), approval, escalation, next_level)

    rejected = {"approved": False, "comment": "客户资信不足"}
    do(eng, approver, approval, rejected, iid)
    inst = eng.instance(starter, iid)
    # the request is decided (rejected), but the next level's escalation is still open: the case runs on
    assert (inst["status"], inst["outcome"], [t["name"] for t in inst["tasks"]]) == ("running", None, [escalation])
    handled = {note: "审批人已驳回，督办结束"}
    do(eng, {"sales_director": "dir", "division_leader": "lead", "general_manager": "gm1"}[next_level], escalation,
       handled, iid)

    approvals = {e: {"approved": True} for e, _ in before}
    assert_completed(eng, iid, starter, {**form, "sample_route": customer_class, **rejected, **handled})
    assert eng.instance(starter, iid)["outcome"] == "rejected"
    assert submissions(eng, iid) == [*approvals.items(), (approval, rejected), (escalation, handled)]
    assert routes(eng, iid)[-1] == (f"{GATEWAY_OF[approval]}", end, "default")  # the rejection's own end
    assert end_events(eng, iid) == [DONE_OF[escalation]]  # the last end reached: the escalation's
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P5.6")
def test_an_approval_decided_within_its_working_day_raises_no_escalation(flows, clock):
    eng, starter = flows, "rep1"
    iid = eng.start(starter, KEY, request("key_account"))
    clock.advance(hours=23)
    do(eng, "mgr1", "sales_approval", {"approved": True}, iid)
    clock.advance(hours=2)  # past the sales approval's deadline: its timer went with the task
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "sales_approval_escalation", iid) == set()
    assert events(eng, iid, "escalated") == []
    assert [t["name"] for t in eng.instance(starter, iid)["tasks"]] == ["quality_approval"]
