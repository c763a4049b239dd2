"""P3 aftersale (售后服务): every path from the registration to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. Each path asserts who was
offered each task (exact sets), the data at the end, the audit trail with the branch each
routing gateway took and the end event reached, that replay reproduces the trail and every
chain verifies. Timers move only with the ManualClock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Forbidden, InvalidData
from tests.conftest import ROOT, T0, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    branches,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    offered_to,
    open_task,
    parse,
    requester_may_not_work,
    submissions,
    trail,
)

KEY = "aftersale"
ROUTING_GATEWAYS = {"quality_fault_gateway", "approver_gateway", "outcome_gateway", "satisfaction_gateway"}
ENGINEERS = holders("aftersales_engineer")
SERVICE = holders("customer_service")
MANAGERS = holders("sales_manager")
DIRECTORS = holders("sales_director")

DESCRIPTIONS = {
    "installation": "新购 JS750 搅拌机已到货，需上门安装调试",
    "repair": "搅拌机运行中主轴异响，卸料门无法完全关闭",
    "maintenance": "设备累计运行满 500 小时，申请定期保养",
    "return": "到货后发现机架焊缝开裂，客户要求退货",
    "exchange": "减速机漏油，客户要求更换整机",
    "usage_question": "咨询冬季低温条件下的开机预热与润滑方法",
}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系周工，了解故障现象，约定明日上门",
            "planned_visit_date": "2026-03-03"}
RESOLVED = {"outcome": "resolved", "resolution": "已上门处理完毕，设备试运行正常，客户现场签字确认"}
CONFIRMED = {"resolution_confirmed": True, "satisfaction": 4, "customer_feedback": "响应及时，处理专业"}
VISITED = {"satisfaction": 5, "usage_feedback": "设备运行一周无异常", "suggestions": "希望提供操作培训视频"}
QUALITY_PAYLOAD_KEYS = ["complaint_kind", "customer_class", "customer_name", "description", "product",
                        "purchase_date", "severity"]


@pytest.fixture
def service(engine):
    """All of processes/ and forms/ deployed as they are in the repository (the quality
    complaint the after-sales case may start is one of them), and the people."""
    deployed = engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    assert (KEY, 1, "deployed") in {(d.key, d.version, d.status) for d in deployed}
    add_users(engine, PEOPLE)
    return engine


def request(kind: str, amount: float | None = None, customer_class: str = "key_account") -> dict:
    """The after-sales request as customer service registers it."""
    form = {"customer_name": "马鞍山江东商砼有限公司", "customer_class": customer_class, "contact": "周工 13905550123",
            "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": kind, "urgency": "normal",
            "description": DESCRIPTIONS[kind]}
    return form if amount is None else {**form, "amount_yuan": amount}


def diagnosis(quality_fault: bool = False, severity: str | None = None) -> dict:
    data = {"diagnosis": "主轴轴承磨损，密封圈老化" if not quality_fault else "机架焊缝虚焊，属制造缺陷",
            "quality_fault": quality_fault, "proposed_solution": "更换轴承与密封圈，调整卸料门限位"}
    return data if severity is None else {**data, "severity": severity}


def routes(eng, iid: int) -> list[tuple]:  # noqa: ANN001
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def ready_and_done(*tasks: str) -> list[tuple[str, str]]:
    return [pair for t in tasks for pair in (("task_ready", t), ("completed", t))]


def fire(eng, iid: int) -> list[str]:  # noqa: ANN001
    """Run the timer worker once; the timers of this instance that fired."""
    before = len(events(eng, iid, "timer_fired"))
    eng.fire_due_timers()
    return [e["task"] for e in events(eng, iid, "timer_fired")[before:]]


def assert_completed(eng, iid: int, data: dict) -> None:  # noqa: ANN001
    inst = eng.instance(AUDITOR, iid)
    assert inst["status"] == "completed"
    assert inst["tasks"] == []
    assert inst["ended_at"] is not None
    assert {t["status"] for t in inst["history_tasks"]} == {"completed"}
    assert inst["data"] == data


# -- the trail, piece by piece ------------------------------------------------------------------------------

REGISTERED = [("started", None), ("task_ready", "first_response")]
RESPONDED = [("completed", "first_response"), ("gateway_taken", "reopen_merge")]
DIAGNOSED = [*ready_and_done("diagnose"), ("gateway_taken", "quality_fault_gateway"),
             ("gateway_taken", "quality_merge"), ("gateway_taken", "approver_gateway")]


def resolution_round(approval: str | None = None) -> list[tuple[str, str | None]]:
    """From the diagnosis to the engineer's outcome (the sub-process resolve_case)."""
    if approval is None:
        return [*DIAGNOSED, ("gateway_taken", "approval_merge"), *ready_and_done("resolve"),
                ("gateway_taken", "outcome_gateway")]
    return [*DIAGNOSED, *ready_and_done(approval), ("gateway_taken", "approval_merge"), *ready_and_done("resolve"),
            ("gateway_taken", "outcome_gateway")]


CONFIRMED_REOPEN = [*ready_and_done("confirm_resolution"), ("gateway_taken", "satisfaction_gateway"),
                    ("gateway_taken", "reopen_merge")]
CLOSED_AND_VISITED = [*ready_and_done("confirm_resolution"), ("gateway_taken", "satisfaction_gateway"),
                      ("timers_due", None), ("timer_fired", "wait_return_visit"), *ready_and_done("return_visit"),
                      ("ended", None)]


def route(approval: str | None, condition: str | None) -> list[tuple]:
    """The routing gateways of one resolution round up to the engineer's outcome."""
    first = [("quality_fault_gateway", "quality_merge", "default")]
    if approval is None:
        return [*first, ("approver_gateway", "approval_merge", "default")]
    return [*first, ("approver_gateway", approval, condition)]


RESOLVED_ROUTE = [("outcome_gateway", "confirm_resolution", "default")]
SATISFIED_ROUTE = [("satisfaction_gateway", "wait_return_visit", "default")]
REOPEN_ROUTE = [("satisfaction_gateway", "reopen_merge", "resolution_confirmed == False or satisfaction <= 2")]
TO_MANAGER = ("manager_approval", "return_approver == 'sales_manager'")
TO_DIRECTOR = ("director_approval", "return_approver == 'sales_director'")


# -- steps ----------------------------------------------------------------------------------------------------


def register(eng, kind: str, amount: float | None = None, starter: str = "svc1", **extra) -> tuple[int, dict]:  # noqa: ANN001
    form = request(kind, amount)
    iid = eng.start(starter, KEY, form, **extra)
    assert offered_to(eng, "first_response", iid) == ENGINEERS
    task = inbox_task(eng, "fix1", "first_response", iid)
    assert parse(task["due_at"]) == parse(task["created_at"]) + timedelta(hours=24)
    return iid, form


def respond(eng, clock, iid: int, engineer: str = "fix1", after: timedelta = timedelta(hours=2)) -> None:  # noqa: ANN001
    clock.advance(seconds=after.total_seconds())
    do(eng, engineer, "first_response", RESPONSE, iid)
    assert offered_to(eng, "diagnose", iid) == ENGINEERS


def confirm_and_revisit(eng, clock, iid: int, confirmer: str = "svc2", resolver: str = "fix1",  # noqa: ANN001
                        confirmed: dict = CONFIRMED, visited: dict = VISITED) -> None:
    """The customer confirms and scores; the return visit is offered 7 days later, not before."""
    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {resolver}
    clock.advance(hours=3)
    closed_at = clock.now()
    do(eng, confirmer, "confirm_resolution", confirmed, iid)
    assert offered_to(eng, "diagnose", iid) == set()
    clock.set(closed_at + timedelta(days=7) - timedelta(minutes=1))
    assert fire(eng, iid) == []
    assert offered_to(eng, "return_visit", iid) == set()
    clock.set(closed_at + timedelta(days=7, minutes=1))
    assert fire(eng, iid) == ["wait_return_visit"]
    assert offered_to(eng, "return_visit", iid) == SERVICE - {resolver}
    visit = inbox_task(eng, confirmer, "return_visit", iid)
    assert parse(visit["created_at"]) == clock.now()
    assert parse(visit["due_at"]) == clock.now() + timedelta(days=3)
    clock.advance(hours=2)
    do(eng, "svc1", "return_visit", visited, iid)


# -- the kinds that need no approval --------------------------------------------------------------------------


@pytest.mark.rule("P3.1")
@pytest.mark.rule("P3.2")
@pytest.mark.rule("P3.3a")
@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.4")
@pytest.mark.rule("P3.5")
@pytest.mark.parametrize("kind", ["installation", "repair", "maintenance", "usage_question"])
def test_kind_needing_no_approval_resolved_confirmed_and_revisited(service, clock, kind):
    eng = service
    iid, form = register(eng, kind)
    respond(eng, clock, iid)

    clock.advance(hours=5)
    diagnosed = diagnosis()
    do(eng, "fix2", "diagnose", diagnosed, iid)
    assert offered_to(eng, "manager_approval", iid) == set()
    assert offered_to(eng, "director_approval", iid) == set()
    assert offered_to(eng, "resolve", iid) == ENGINEERS
    clock.advance(hours=20)
    do(eng, "fix1", "resolve", RESOLVED, iid)

    confirm_and_revisit(eng, clock, iid)

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "none", **RESOLVED, **CONFIRMED, **VISITED})
    assert submissions(eng, iid) == [("first_response", RESPONSE), ("diagnose", diagnosed), ("resolve", RESOLVED),
                                     ("confirm_resolution", CONFIRMED), ("return_visit", VISITED)]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round(), *CLOSED_AND_VISITED]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "aftersales_engineer", "customer_service", "customer_service"]
    assert events(eng, iid, "escalated") == []
    assert events(eng, iid, "message_sent") == []
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(None, None), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


def test_only_customer_service_registers_requests(service):
    with pytest.raises(Forbidden):
        service.start("fix1", KEY, request("repair"))
    with pytest.raises(Forbidden):
        service.start("mgr1", KEY, request("repair"))


# -- returns and exchanges: approval chosen by the DMN table return_approval ------------------------------


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.SOD")
def test_return_below_20000_approved_by_the_sales_manager(service, clock):
    eng = service
    iid, form = register(eng, "return", 4800)
    respond(eng, clock, iid, engineer="fix_mgr")
    diagnosed = diagnosis()
    clock.advance(hours=4)
    do(eng, "fix_mgr", "diagnose", diagnosed, iid)  # an engineer who is also a sales manager

    assert offered_to(eng, "director_approval", iid) == set()
    assert offered_to(eng, "manager_approval", iid) == MANAGERS - {"fix_mgr"}  # never his own proposal
    requester_may_not_work(eng, iid, "fix_mgr", "manager_approval", {"approved": True})
    approved = {"approved": True, "comment": "同意退货，财务按原价退款"}
    clock.advance(hours=3)
    do(eng, "mgr2", "manager_approval", approved, iid)

    assert offered_to(eng, "resolve", iid) == ENGINEERS
    assert eng.task("fix1", inbox_task(eng, "fix1", "resolve", iid)["id"])["instance_data"]["comment"] == \
        approved["comment"]
    returned = {"outcome": "resolved", "resolution": "已收回设备，退款 4800 元已由财务办理"}
    clock.advance(hours=10)
    do(eng, "fix1", "resolve", returned, iid)
    confirm_and_revisit(eng, clock, iid)

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "sales_manager", **approved, **returned, **CONFIRMED, **VISITED})
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("manager_approval"), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(*TO_MANAGER), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3b")
def test_exchange_of_20000_or_more_approved_by_the_sales_director(service, clock):
    eng = service
    iid, form = register(eng, "exchange", 88000)
    respond(eng, clock, iid)
    diagnosed = diagnosis()
    clock.advance(hours=4)
    do(eng, "fix2", "diagnose", diagnosed, iid)

    assert offered_to(eng, "manager_approval", iid) == set()
    assert offered_to(eng, "director_approval", iid) == DIRECTORS
    approved = {"approved": True, "comment": "同意换货，优先安排新机发运"}
    clock.advance(hours=2)
    do(eng, "dir", "director_approval", approved, iid)
    exchanged = {"outcome": "resolved", "resolution": "新机已到场安装，旧机收回"}
    clock.advance(hours=20)
    do(eng, "fix2", "resolve", exchanged, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "sales_director", **approved, **exchanged, **CONFIRMED,
                                **VISITED})
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("director_approval"),
                               *CLOSED_AND_VISITED]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "sales_director", "aftersales_engineer", "customer_service",
        "customer_service"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(*TO_DIRECTOR), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.3c")
def test_return_rejected_by_the_director_then_resolved_otherwise(service, clock):
    eng = service
    iid, form = register(eng, "return", 20000)
    respond(eng, clock, iid)
    diagnosed = diagnosis()
    do(eng, "fix1", "diagnose", diagnosed, iid)

    assert offered_to(eng, "director_approval", iid) == DIRECTORS
    rejected = {"approved": False, "comment": "属可修复故障，不予退货，请安排维修"}
    clock.advance(hours=2)
    do(eng, "dir", "director_approval", rejected, iid)

    assert offered_to(eng, "resolve", iid) == ENGINEERS  # the case goes on: the engineer decides what next
    repaired = {"outcome": "resolved", "resolution": "不予退货，已上门更换轴承并调试，设备运行正常"}
    clock.advance(hours=6)
    do(eng, "fix1", "resolve", repaired, iid)
    confirmed = {"resolution_confirmed": True, "satisfaction": 3}  # 3 closes the case
    confirm_and_revisit(eng, clock, iid, confirmed=confirmed)

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "sales_director", **rejected, **repaired, **confirmed, **VISITED})
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("director_approval"),
                               *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(*TO_DIRECTOR), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.3c")
def test_exchange_rejected_by_the_manager_and_the_case_closed_with_the_reason(service, clock):
    eng = service
    iid, form = register(eng, "exchange", 3000)
    respond(eng, clock, iid)
    diagnosed = diagnosis()
    do(eng, "fix2", "diagnose", diagnosed, iid)

    assert offered_to(eng, "manager_approval", iid) == MANAGERS
    rejected = {"approved": False, "comment": "已超过三个月换货期，不予换货"}
    clock.advance(hours=1)
    do(eng, "mgr1", "manager_approval", rejected, iid)
    closed = {"outcome": "closed", "closing_reason": "换货申请未获批准，客户拒绝有偿维修，按制度结案"}
    clock.advance(hours=1)
    do(eng, "fix2", "resolve", closed, iid)

    assert offered_to(eng, "confirm_resolution", iid) == set()
    clock.advance(days=8)
    assert fire(eng, iid) == []  # no return visit for a closed case
    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "sales_manager", **rejected, **closed})
    seen_by_registrar = eng.instance("svc1", iid)["data"]
    assert (seen_by_registrar["comment"], seen_by_registrar["closing_reason"]) == (
        rejected["comment"], closed["closing_reason"])
    assert submissions(eng, iid) == [("first_response", RESPONSE), ("diagnose", diagnosed),
                                     ("manager_approval", rejected), ("resolve", closed)]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("manager_approval"), ("ended", None)]
    # the sub-process's own end is reached in the same step and listed with it
    assert end_events(eng, iid) == ["resolve_case_end", "case_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(*TO_MANAGER), ("outcome_gateway", "case_closed", "outcome == 'closed'")]


# -- service-level timers (seed 71, 79) -----------------------------------------------------------------------


@pytest.mark.rule("P3.SLA24")
def test_no_response_within_24_hours_escalates_to_the_sales_manager(service, clock):
    eng = service
    iid, form = register(eng, "repair")

    clock.set(T0 + timedelta(hours=23, minutes=59))
    assert fire(eng, iid) == []
    assert offered_to(eng, "response_escalation", iid) == set()
    assert inbox_task(eng, "fix1", "first_response", iid)["overdue"] is False

    clock.set(T0 + timedelta(hours=24, minutes=1))
    fired_at = clock.now()
    assert fire(eng, iid) == ["response_overdue"]
    assert offered_to(eng, "response_escalation", iid) == MANAGERS  # the next level up, and only them
    assert offered_to(eng, "first_response", iid) == ENGINEERS  # the work stays with the engineers
    assert inbox_task(eng, "fix1", "first_response", iid)["overdue"] is True
    escalation = inbox_task(eng, "mgr1", "response_escalation", iid)
    assert parse(escalation["created_at"]) == fired_at
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "response_overdue", "first_response", False)

    chased = {"response_escalation_note": "已责成售后组长当天 12:00 前回电客户"}
    clock.advance(minutes=30)
    do(eng, "mgr2", "response_escalation", chased, iid)
    late_response = {"response_channel": "on_site", "response_note": "已上门查看，确认主轴轴承损坏"}
    clock.advance(hours=2)
    do(eng, "fix2", "first_response", late_response, iid)
    diagnosed = diagnosis()
    do(eng, "fix2", "diagnose", diagnosed, iid)
    do(eng, "fix2", "resolve", RESOLVED, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **chased, **late_response, **diagnosed,
                                "return_approver": "none", **RESOLVED, **CONFIRMED, **VISITED})
    assert trail(eng, iid) == [
        *REGISTERED, ("timers_due", None), ("timer_fired", "response_overdue"), ("escalated", "response_overdue"),
        *ready_and_done("response_escalation"), *RESPONDED, *resolution_round(), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(None, None), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.SLA24")
def test_a_response_given_after_24_hours_still_records_the_breach_first(service, clock):
    """The engineer answers late and before the timer worker came round: the escalation
    happens first, in its own step, and the manager still gets it."""
    eng = service
    iid, _form = register(eng, "maintenance")
    clock.set(T0 + timedelta(hours=26))
    do(eng, "fix1", "first_response", RESPONSE, iid)

    assert offered_to(eng, "response_escalation", iid) == MANAGERS
    assert trail(eng, iid) == [*REGISTERED, ("timers_due", None), ("timer_fired", "response_overdue"),
                               ("escalated", "response_overdue"), ("task_ready", "response_escalation"),
                               *RESPONDED, ("task_ready", "diagnose")]
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3.SLA48")
def test_not_resolved_48_hours_after_the_response_escalates_to_the_sales_director(service, clock):
    eng = service
    iid, form = register(eng, "exchange", 6500)
    respond(eng, clock, iid, after=timedelta(hours=3))
    responded_at = clock.now()
    diagnosed = diagnosis()
    clock.advance(hours=5)
    do(eng, "fix1", "diagnose", diagnosed, iid)
    assert offered_to(eng, "manager_approval", iid) == MANAGERS  # the manager takes his time

    clock.set(responded_at + timedelta(hours=47, minutes=59))
    assert fire(eng, iid) == []
    assert offered_to(eng, "resolution_escalation", iid) == set()
    clock.set(responded_at + timedelta(hours=48, minutes=1))
    fired_at = clock.now()
    assert fire(eng, iid) == ["resolution_overdue"]
    assert offered_to(eng, "resolution_escalation", iid) == DIRECTORS  # the next level up, and only them
    assert offered_to(eng, "manager_approval", iid) == MANAGERS  # the work goes on where it was
    assert parse(inbox_task(eng, "dir", "resolution_escalation", iid)["created_at"]) == fired_at
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "resolution_overdue", "resolve_case", False)

    pushed = {"resolution_escalation_note": "已要求销售部经理今日内审批，换货机从总库调拨"}
    clock.advance(hours=1)
    do(eng, "dir", "resolution_escalation", pushed, iid)
    approved = {"approved": True, "comment": "同意换货"}
    do(eng, "mgr1", "manager_approval", approved, iid)
    exchanged = {"outcome": "resolved", "resolution": "已更换减速机总成"}
    clock.advance(hours=6)
    do(eng, "fix2", "resolve", exchanged, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed, **pushed,
                                "return_approver": "sales_manager", **approved, **exchanged, **CONFIRMED, **VISITED})
    assert trail(eng, iid) == [
        *REGISTERED, *RESPONDED, *DIAGNOSED, ("task_ready", "manager_approval"),
        ("timers_due", None), ("timer_fired", "resolution_overdue"), ("escalated", "resolution_overdue"),
        *ready_and_done("resolution_escalation"), ("completed", "manager_approval"),
        ("gateway_taken", "approval_merge"), *ready_and_done("resolve"), ("gateway_taken", "outcome_gateway"),
        *CLOSED_AND_VISITED]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "sales_manager", "sales_director", "aftersales_engineer",
        "customer_service", "customer_service"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(*TO_MANAGER), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.SLA48")
def test_a_case_resolved_in_time_is_not_escalated(service, clock):
    eng = service
    iid, _form = register(eng, "installation")
    respond(eng, clock, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    clock.advance(hours=47)
    do(eng, "fix1", "resolve", RESOLVED, iid)
    clock.advance(hours=2)  # past 48 hours after the response, with the sub-process done
    assert fire(eng, iid) == []
    assert offered_to(eng, "resolution_escalation", iid) == set()
    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {"fix1"}
    assert events(eng, iid, "escalated") == []


# -- the customer's score: 2 or less (or no confirmation) reopens the case ----------------------------------


@pytest.mark.rule("P3.4")
@pytest.mark.parametrize("first_confirmation", [
    pytest.param({"resolution_confirmed": True, "satisfaction": 2, "customer_feedback": "异响仍在"}, id="score_2"),
    pytest.param({"resolution_confirmed": True, "satisfaction": 1}, id="score_1"),
    pytest.param({"resolution_confirmed": False, "satisfaction": 4, "customer_feedback": "态度好，但故障未排除"},
                 id="not_confirmed"),
])
def test_low_satisfaction_reopens_the_case_then_a_good_score_closes_it(service, clock, first_confirmation):
    eng = service
    iid, form = register(eng, "repair")
    respond(eng, clock, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    do(eng, "fix1", "resolve", RESOLVED, iid)
    clock.advance(hours=3)
    do(eng, "svc2", "confirm_resolution", first_confirmation, iid)

    # reopened: the diagnosis is offered again, nothing waits for a return visit
    assert offered_to(eng, "diagnose", iid) == ENGINEERS
    assert offered_to(eng, "return_visit", iid) == set()
    rediagnosed = {"diagnosis": "复查：卸料门液压缸内泄", "quality_fault": False,
                   "proposed_solution": "更换液压缸密封件"}
    clock.advance(hours=4)
    do(eng, "fix2", "diagnose", rediagnosed, iid)
    resolved_again = {"outcome": "resolved", "resolution": "已更换液压缸密封件，卸料门动作正常"}
    clock.advance(hours=4)
    do(eng, "fix2", "resolve", resolved_again, iid)
    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {"fix2"}
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **rediagnosed,
                                "return_approver": "none", **resolved_again, **CONFIRMED, **VISITED})
    assert submissions(eng, iid) == [
        ("first_response", RESPONSE), ("diagnose", diagnosis()), ("resolve", RESOLVED),
        ("confirm_resolution", first_confirmation), ("diagnose", rediagnosed), ("resolve", resolved_again),
        ("confirm_resolution", CONFIRMED), ("return_visit", VISITED)]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round(), *CONFIRMED_REOPEN,
                               *resolution_round(), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*route(None, None), *RESOLVED_ROUTE, *REOPEN_ROUTE,
                                *route(None, None), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.4")
@pytest.mark.rule("P3.SLA48")
def test_a_reopened_case_has_48_hours_again(service, clock):
    eng = service
    iid, _form = register(eng, "repair")
    respond(eng, clock, iid)
    first_deadline = clock.now() + timedelta(hours=48)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    do(eng, "fix1", "resolve", RESOLVED, iid)
    clock.advance(hours=10)
    reopened_at = clock.now()
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": True, "satisfaction": 2}, iid)

    clock.set(first_deadline + timedelta(minutes=1))
    assert fire(eng, iid) == []  # the first round's timer ended with the first round
    clock.set(reopened_at + timedelta(hours=47, minutes=59))
    assert fire(eng, iid) == []
    clock.set(reopened_at + timedelta(hours=48, minutes=1))
    assert fire(eng, iid) == ["resolution_overdue"]
    assert offered_to(eng, "resolution_escalation", iid) == DIRECTORS
    assert offered_to(eng, "diagnose", iid) == ENGINEERS
    assert_audit_intact(eng, iid)


# -- a product-quality fault opens a quality complaint (P4) -------------------------------------------------


@pytest.mark.rule("P3.3d")
def test_quality_fault_throws_quality_complaint_once_per_case(service, clock):
    eng = service
    iid, form = register(eng, "repair")  # no business key: the case's own key is used
    respond(eng, clock, iid)
    faulty = diagnosis(quality_fault=True, severity="major")
    clock.advance(hours=3)
    do(eng, "fix1", "diagnose", faulty, iid)

    [sent] = events(eng, iid, "message_sent")
    assert sent["actor"] == "fix1"
    assert sent["payload"]["name"] == "quality_complaint"
    assert sent["payload"]["payload"] == {
        "customer_name": form["customer_name"], "customer_class": "key_account", "product": form["product"],
        "purchase_date": "2026-02-16", "description": form["description"], "complaint_kind": "quality",
        "severity": "major"}
    assert sent["payload"]["business_key"] == f"aftersale-{iid}"
    assert offered_to(eng, "resolve", iid) == ENGINEERS  # the case goes on beside the complaint
    assert eng.instance(AUDITOR, iid)["data"]["quality_complaint_reported"] is True

    # reopened, and the same fault found again: no second complaint for the case
    do(eng, "fix1", "resolve", RESOLVED, iid)
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": False, "satisfaction": 2}, iid)
    do(eng, "fix2", "diagnose", faulty, iid)
    assert len(events(eng, iid, "message_sent")) == 1
    do(eng, "fix2", "resolve", RESOLVED, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_completed(eng, iid, {**form, "quality_complaint_reported": True, **RESPONSE, **faulty,
                                "return_approver": "none", **RESOLVED, **CONFIRMED, **VISITED})
    quality_round = [*DIAGNOSED, ("gateway_taken", "approval_merge"), ("task_ready", "resolve"),
                     ("message_sent", None), ("completed", "resolve"), ("gateway_taken", "outcome_gateway")]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *quality_round, *CONFIRMED_REOPEN,
                               *resolution_round(), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    reported = "quality_fault == True and quality_complaint_reported == False"
    assert routes(eng, iid) == [
        ("quality_fault_gateway", "report_quality_complaint", reported),
        ("approver_gateway", "approval_merge", "default"), *RESOLVED_ROUTE, *REOPEN_ROUTE,
        *route(None, None), *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3d")
def test_quality_fault_starts_a_complaint_for_the_same_customer_and_business_key(service, clock):
    eng = service
    iid, form = register(eng, "return", 12000, business_key="SH-2026-0311")
    respond(eng, clock, iid)
    faulty = diagnosis(quality_fault=True, severity="critical")
    clock.advance(hours=2)
    do(eng, "fix2", "diagnose", faulty, iid)

    [sent] = events(eng, iid, "message_sent")
    assert sent["payload"]["business_key"] == "SH-2026-0311"
    assert sent["payload"]["delivered"] == []
    [complaint_id] = sent["payload"]["started"]
    complaint = eng.instance(AUDITOR, complaint_id)
    assert (complaint["process_key"], complaint["business_key"], complaint["status"], complaint["started_by"]) == (
        "complaint", "SH-2026-0311", "running", "fix2")
    payload = {key: ({**form, "complaint_kind": "quality", "severity": "critical"})[key]
               for key in QUALITY_PAYLOAD_KEYS}
    assert {k: complaint["data"][k] for k in payload} == payload
    [started] = events(eng, complaint_id, "started")
    assert started["payload"]["via_message"] == {"name": "quality_complaint", "from_instance": iid}
    assert started["payload"]["data"] == payload
    assert_audit_intact(eng, complaint_id)

    # the after-sales case goes on: the return still needs the manager's approval
    assert offered_to(eng, "manager_approval", iid) == MANAGERS
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    assert_audit_intact(eng, iid)


# -- what the forms refuse ------------------------------------------------------------------------------------


def refused(eng, user: str, task_name: str, iid: int, data: dict) -> dict:  # noqa: ANN001
    """The submission is refused, field by field, and the task stays open as it was."""
    task = inbox_task(eng, user, task_name, iid)
    with pytest.raises(InvalidData) as error:
        eng.complete(user, task["id"], data)
    assert open_task(eng, iid, task_name)["status"] == "ready"
    return {field: text["zh"] for field, text in error.value.fields.items()}


@pytest.mark.rule("P3.1")
@pytest.mark.rule("P3.3c")
@pytest.mark.rule("P3.4")
def test_the_forms_refuse_what_the_rules_forbid(service, clock):
    eng = service
    without_amount = request("exchange")
    with pytest.raises(InvalidData) as error:
        eng.start("svc1", KEY, without_amount)
    assert {f: t["zh"] for f, t in error.value.fields.items()} == {"amount_yuan": "退货或换货须填写退换货金额"}
    assert offered_to(eng, "first_response") == set()  # nothing was started

    iid, form = register(eng, "exchange", 9000)
    respond(eng, clock, iid)
    assert refused(eng, "fix1", "diagnose", iid, {**diagnosis(), "quality_fault": True}) == {
        "severity": "产品质量问题须选择严重程度"}
    diagnosed = diagnosis()
    do(eng, "fix1", "diagnose", diagnosed, iid)

    assert refused(eng, "mgr1", "manager_approval", iid, {"approved": False}) == {"comment": "驳回时须填写驳回理由"}
    assert refused(eng, "mgr1", "manager_approval", iid, {"approved": False, "comment": "  "}) == {
        "comment": "驳回时须填写驳回理由"}
    approved = {"approved": True}
    do(eng, "mgr1", "manager_approval", approved, iid)

    assert refused(eng, "fix1", "resolve", iid, {"outcome": "closed"}) == {"closing_reason": "结案须写明原因"}
    assert refused(eng, "fix1", "resolve", iid, {"outcome": "resolved"}) == {"resolution": "请填写处理情况"}
    do(eng, "fix1", "resolve", RESOLVED, iid)

    for score in (0, 6):
        assert refused(eng, "svc1", "confirm_resolution", iid, {"resolution_confirmed": True, "satisfaction": score}
                       ) == {"satisfaction": "满意度为 1 至 5 分"}
    confirmed = {"resolution_confirmed": True, "satisfaction": 5}
    do(eng, "svc1", "confirm_resolution", confirmed, iid)
    clock.advance(days=7, minutes=1)
    assert fire(eng, iid) == ["wait_return_visit"]
    assert refused(eng, "svc2", "return_visit", iid, {"satisfaction": 6, "usage_feedback": "正常"}) == {
        "satisfaction": "满意度为 1 至 5 分"}
    do(eng, "svc2", "return_visit", VISITED, iid)

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "sales_manager", **approved, **RESOLVED, **VISITED,
                                "resolution_confirmed": True})
    assert [task for task, _data in submissions(eng, iid)] == [
        "first_response", "diagnose", "manager_approval", "resolve", "confirm_resolution", "return_visit"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)


# -- separation of duties -------------------------------------------------------------------------------------


@pytest.mark.rule("P3.SOD")
def test_the_engineer_who_resolved_the_case_never_records_the_customers_score(service, clock):
    eng = service
    iid, form = register(eng, "repair", starter="svc2")
    respond(eng, clock, iid, engineer="svc_fix")  # customer service staff who also work as engineers
    diagnosed = diagnosis()
    do(eng, "svc_fix", "diagnose", diagnosed, iid)
    do(eng, "svc_fix", "resolve", RESOLVED, iid)

    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {"svc_fix"}
    requester_may_not_work(eng, iid, "svc_fix", "confirm_resolution", {"resolution_confirmed": True,
                                                                       "satisfaction": 5})
    confirm_and_revisit(eng, clock, iid, confirmer="svc2", resolver="svc_fix")  # the return visit is not his either
    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **diagnosed,
                                "return_approver": "none", **RESOLVED, **CONFIRMED, **VISITED})
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)


# -- escalations left open keep the case running -------------------------------------------------------------


@pytest.mark.rule("P3.SLA24")
@pytest.mark.rule("P3.SLA48")
def test_escalations_handled_after_the_return_visit_end_the_instance_and_keep_the_latest_data(service, clock):
    """Both escalations run beside the case; the instance ends when the last of them is done,
    and the case's data keeps the latest values (a stale copy in an escalation branch must
    not overwrite the return visit's score or the reopened diagnosis)."""
    eng = service
    iid, form = register(eng, "repair")
    clock.set(T0 + timedelta(hours=25))
    assert fire(eng, iid) == ["response_overdue"]
    do(eng, "fix1", "first_response", RESPONSE, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    do(eng, "fix1", "resolve", RESOLVED, iid)
    reopened = {"resolution_confirmed": True, "satisfaction": 2}
    do(eng, "svc1", "confirm_resolution", reopened, iid)
    rediagnosed = {"diagnosis": "复查：电机缺相", "quality_fault": False, "proposed_solution": "更换接触器"}
    do(eng, "fix2", "diagnose", rediagnosed, iid)
    clock.advance(hours=49)
    assert fire(eng, iid) == ["resolution_overdue"]
    do(eng, "fix2", "resolve", RESOLVED, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    inst = eng.instance(AUDITOR, iid)
    assert inst["status"] == "running"
    assert {t["name"] for t in inst["tasks"]} == {"response_escalation", "resolution_escalation"}
    chased = {"response_escalation_note": "已督促"}
    pushed = {"resolution_escalation_note": "已督促"}
    do(eng, "mgr1", "response_escalation", chased, iid)
    do(eng, "dir", "resolution_escalation", pushed, iid)

    assert_completed(eng, iid, {**form, "quality_complaint_reported": False, **RESPONSE, **rediagnosed,
                                "return_approver": "none", **RESOLVED, **CONFIRMED, **VISITED, **chased, **pushed})
    assert end_events(eng, iid) == ["resolution_escalation_handled"]
    assert_audit_intact(eng, iid)
