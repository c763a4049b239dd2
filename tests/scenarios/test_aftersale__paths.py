"""P3 aftersale (售后服务): every path from the registration to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. Each path asserts who was
offered each task (exact sets), the data at the end, the audit trail with the branch each
routing gateway took and the end event reached (and the outcome it declares), that replay
reproduces the trail and every chain verifies. Timers move only with the ManualClock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    branches,
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
from tests.scenarios.repository import deploy_repository

KEY = "aftersale"
ROUTING_GATEWAYS = {"round_gateway", "quality_fault_gateway", "approver_gateway", "approval_gateway",
                    "closing_gateway", "consent_gateway", "closing_approval_gateway", "outcome_gateway",
                    "satisfaction_gateway"}
ENGINEERS = holders("aftersales_engineer")
SERVICE = holders("customer_service")
MANAGERS = holders("sales_manager")
DIRECTORS = holders("sales_director")
GENERAL_MANAGERS = holders("general_manager")

DESCRIPTIONS = {
    "installation": "新购 JS750 搅拌机已到货，需上门安装调试",
    "repair": "搅拌机运行中主轴异响，卸料门无法完全关闭",
    "maintenance": "设备累计运行满 500 小时，申请定期保养",
    "return": "到货后发现机架焊缝开裂，客户要求退货",
    "exchange": "减速机漏油，客户要求更换整机",
    "usage_question": "咨询冬季低温条件下的开机预热与润滑方法",
}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系周工，了解故障现象，约定明日上门",
            "planned_visit_date": "2026-12-28"}  # not before any clock below
RESOLVED = {"outcome": "resolved", "resolution": "已上门处理完毕，设备试运行正常，客户现场签字确认"}
CONFIRMED = {"resolution_confirmed": True, "satisfaction": 4, "customer_feedback": "响应及时，处理专业"}
VISITED = {"satisfaction": 5, "usage_feedback": "设备运行一周无异常", "suggestions": "希望提供操作培训视频"}
ASK_TO_CLOSE = {"outcome": "close_requested", "closing_reason": "该型号已停产，配件无货，无法修复"}


@pytest.fixture
def service(engine):
    """All of processes/ and forms/ deployed as they are in the repository (the quality
    complaint the after-sales case may start is one of them), and the people."""
    assert (KEY, 1, "deployed") in deploy_repository(engine)
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


def routes(eng, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def fire(eng, iid: int) -> list[str]:
    """Run the timer worker once; the timers of this instance that fired."""
    before = len(events(eng, iid, "timer_fired"))
    eng.fire_due_timers()
    return [e["task"] for e in events(eng, iid, "timer_fired")[before:]]


def fire_all(eng, *iids: int) -> list[list[str]]:
    """Run the timer worker once; per instance, the timers that fired."""
    before = [len(events(eng, iid, "timer_fired")) for iid in iids]
    eng.fire_due_timers()
    return [[e["task"] for e in events(eng, iid, "timer_fired")[n:]] for iid, n in zip(iids, before, strict=True)]


def assert_ended(eng, iid: int, data: dict, outcome: str) -> None:
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", outcome)
    assert inst["tasks"] == []
    assert inst["ended_at"] is not None
    assert {t["status"] for t in inst["history_tasks"]} == {"completed"}
    assert inst["data"] == data


def opened(form: dict, rounds: int = 1) -> dict:
    return {**form, "case_round": rounds}


# -- the trail, piece by piece ------------------------------------------------------------------------------

REGISTERED = [("started", None), ("gateway_taken", "reopen_merge"), ("gateway_taken", "round_gateway"),
              ("task_ready", "first_response")]
RESPONDED = [("completed", "first_response"), ("gateway_taken", "diagnose_merge")]
DIAGNOSED = [*ready_and_done("diagnose"), ("gateway_taken", "quality_fault_gateway"),
             ("gateway_taken", "approver_gateway")]
RESOLVED_IN_CASE = [("gateway_taken", "resolution_merge"), ("gateway_taken", "closing_gateway"),
                    ("gateway_taken", "result_merge"), ("gateway_taken", "outcome_gateway")]


def resolution_round(approval: str | None = None, task: str = "resolve") -> list[tuple[str, str | None]]:
    """From the diagnosis to the end of handle_case with the case resolved."""
    if approval is None:
        return [*DIAGNOSED, ("gateway_taken", "resolve_merge"), *ready_and_done(task), *RESOLVED_IN_CASE]
    decided = [*ready_and_done(approval), ("gateway_taken", "approval_merge"), ("gateway_taken", "approval_gateway")]
    if task == "resolve":
        decided.append(("gateway_taken", "resolve_merge"))
    return [*DIAGNOSED, *decided, *ready_and_done(task), *RESOLVED_IN_CASE]


REOPENED = [("gateway_taken", "reopen_merge"), ("gateway_taken", "round_gateway"), ("gateway_taken", "diagnose_merge")]
CONFIRMED_REOPEN = [*ready_and_done("confirm_resolution"), ("gateway_taken", "satisfaction_gateway"), *REOPENED]
CLOSED_AND_VISITED = [*ready_and_done("confirm_resolution"), ("gateway_taken", "satisfaction_gateway"),
                      ("timers_due", None), ("timer_fired", "wait_return_visit"), *ready_and_done("return_visit"),
                      ("ended", None)]

FIRST_ROUND = [("round_gateway", "first_response", "default")]
NO_QUALITY_FAULT = [("quality_fault_gateway", "determine_return_approver", "default")]
RESOLVED_ROUTE = [("closing_gateway", "result_merge", "default"), ("outcome_gateway", "confirm_resolution", "default")]
SATISFIED_ROUTE = [("satisfaction_gateway", "wait_return_visit", "default")]
REOPEN_ROUTE = [("satisfaction_gateway", "reopen_case", "resolution_confirmed == False or satisfaction <= 2"),
                ("round_gateway", "diagnose_merge", "case_round > 1")]
TO_MANAGER = [("approver_gateway", "manager_approval", "return_approver == 'sales_manager'")]
TO_DIRECTOR = [("approver_gateway", "director_approval", "return_approver == 'sales_director'")]
NO_APPROVAL = [("approver_gateway", "resolve_merge", "default")]
APPROVED_ROUTE = [("approval_gateway", "resolve_merge", "default")]
REFUSED_ROUTE = [("approval_gateway", "resolve_otherwise", "approved == False")]
CLOSING_ASKED = [("closing_gateway", "confirm_closing", "outcome == 'close_requested'")]


# -- steps ----------------------------------------------------------------------------------------------------


def register(eng, kind: str, amount: float | None = None, starter: str = "svc1", **extra) -> tuple[int, dict]:
    form = request(kind, amount)
    iid = eng.start(starter, KEY, form, **extra)
    assert offered_to(eng, "first_response", iid) == ENGINEERS
    task = inbox_task(eng, "fix1", "first_response", iid)
    assert parse(task["due_at"]) == parse(task["created_at"]) + timedelta(hours=24)
    return iid, form


def respond(eng, clock, iid: int, engineer: str = "fix1", after: timedelta = timedelta(hours=2)) -> None:
    clock.advance(seconds=after.total_seconds())
    do(eng, engineer, "first_response", RESPONSE, iid)
    assert offered_to(eng, "diagnose", iid) == ENGINEERS


def confirm_and_revisit(eng, clock, iid: int, confirmer: str = "svc2", resolver: str = "fix1",
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

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "none", **RESOLVED,
                            "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert submissions(eng, iid) == [("first_response", RESPONSE), ("diagnose", diagnosed), ("resolve", RESOLVED),
                                     ("confirm_resolution", CONFIRMED), ("return_visit", VISITED)]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round(), *CLOSED_AND_VISITED]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "aftersales_engineer", "customer_service", "customer_service"]
    assert events(eng, iid, "escalated") == []
    assert events(eng, iid, "message_sent") == []
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *NO_APPROVAL, *RESOLVED_ROUTE, *SATISFIED_ROUTE]


def test_only_customer_service_registers_requests(service):
    with pytest.raises(Forbidden):
        service.start("fix1", KEY, request("repair"))
    with pytest.raises(Forbidden):
        service.start("mgr1", KEY, request("repair"))


# -- returns and exchanges: approval chosen by the DMN table return_approval, and binding ------------------


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.SOD")
@pytest.mark.rule("P3.DUE")
def test_return_below_20000_approved_by_the_sales_manager(service, clock):
    eng = service
    iid, form = register(eng, "return", 4800)
    respond(eng, clock, iid, engineer="fix_mgr")
    diagnosed = diagnosis()
    clock.advance(hours=4)
    do(eng, "fix_mgr", "diagnose", diagnosed, iid)  # an engineer who is also a sales manager

    assert offered_to(eng, "director_approval", iid) == set()
    assert offered_to(eng, "manager_approval", iid) == MANAGERS - {"fix_mgr"}  # never his own proposal
    approval = inbox_task(eng, "mgr1", "manager_approval", iid)
    assert parse(approval["due_at"]) == local_time("2026-03-03", "15:00")  # one working day: Monday 15:00 -> Tuesday
    requester_may_not_work(eng, iid, "fix_mgr", "manager_approval", {"approved": True})
    approved = {"approved": True, "comment": "同意退货，财务按原价退款"}
    clock.advance(hours=3)
    do(eng, "mgr2", "manager_approval", approved, iid)

    assert offered_to(eng, "resolve", iid) == ENGINEERS
    assert offered_to(eng, "resolve_otherwise", iid) == set()
    assert eng.task("fix1", inbox_task(eng, "fix1", "resolve", iid)["id"])["instance_data"]["comment"] == \
        approved["comment"]
    returned = {"outcome": "resolved", "resolution": "已收回设备，退款 4800 元已由财务办理"}
    clock.advance(hours=10)
    do(eng, "fix1", "resolve", returned, iid)
    confirm_and_revisit(eng, clock, iid)

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "sales_manager", **approved,
                            **returned, "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("manager_approval"), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *TO_MANAGER, *APPROVED_ROUTE, *RESOLVED_ROUTE,
                                *SATISFIED_ROUTE]


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

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "sales_director", **approved,
                            **exchanged, "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("director_approval"),
                               *CLOSED_AND_VISITED]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "sales_director", "aftersales_engineer", "customer_service",
        "customer_service"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *TO_DIRECTOR, *APPROVED_ROUTE, *RESOLVED_ROUTE,
                                *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.3c")
def test_a_refused_return_cannot_be_carried_out_the_engineer_resolves_otherwise(service, clock):
    eng = service
    iid, form = register(eng, "return", 20000)
    respond(eng, clock, iid)
    diagnosed = diagnosis()
    do(eng, "fix1", "diagnose", diagnosed, iid)

    assert offered_to(eng, "director_approval", iid) == DIRECTORS
    refused = {"approved": False, "comment": "属可修复故障，不予退货，请安排维修"}
    clock.advance(hours=2)
    do(eng, "dir", "director_approval", refused, iid)

    # the refusal binds: the task that carries out the return is not offered, the one that does something else is,
    # and it shows the refusal and its reason
    assert offered_to(eng, "resolve", iid) == set()
    assert offered_to(eng, "resolve_otherwise", iid) == ENGINEERS
    task = inbox_task(eng, "fix1", "resolve_otherwise", iid)
    shown = eng.task("fix1", task["id"])
    assert (shown["instance_data"]["approved"], shown["instance_data"]["comment"]) == (False, refused["comment"])
    with pytest.raises(InvalidData) as error:  # the refused return is no remedy the form accepts
        eng.complete("fix1", task["id"], {"outcome": "resolved", "remedy": "return", "resolution": "已退货"})
    assert set(error.value.fields) == {"remedy"}
    with pytest.raises(InvalidData) as error:
        eng.complete("fix1", task["id"], {"outcome": "resolved", "resolution": "已维修"})
    assert {f: t["zh"] for f, t in error.value.fields.items()} == {"remedy": "请选择替代处理方式"}
    assert open_task(eng, iid, "resolve_otherwise")["status"] == "ready"

    repaired = {"outcome": "resolved", "remedy": "repair", "resolution": "不予退货，已上门更换轴承并调试，设备运行正常"}
    clock.advance(hours=6)
    do(eng, "fix1", "resolve_otherwise", repaired, iid)
    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {"fix1"}
    confirmed = {"resolution_confirmed": True, "satisfaction": 3}  # 3 closes the case
    confirm_and_revisit(eng, clock, iid, confirmed=confirmed)

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "sales_director", **refused,
                            **repaired, "case_result": "resolved", **confirmed, **VISITED}, "resolved")
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round("director_approval", "resolve_otherwise"),
                               *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *TO_DIRECTOR, *REFUSED_ROUTE, *RESOLVED_ROUTE,
                                *SATISFIED_ROUTE]


@pytest.mark.rule("P3.3b")
@pytest.mark.rule("P3.3c")
@pytest.mark.rule("P3.6")
def test_exchange_refused_then_the_case_closed_with_the_customers_consent(service, clock):
    eng = service
    iid, form = register(eng, "exchange", 3000)
    respond(eng, clock, iid)
    diagnosed = diagnosis()
    do(eng, "fix2", "diagnose", diagnosed, iid)

    assert offered_to(eng, "manager_approval", iid) == MANAGERS
    refused = {"approved": False, "comment": "已超过三个月换货期，不予换货"}
    clock.advance(hours=1)
    do(eng, "mgr1", "manager_approval", refused, iid)
    asked = {"outcome": "close_requested", "closing_reason": "换货申请未获批准，客户拒绝有偿维修"}
    clock.advance(hours=1)
    do(eng, "fix2", "resolve_otherwise", asked, iid)

    # the engineer only asks: the case is still open, customer service asks the customer
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    assert offered_to(eng, "confirm_closing", iid) == SERVICE
    consent = {"customer_agrees_to_close": True,
               "customer_closing_answer": "周工 3 月 2 日来电：同意不再处理，自行外修"}
    clock.advance(hours=2)
    do(eng, "svc1", "confirm_closing", consent, iid)

    assert offered_to(eng, "approve_closing", iid) == set()  # the customer's consent is enough
    assert offered_to(eng, "confirm_resolution", iid) == set()
    clock.advance(days=8)
    assert fire(eng, iid) == []  # no return visit for a closed case
    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "sales_manager", **refused,
                            **asked, **consent, "case_result": "closed_unresolved"}, "closed_unresolved")
    seen_by_registrar = eng.instance("svc1", iid)
    assert seen_by_registrar["outcome"] == "closed_unresolved"
    assert (seen_by_registrar["data"]["comment"], seen_by_registrar["data"]["closing_reason"]) == (
        refused["comment"], asked["closing_reason"])
    assert submissions(eng, iid) == [("first_response", RESPONSE), ("diagnose", diagnosed),
                                     ("manager_approval", refused), ("resolve_otherwise", asked),
                                     ("confirm_closing", consent)]
    assert trail(eng, iid) == [
        *REGISTERED, *RESPONDED, *DIAGNOSED, *ready_and_done("manager_approval"), ("gateway_taken", "approval_merge"),
        ("gateway_taken", "approval_gateway"), *ready_and_done("resolve_otherwise"),
        ("gateway_taken", "resolution_merge"), ("gateway_taken", "closing_gateway"),
        *ready_and_done("confirm_closing"), ("gateway_taken", "consent_gateway"), ("gateway_taken", "result_merge"),
        ("gateway_taken", "outcome_gateway"), ("ended", None)]
    # the sub-process's own end is reached in the same step and listed with it
    assert end_events(eng, iid) == ["handle_case_end", "case_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        *FIRST_ROUND, *NO_QUALITY_FAULT, *TO_MANAGER, *REFUSED_ROUTE, *CLOSING_ASKED,
        ("consent_gateway", "result_merge", "customer_agrees_to_close == True"),
        ("outcome_gateway", "case_closed", "case_result == 'closed_unresolved'")]


# -- closing unresolved: never on the engineer's word alone -------------------------------------------------


def ask_to_close(eng, clock, iid: int, engineer: str = "fix1") -> None:
    """A repair the engineer cannot do: he asks to close; customer service asks the customer, who objects."""
    respond(eng, clock, iid, engineer=engineer)
    do(eng, engineer, "diagnose", diagnosis(), iid)
    clock.advance(hours=5)
    do(eng, engineer, "resolve", ASK_TO_CLOSE, iid)
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    assert offered_to(eng, "confirm_closing", iid) == SERVICE - {engineer}


OBJECTS = {"customer_agrees_to_close": False, "customer_closing_answer": "客户不同意：要求厂家必须修好"}


@pytest.mark.rule("P3.6")
@pytest.mark.rule("P3.DUE")
def test_the_customer_objects_and_the_sales_manager_approves_the_closing_with_a_reason(service, clock):
    eng = service
    iid, form = register(eng, "repair")
    ask_to_close(eng, clock, iid)
    clock.advance(hours=1)
    do(eng, "svc2", "confirm_closing", OBJECTS, iid)

    assert offered_to(eng, "approve_closing", iid) == MANAGERS
    decision = inbox_task(eng, "mgr1", "approve_closing", iid)
    assert parse(decision["due_at"]) == parse(decision["created_at"]) + timedelta(days=1)  # Monday -> Tuesday
    task = decision["id"]
    with pytest.raises(InvalidData) as error:  # a reason, always
        eng.complete("mgr1", task, {"closing_approved": True})
    assert {f: t["zh"] for f, t in error.value.fields.items()} == {"closing_comment": "须写明同意或不同意结案的理由"}
    approved = {"closing_approved": True,
                "closing_comment": "停产型号无配件，已提出以旧换新优惠，客户暂不接受，准予结案"}
    clock.advance(hours=2)
    do(eng, "mgr1", "approve_closing", approved, iid)

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosis(), "return_approver": "none", **ASK_TO_CLOSE,
                            **OBJECTS, **approved, "case_result": "closed_unresolved"}, "closed_unresolved")
    assert trail(eng, iid) == [
        *REGISTERED, *RESPONDED, *DIAGNOSED, ("gateway_taken", "resolve_merge"), *ready_and_done("resolve"),
        ("gateway_taken", "resolution_merge"), ("gateway_taken", "closing_gateway"),
        *ready_and_done("confirm_closing"), ("gateway_taken", "consent_gateway"), *ready_and_done("approve_closing"),
        ("gateway_taken", "closing_approval_gateway"), ("gateway_taken", "result_merge"),
        ("gateway_taken", "outcome_gateway"), ("ended", None)]
    assert end_events(eng, iid) == ["handle_case_end", "case_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        *FIRST_ROUND, *NO_QUALITY_FAULT, *NO_APPROVAL, *CLOSING_ASKED,
        ("consent_gateway", "approve_closing", "default"),
        ("closing_approval_gateway", "result_merge", "closing_approved == True"),
        ("outcome_gateway", "case_closed", "case_result == 'closed_unresolved'")]


@pytest.mark.rule("P3.6")
def test_the_sales_manager_refuses_the_closing_and_the_engineer_resolves_the_case(service, clock):
    eng = service
    iid, form = register(eng, "repair")
    ask_to_close(eng, clock, iid)
    do(eng, "svc2", "confirm_closing", OBJECTS, iid)
    refused = {"closing_approved": False, "closing_comment": "可从报废样机拆件修复，退回重新处理"}
    do(eng, "mgr2", "approve_closing", refused, iid)

    # back to the engineers, with a new diagnosis; the case stays open and no closing is offered
    assert offered_to(eng, "diagnose", iid) == ENGINEERS
    assert offered_to(eng, "confirm_closing", iid) == set()
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    rediagnosed = {"diagnosis": "主轴轴承损坏，可用样机配件替换", "quality_fault": False,
                   "proposed_solution": "拆样机轴承更换"}
    do(eng, "fix2", "diagnose", rediagnosed, iid)
    fixed = {"outcome": "resolved", "resolution": "已用样机轴承修复，试运行正常"}
    do(eng, "fix2", "resolve", fixed, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **rediagnosed, "return_approver": "none", **fixed,
                            "closing_reason": ASK_TO_CLOSE["closing_reason"], **OBJECTS, **refused,
                            "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert [task for task, _data in submissions(eng, iid)] == [
        "first_response", "diagnose", "resolve", "confirm_closing", "approve_closing", "diagnose", "resolve",
        "confirm_resolution", "return_visit"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        *FIRST_ROUND, *NO_QUALITY_FAULT, *NO_APPROVAL, *CLOSING_ASKED,
        ("consent_gateway", "approve_closing", "default"),
        ("closing_approval_gateway", "diagnose_merge", "default"),
        *NO_QUALITY_FAULT, *NO_APPROVAL, *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.6")
@pytest.mark.rule("P3.SOD")
def test_whoever_asked_to_close_neither_records_the_consent_nor_approves_the_closing(service, clock):
    eng = service
    iid, _form = register(eng, "repair")
    ask_to_close(eng, clock, iid, engineer="svc_fix")  # customer service staff who also work as engineers
    requester_may_not_work(eng, iid, "svc_fix", "confirm_closing", {"customer_agrees_to_close": True,
                                                                    "customer_closing_answer": "同意"})
    do(eng, "svc1", "confirm_closing", OBJECTS, iid)
    assert offered_to(eng, "approve_closing", iid) == MANAGERS

    other, _ = register(eng, "repair", starter="svc2")
    ask_to_close(eng, clock, other, engineer="fix_mgr")  # an engineer who is also a sales manager
    do(eng, "svc1", "confirm_closing", OBJECTS, other)
    assert offered_to(eng, "approve_closing", other) == MANAGERS - {"fix_mgr"}
    requester_may_not_work(eng, other, "fix_mgr", "approve_closing", {"closing_approved": True,
                                                                      "closing_comment": "同意"})
    assert_audit_intact(eng, iid)
    assert_audit_intact(eng, other)


# -- deadlines on the approvals (one working day) and escalation to the next level up ------------------------


@pytest.mark.rule("P3.DUE")
def test_an_approval_left_a_working_day_escalates_to_the_next_level_up(service, clock):
    """Friday afternoon the manager's approval falls due on Monday afternoon; then the sales director is
    told. The director's own approval left a working day goes to the general manager, and a closing
    decision left a working day to the sales director. None of them takes the decision away."""
    eng = service
    clock.set(local_time("2026-03-06", "10:00"))  # a Friday
    small, _ = register(eng, "return", 5000)
    large, _ = register(eng, "exchange", 50000)
    closing, _ = register(eng, "repair")
    for iid in (small, large):
        respond(eng, clock, iid, after=timedelta(minutes=10))
        do(eng, "fix1", "diagnose", diagnosis(), iid)
    ask_to_close(eng, clock, closing)
    do(eng, "svc1", "confirm_closing", OBJECTS, closing)
    offered_at = {iid: parse(open_task(eng, iid, name)["created_at"])
                  for iid, name in ((small, "manager_approval"), (large, "director_approval"),
                                    (closing, "approve_closing"))}
    for iid, name in ((small, "manager_approval"), (large, "director_approval"), (closing, "approve_closing")):
        # its timer: one working day after it was offered, Friday -> Monday, the same time of day; but the
        # case's "resolved within 48 hours of the registration" (the sub-process's timer) falls due first
        registered = parse(eng.instance(AUDITOR, iid)["started_at"])
        assert registered + timedelta(hours=48) < offered_at[iid] + timedelta(days=3)
        assert parse(open_task(eng, iid, name)["due_at"]) == registered + timedelta(hours=48)

    # Monday morning: the approvals are not late yet, but 48 hours (clock hours, the weekend too) have passed
    clock.set(local_time("2026-03-09", "09:00"))
    assert fire_all(eng, small, large, closing) == [["resolution_overdue"]] * 3
    for iid in (small, large, closing):
        do(eng, "dir", "resolution_escalation", {"resolution_escalation_note": "周末未处理，已督促"}, iid)
    clock.set(max(offered_at.values()) + timedelta(days=3, minutes=1))
    assert fire_all(eng, small, large, closing) == [
        ["manager_approval_overdue"], ["director_approval_overdue"], ["closing_approval_overdue"]]
    assert offered_to(eng, "manager_approval_escalation", small) == DIRECTORS
    assert offered_to(eng, "director_approval_escalation", large) == GENERAL_MANAGERS
    assert offered_to(eng, "closing_approval_escalation", closing) == DIRECTORS
    for iid, name, timer in ((small, "manager_approval", "manager_approval_overdue"),
                             (large, "director_approval", "director_approval_overdue"),
                             (closing, "approve_closing", "closing_approval_overdue")):
        assert open_task(eng, iid, name)["status"] == "ready"  # the decision stays where it was
        [escalated] = [e for e in events(eng, iid, "escalated") if e["task"] == timer]
        assert (escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (name, False)

    # the small return: the director chases, the manager approves, the case goes on to its end
    chased = {"manager_approval_escalation_note": "已电话督促销售部经理今日审批"}
    do(eng, "dir", "manager_approval_escalation", chased, small)
    approved = {"approved": True, "comment": "同意退货"}
    do(eng, "mgr1", "manager_approval", approved, small)
    do(eng, "fix2", "resolve", RESOLVED, small)
    confirm_and_revisit(eng, clock, small, resolver="fix2")
    inst = eng.instance(AUDITOR, small)
    assert (inst["status"], inst["outcome"], inst["data"]["manager_approval_escalation_note"]) == (
        "completed", "resolved", chased["manager_approval_escalation_note"])
    assert end_events(eng, small) == ["case_completed"]

    # the large exchange: decided before the general manager got round to his note; the case waits for it,
    # as every escalation inside the handling does (the 48-hour part closes when its escalations are done)
    do(eng, "dir", "director_approval", {"approved": True, "comment": "同意换货"}, large)
    do(eng, "fix1", "resolve", RESOLVED, large)
    assert offered_to(eng, "confirm_resolution", large) == set()
    assert [t["name"] for t in eng.instance(AUDITOR, large)["tasks"]] == ["director_approval_escalation"]
    do(eng, "gm1", "director_approval_escalation", {"director_approval_escalation_note": "已督促销售总监"}, large)
    assert offered_to(eng, "confirm_resolution", large) == SERVICE - {"fix1"}

    # the closing: the director chases, the manager decides
    do(eng, "dir", "closing_approval_escalation", {"closing_approval_escalation_note": "已督促"}, closing)
    do(eng, "mgr2", "approve_closing", {"closing_approved": True, "closing_comment": "准予结案"}, closing)
    assert eng.instance(AUDITOR, closing)["outcome"] == "closed_unresolved"
    for iid in (small, large, closing):
        assert_audit_intact(eng, iid)


# -- a product-quality fault: the case closes into a quality complaint (P4) ---------------------------------


@pytest.mark.rule("P3.3d")
def test_a_quality_fault_closes_the_case_into_a_quality_complaint_and_nothing_is_remedied_here(service, clock):
    eng = service
    iid, form = register(eng, "return", 12000, business_key="SH-2026-0311")
    respond(eng, clock, iid)
    faulty = diagnosis(quality_fault=True, severity="critical")
    clock.advance(hours=2)
    do(eng, "fix2", "diagnose", faulty, iid)

    # the complaint starts for the same customer and business key, with the engineer's diagnosis
    [sent] = events(eng, iid, "message_sent")
    assert sent["actor"] == "fix2"
    payload = {"customer_name": form["customer_name"], "customer_class": "key_account", "product": form["product"],
               "purchase_date": "2026-02-16", "description": form["description"], "complaint_kind": "quality",
               "severity": "critical", "remarks": "售后诊断：" + faulty["diagnosis"]}
    assert sent["payload"]["name"] == "quality_complaint"
    assert sent["payload"]["payload"] == payload
    assert (sent["payload"]["business_key"], sent["payload"]["delivered"]) == ("SH-2026-0311", [])
    [complaint_id] = sent["payload"]["started"]
    complaint = eng.instance(AUDITOR, complaint_id)
    assert (complaint["process_key"], complaint["business_key"], complaint["status"], complaint["started_by"]) == (
        "complaint", "SH-2026-0311", "running", "fix2")
    assert {k: complaint["data"][k] for k in payload} == payload
    [started] = events(eng, complaint_id, "started")
    assert started["payload"]["via_message"] == {"name": "quality_complaint", "from_instance": iid}
    assert_audit_intact(eng, complaint_id)

    # the after-sales case ends here: no return approval, no remedy of its own, no confirmation, no return visit
    for name in ("manager_approval", "director_approval", "resolve", "resolve_otherwise", "confirm_resolution"):
        assert offered_to(eng, name, iid) == set()
    assert_ended(eng, iid, {**opened(form), **RESPONSE, **faulty, "case_result": "transferred"}, "transferred")
    clock.advance(days=8)
    assert fire(eng, iid) == []
    assert trail(eng, iid) == [
        *REGISTERED, *RESPONDED, *ready_and_done("diagnose"), ("gateway_taken", "quality_fault_gateway"),
        ("gateway_taken", "result_merge"), ("gateway_taken", "outcome_gateway"), ("ended", None),
        ("message_sent", None)]  # the message is routed once the step that threw it is recorded
    assert end_events(eng, iid) == ["handle_case_end", "case_transferred"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        *FIRST_ROUND, ("quality_fault_gateway", "report_quality_complaint", "quality_fault == True"),
        ("outcome_gateway", "case_transferred", "case_result == 'transferred'")]


@pytest.mark.rule("P3.3d")
@pytest.mark.rule("P3.4")
def test_a_quality_fault_found_after_a_reopening_closes_the_case_into_a_complaint_too(service, clock):
    eng = service
    iid, form = register(eng, "repair")  # no business key: the case's own key is used
    respond(eng, clock, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    do(eng, "fix1", "resolve", RESOLVED, iid)
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": False, "satisfaction": 2}, iid)
    faulty = diagnosis(quality_fault=True, severity="major")
    do(eng, "fix2", "diagnose", faulty, iid)

    [sent] = events(eng, iid, "message_sent")
    assert sent["payload"]["business_key"] == f"aftersale-{iid}"
    assert sent["payload"]["payload"]["severity"] == "major"
    assert eng.instance(AUDITOR, iid)["outcome"] == "transferred"
    assert end_events(eng, iid) == ["handle_case_end", "case_transferred"]
    assert routes(eng, iid)[-3:] == [
        ("round_gateway", "diagnose_merge", "case_round > 1"),
        ("quality_fault_gateway", "report_quality_complaint", "quality_fault == True"),
        ("outcome_gateway", "case_transferred", "case_result == 'transferred'")]
    assert_audit_intact(eng, iid)


# -- what the forms refuse ------------------------------------------------------------------------------------


def refused(eng, user: str, task_name: str, iid: int, data: dict) -> dict:
    """The submission is refused, field by field, and the task stays open as it was."""
    task = inbox_task(eng, user, task_name, iid)
    with pytest.raises(InvalidData) as error:
        eng.complete(user, task["id"], data)
    assert open_task(eng, iid, task_name)["status"] == "ready"
    return {field: text["zh"] for field, text in error.value.fields.items()}


@pytest.mark.rule("P3.1")
@pytest.mark.rule("P3.6")
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

    assert refused(eng, "fix1", "resolve", iid, {"outcome": "close_requested"}) == {
        "closing_reason": "申请结案须写明原因"}
    assert refused(eng, "fix1", "resolve", iid, {"outcome": "resolved"}) == {"resolution": "请填写处理情况"}
    assert set(refused(eng, "fix1", "resolve", iid, {"outcome": "closed", "closing_reason": "无法修复"})) == {"outcome"}
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

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "sales_manager", **approved,
                            **RESOLVED, "case_result": "resolved", **VISITED, "resolution_confirmed": True},
                 "resolved")
    assert end_events(eng, iid) == ["case_completed"]

    closing, _ = register(eng, "repair")
    ask_to_close(eng, clock, closing)
    assert refused(eng, "svc1", "confirm_closing", closing, {"customer_agrees_to_close": True}) == {
        "customer_closing_answer": "请记录客户的答复"}
    assert refused(eng, "svc1", "confirm_closing", closing, {"customer_agrees_to_close": True,
                                                             "customer_closing_answer": " "}) == {
        "customer_closing_answer": "请记录客户的答复"}
    do(eng, "svc1", "confirm_closing", OBJECTS, closing)
    assert refused(eng, "mgr1", "approve_closing", closing, {"closing_approved": False, "closing_comment": ""}) == {
        "closing_comment": "须写明同意或不同意结案的理由"}
    assert_audit_intact(eng, iid)
    assert_audit_intact(eng, closing)


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
    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, "return_approver": "none", **RESOLVED,
                            "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)


# -- service-level timers (seed 71, 79): 24 hours to answer, 48 hours from the registration to resolve ------


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

    assert_ended(eng, iid, {**opened(form), **chased, **late_response, **diagnosed, "return_approver": "none",
                            **RESOLVED, "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert trail(eng, iid) == [
        *REGISTERED, ("timers_due", None), ("timer_fired", "response_overdue"), ("escalated", "response_overdue"),
        *ready_and_done("response_escalation"), *RESPONDED, *resolution_round(), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *NO_APPROVAL, *RESOLVED_ROUTE, *SATISFIED_ROUTE]


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
def test_48_hours_count_from_the_registration_not_from_the_response(service, clock):
    eng = service
    iid, form = register(eng, "exchange", 6500)
    respond(eng, clock, iid, after=timedelta(hours=10))  # a slow first response does not move the clock
    diagnosed = diagnosis()
    clock.advance(hours=5)
    do(eng, "fix1", "diagnose", diagnosed, iid)
    assert offered_to(eng, "manager_approval", iid) == MANAGERS  # the manager takes his time

    clock.set(T0 + timedelta(hours=47, minutes=59))
    assert fire(eng, iid) == ["manager_approval_overdue"]  # his one working day ran out first
    assert offered_to(eng, "resolution_escalation", iid) == set()
    clock.set(T0 + timedelta(hours=48, minutes=1))
    fired_at = clock.now()
    assert fire(eng, iid) == ["resolution_overdue"]
    assert offered_to(eng, "resolution_escalation", iid) == DIRECTORS  # the next level up, and only them
    assert offered_to(eng, "manager_approval", iid) == MANAGERS  # the work goes on where it was
    assert parse(inbox_task(eng, "dir", "resolution_escalation", iid)["created_at"]) == fired_at
    escalated = {e["task"]: e["payload"] for e in events(eng, iid, "escalated")}
    assert (escalated["resolution_overdue"]["attached_to"], escalated["resolution_overdue"]["interrupting"]) == (
        "handle_case", False)

    pushed = {"resolution_escalation_note": "已要求销售部经理今日内审批，换货机从总库调拨"}
    chased = {"manager_approval_escalation_note": "同上"}
    clock.advance(hours=1)
    do(eng, "dir", "resolution_escalation", pushed, iid)
    do(eng, "dir", "manager_approval_escalation", chased, iid)
    approved = {"approved": True, "comment": "同意换货"}
    do(eng, "mgr1", "manager_approval", approved, iid)
    exchanged = {"outcome": "resolved", "resolution": "已更换减速机总成"}
    clock.advance(hours=6)
    do(eng, "fix2", "resolve", exchanged, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_ended(eng, iid, {**opened(form), **RESPONSE, **diagnosed, **pushed, **chased,
                            "return_approver": "sales_manager", **approved, **exchanged, "case_result": "resolved",
                            **CONFIRMED, **VISITED}, "resolved")
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "aftersales_engineer", "aftersales_engineer", "sales_manager", "sales_director", "sales_director",
        "aftersales_engineer", "customer_service", "customer_service"]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *TO_MANAGER, *APPROVED_ROUTE, *RESOLVED_ROUTE,
                                *SATISFIED_ROUTE]


@pytest.mark.rule("P3.SLA24")
@pytest.mark.rule("P3.SLA48")
def test_no_response_at_all_escalates_at_24_hours_and_again_at_48_hours_from_the_registration(service, clock):
    eng = service
    iid, _form = register(eng, "repair")
    clock.set(T0 + timedelta(hours=48, minutes=1))
    assert sorted(fire(eng, iid)) == ["resolution_overdue", "response_overdue"]
    assert offered_to(eng, "response_escalation", iid) == MANAGERS
    assert offered_to(eng, "resolution_escalation", iid) == DIRECTORS
    assert offered_to(eng, "first_response", iid) == ENGINEERS
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3.SLA48")
def test_a_case_resolved_in_time_is_not_escalated(service, clock):
    eng = service
    iid, _form = register(eng, "installation")
    respond(eng, clock, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    clock.set(T0 + timedelta(hours=47, minutes=59))
    do(eng, "fix1", "resolve", RESOLVED, iid)
    clock.advance(hours=2)  # past 48 hours after the registration, with the handling done
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

    # reopened: the diagnosis is offered again (no second first response), nothing waits for a return visit
    assert offered_to(eng, "diagnose", iid) == ENGINEERS
    assert offered_to(eng, "first_response", iid) == set()
    assert offered_to(eng, "return_visit", iid) == set()
    rediagnosed = {"diagnosis": "复查：卸料门液压缸内泄", "quality_fault": False,
                   "proposed_solution": "更换液压缸密封件"}
    clock.advance(hours=4)
    do(eng, "fix2", "diagnose", rediagnosed, iid)
    resolved_again = {"outcome": "resolved", "resolution": "已更换液压缸密封件，卸料门动作正常"}
    clock.advance(hours=4)
    do(eng, "fix2", "resolve", resolved_again, iid)
    assert offered_to(eng, "confirm_resolution", iid) == SERVICE - {"fix1", "fix2"}
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    assert_ended(eng, iid, {**opened(form, 2), **RESPONSE, **rediagnosed, "return_approver": "none",
                            **resolved_again, "case_result": "resolved", **CONFIRMED, **VISITED}, "resolved")
    assert submissions(eng, iid) == [
        ("first_response", RESPONSE), ("diagnose", diagnosis()), ("resolve", RESOLVED),
        ("confirm_resolution", first_confirmation), ("diagnose", rediagnosed), ("resolve", resolved_again),
        ("confirm_resolution", CONFIRMED), ("return_visit", VISITED)]
    assert trail(eng, iid) == [*REGISTERED, *RESPONDED, *resolution_round(), *CONFIRMED_REOPEN,
                               *resolution_round(), *CLOSED_AND_VISITED]
    assert end_events(eng, iid) == ["case_completed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [*FIRST_ROUND, *NO_QUALITY_FAULT, *NO_APPROVAL, *RESOLVED_ROUTE, *REOPEN_ROUTE,
                                *NO_QUALITY_FAULT, *NO_APPROVAL, *RESOLVED_ROUTE, *SATISFIED_ROUTE]


@pytest.mark.rule("P3.4")
@pytest.mark.rule("P3.SLA48")
def test_a_reopened_case_has_48_hours_again_from_the_reopening(service, clock):
    eng = service
    iid, _form = register(eng, "repair")
    respond(eng, clock, iid)
    first_deadline = T0 + timedelta(hours=48)
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


# -- escalations left open outside the handling keep the instance running, not the case -------------------


@pytest.mark.rule("P3.SLA24")
@pytest.mark.rule("P3.SLA48")
def test_a_resolution_escalation_handled_after_the_return_visit_ends_the_instance_and_keeps_the_latest_data(
        service, clock):
    """The 48-hour escalation runs beside the case; the instance ends when it is done, and the case's
    data keeps the latest values (a stale copy in the escalation branch must not overwrite the return
    visit's score or the reopened diagnosis)."""
    eng = service
    iid, form = register(eng, "repair")
    clock.set(T0 + timedelta(hours=25))
    assert fire(eng, iid) == ["response_overdue"]
    chased = {"response_escalation_note": "已督促"}
    do(eng, "mgr1", "response_escalation", chased, iid)
    do(eng, "fix1", "first_response", RESPONSE, iid)
    do(eng, "fix1", "diagnose", diagnosis(), iid)
    clock.advance(hours=24)
    assert fire(eng, iid) == ["resolution_overdue"]
    do(eng, "fix1", "resolve", RESOLVED, iid)
    reopened = {"resolution_confirmed": True, "satisfaction": 2}
    do(eng, "svc1", "confirm_resolution", reopened, iid)
    rediagnosed = {"diagnosis": "复查：电机缺相", "quality_fault": False, "proposed_solution": "更换接触器"}
    do(eng, "fix2", "diagnose", rediagnosed, iid)
    do(eng, "fix2", "resolve", RESOLVED, iid)
    confirm_and_revisit(eng, clock, iid, resolver="fix2")

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("running", None)
    assert [t["name"] for t in inst["tasks"]] == ["resolution_escalation"]
    pushed = {"resolution_escalation_note": "已督促"}
    do(eng, "dir", "resolution_escalation", pushed, iid)

    assert_ended(eng, iid, {**opened(form, 2), **chased, **RESPONSE, **rediagnosed, "return_approver": "none",
                            **RESOLVED, "case_result": "resolved", **CONFIRMED, **VISITED, **pushed}, "resolved")
    assert end_events(eng, iid) == ["resolution_escalation_handled"]
    assert_audit_intact(eng, iid)
