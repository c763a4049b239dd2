"""P4 complaint (客户投诉处理): every path from the registered complaint to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. The reviewer (the sales director
for quality, the office for service) confirms or re-grades the severity; the DMN table
complaint_routing then picks the taker (complaint_route). Quality complaints are investigated by
quality and production in parallel and decided by the taker (a refund or a compensation above
the decider's limit is approved, DMN complaint_compensation); service complaints are proposed by
the sales manager or the sales vice president, decided by the office (or, for a minor one, by the
sales department), written in the service form and handled by the responsible department. The
customer must accept the solution (a refusal goes one level up, DMN complaint_escalation) before
the complaint leaves the handling sub-process (48 h timer); the first response has its own
sub-process (24 h timer). After the summary, the customer is told the corrective action and a
critical complaint is reported to the general manager. The other scenario files of P4 import the
helpers here: test_complaint__review, __escalation, __compensation, __service, __closing,
__migration and __cancel.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.definitions.bundle import SourceFile
from engine.errors import Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    branches,
    do,
    end_events,
    events,
    history,
    holders,
    inbox_task,
    offered_to,
    open_task,
    parse,
    ready_and_done,
    requester_may_not_work,
    submissions,
    trail,
)
from tests.scenarios.repository import deploy_repository

KEY = "complaint"
ROUTING_GATEWAYS = {"review_gateway", "route_gateway", "kind_gateway", "onsite_gateway", "decider_gateway",
                    "compensation_gateway", "compensation_approver_gateway", "compensation_approved_gateway",
                    "service_decider_gateway", "department_gateway", "accepted_gateway", "rework_gateway",
                    "report_gateway", "penalty_gateway"}

QUALITY_REGISTRATION = {"receipt_no": "XS-2026-0217", "product": "抛光砖 800×800", "spec": "800×800×11mm",
                        "quantity": 120, "grade": "优等品", "colour_no": "PG8001", "purchase_date": "2026-02-17"}
QUALITY_FOUND = {"quality_findings": "留样复检：吸水率 0.6%，超出优等品标准 0.5%", "quality_defect_confirmed": True}
PRODUCTION_FOUND = {"production_findings": "2月10日窑炉温控波动，该批次烧成不足", "production_batch_no": "B260210-3",
                    "production_measures": "更换温控模块，加密抽检"}
# done and told on the day the complaint came in (T0's day): a day that has not come yet is refused
IMPLEMENTED = {"implementation_record": "已送货更换，客户签收并确认铺贴效果", "implemented_on": "2026-03-02"}
SUMMARY = {"root_cause": "窑炉温控波动导致烧成不足", "improvement_actions": "温控模块季度校准；出厂加验吸水率"}
CORRECTIVE = {"corrective_action_notified_on": "2026-03-02", "notice_channel": "phone",
              "corrective_action_notice": "已电话告知王工：温控模块季度校准、出厂加验吸水率；客户表示认可"}
ARCHIVED = {"archive_no": "BGS-TS-2026-011"}
ACCEPTED = {"customer_accepts": True}
PROPOSAL = {"responsible_party": "销售一部 李强", "service_proposal": "通报批评，向客户当面致歉，由主管跟进后续送货"}
DEPARTMENT_TASKS = {"sales": ("handle_in_sales_department", "sales_manager"),
                    "office": ("handle_in_office", "office"),
                    "quality": ("handle_in_quality_department", "quality"),
                    "production": ("handle_in_production_department", "production"),
                    "finance": ("handle_in_finance_department", "finance")}


def registration(kind: str, severity: str) -> dict:
    """The complaint as it is registered (customer service or a sales rep)."""
    form = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "key_account",
            "customer_contact": "王工 13800000000", "complaint_kind": kind, "severity": severity}
    if kind == "quality":
        return {**form, "description": "铺贴后发现部分砖面吸水发暗，怀疑质量问题", **QUALITY_REGISTRATION}
    return {**form, "description": "业务员多次承诺送货时间未兑现，且态度生硬", "complained_party": "销售一部 李强"}


def taken(form_no: str, onsite_visit: bool) -> dict:
    """The 《客户投诉质量处理表》 as the taker fills it in (the registration confirmed)."""
    return {"quality_form_no": form_no, **QUALITY_REGISTRATION,
            "handling_arrangement": "通知品质部复检留样、生产部核查该批次生产记录", "onsite_visit": onsite_visit}


def recorded(took: dict) -> dict:
    """What the trail records of the handling form: the goods are shown read-only from the registration (the
    case holds them already), so only what the taker gave is recorded."""
    return {k: v for k, v in took.items() if k not in QUALITY_REGISTRATION}


def routes(eng, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def review(eng, iid: int, severity: str, reviewer: str | None = None, note: str | None = None) -> dict:
    """The reviewer of the complaint's kind confirms (or re-grades) the severity; returns what was submitted."""
    kind = eng.instance(AUDITOR, iid)["data"]["complaint_kind"]
    task, role = (("review_severity_by_director", "sales_director") if kind == "quality"
                  else ("review_severity_by_office", "office"))
    assert offered_to(eng, task, iid) == holders(role) - {eng.instance(AUDITOR, iid)["started_by"]}
    data = {"severity": severity, **({"severity_note": note} if note else {})}
    do(eng, reviewer or ("dir" if kind == "quality" else "off1"), task, data, iid)
    return data


def investigate(eng, iid: int) -> None:
    """Quality and production investigate in parallel: both are offered at once."""
    assert offered_to(eng, "quality_investigation", iid) == holders("quality")
    assert offered_to(eng, "production_investigation", iid) == holders("production")
    do(eng, "qa2", "quality_investigation", QUALITY_FOUND, iid)
    assert offered_to(eng, "production_investigation", iid) == holders("production")
    assert offered_to(eng, "onsite_visit_by_manager", iid) | offered_to(eng, "onsite_visit_by_director", iid) == set()
    do(eng, "prod1", "production_investigation", PRODUCTION_FOUND, iid)


def service_form(eng, iid: int, department: str = "sales", form_no: str = "FW-2026-009") -> dict:
    """The sales manager fills in the service form; the responsible department handles it. Returns the data."""
    assert offered_to(eng, "fill_service_form", iid) == holders("sales_manager")
    filled = {"service_form_no": form_no, "responsible_department": department}
    do(eng, "mgr1", "fill_service_form", filled, iid)
    task, role = DEPARTMENT_TASKS[department]
    assert offered_to(eng, task, iid) == holders(role)
    handled = {"department_handling": f"{department}: 已约谈责任人，调整工作安排"}
    do(eng, sorted(holders(role))[0], task, handled, iid)
    return {**filled, **handled}


def close(eng, iid: int, penalty_task: str, penalty: dict) -> None:
    """After the accepted solution is carried out: summary, corrective action told, penalty, archive."""
    assert offered_to(eng, "summarise_complaint", iid) == holders("sales_manager")
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    assert offered_to(eng, "notify_corrective_action", iid) == holders("customer_service")
    do(eng, "svc2", "notify_corrective_action", CORRECTIVE, iid)
    assert offered_to(eng, penalty_task, iid) == holders("office")
    do(eng, "off2", penalty_task, penalty, iid)
    assert offered_to(eng, "archive_complaint", iid) == holders("office")
    do(eng, "off1", "archive_complaint", ARCHIVED, iid)


def start(reviewer: str) -> list[tuple[str, str | None]]:
    return [("started", None), ("gateway_taken", "review_gateway"), *ready_and_done(reviewer),
            ("gateway_taken", "review_merge"), ("gateway_taken", "route_gateway")]


QUALITY_START = start("review_severity_by_director")
SERVICE_START = start("review_severity_by_office")
INVESTIGATION = [("task_ready", "quality_investigation"), ("task_ready", "production_investigation"),
                 ("completed", "quality_investigation"), ("completed", "production_investigation")]


def closing(penalty_task: str) -> list[tuple[str, str | None]]:
    """From the accepted solution to the end (no report: not critical)."""
    return [*ready_and_done("implement_solution"), ("task_ready", "summarise_complaint"), ("message_sent", None),
            ("completed", "summarise_complaint"), *ready_and_done("notify_corrective_action"),
            ("gateway_taken", "report_gateway"), ("gateway_taken", "report_merge"),
            ("gateway_taken", "penalty_gateway"), *ready_and_done(penalty_task), ("gateway_taken", "penalty_merge"),
            *ready_and_done("archive_complaint"), ("ended", None)]


CLOSING_QUALITY = closing("assess_quality_penalty")
CLOSING_SERVICE = closing("assess_service_penalty")
NO_MONEY = [("gateway_taken", "quality_decided_merge"), ("gateway_taken", "compensation_gateway"),
            ("gateway_taken", "solution_merge")]
REVIEW_QUALITY = ("review_gateway", "review_severity_by_director", "complaint_kind == 'quality'")
REVIEW_SERVICE = ("review_gateway", "review_severity_by_office", "default")
NO_REPORT = ("report_gateway", "report_merge", "default")


def resolved_message(eng, iid: int) -> dict:
    """The payload of the one complaint_resolved message the complaint threw."""
    [sent] = events(eng, iid, "message_sent")
    assert sent["payload"]["name"] == "complaint_resolved"
    return sent["payload"]["payload"]


@pytest.fixture
def complaints(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    assert ("complaint", 1, "deployed") in deploy_repository(engine)
    return engine


# -- quality complaints (质量投诉) ---------------------------------------------------------------------------


@pytest.mark.rule("P4.1")
@pytest.mark.rule("P4.REVIEW")
@pytest.mark.rule("P4.2a")
@pytest.mark.rule("P4.2b")
@pytest.mark.rule("P4.2d")
@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.NOTIFY")
@pytest.mark.rule("P4.5b")
@pytest.mark.rule("P4.6")
def test_minor_quality_complaint_taken_by_the_sales_manager_replaced_and_accepted(complaints, clock):
    eng, starter = complaints, "svc1"
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_sales_manager"  # as registered

    # nobody takes it before the sales director has confirmed the severity
    assert offered_to(eng, "take_quality_by_manager", iid) == set()
    reviewed = review(eng, iid, "minor")
    assert offered_to(eng, "take_quality_by_director", iid) == set()
    assert offered_to(eng, "take_quality_by_manager", iid) == holders("sales_manager")
    take = inbox_task(eng, "mgr1", "take_quality_by_manager", iid)
    assert (take["role"], take["assignee"], take["title"]) == (
        "sales_manager", None, "受理质量投诉，填写《客户投诉质量处理表》")
    eng.claim("mgr1", take["id"])
    assert offered_to(eng, "take_quality_by_manager", iid) == {"mgr1"}  # personally: gone from the other inboxes
    clock.advance(hours=2)
    took = taken("ZL-2026-031", onsite_visit=False)
    do(eng, "mgr1", "take_quality_by_manager", took, iid)

    clock.advance(hours=3)
    investigate(eng, iid)
    assert offered_to(eng, "decide_quality_by_director", iid) == set()
    assert offered_to(eng, "decide_quality_by_manager", iid) == holders("sales_manager")
    decided = {"quality_resolution": "replace", "resolution_details": "整批更换同色号优等品 120 片，免费送货"}
    clock.advance(hours=1)
    do(eng, "mgr2", "decide_quality_by_manager", decided, iid)

    assert offered_to(eng, "approve_compensation_by_director", iid) == set()  # no money: no approval
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    clock.advance(hours=1)
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    assert offered_to(eng, "implement_solution", iid) == holders("sales_manager")
    clock.advance(hours=5)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    assert resolved_message(eng, iid) == {"outcome": "resolved", "complaint_kind": "quality", "remedy": "replace",
                                          "compensation_yuan": 0, "implemented_on": "2026-03-02"}
    penalty = {"complaint_verified": True, "penalised_party": "生产部烧成车间",
               "quality_penalty": "按《考核方案》通报批评烧成车间，扣车间当月考核分 5 分"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert clock.now() - T0 < timedelta(hours=24)
    assert_completed(eng, iid, starter, {**form, **reviewed, "complaint_route": "quality_sales_manager", **took,
                                         **QUALITY_FOUND, **PRODUCTION_FOUND, **decided, **ACCEPTED, **IMPLEMENTED,
                                         **SUMMARY, **CORRECTIVE, **penalty, **ARCHIVED})
    assert eng.instance(starter, iid)["outcome"] == "resolved"
    assert submissions(eng, iid) == [
        ("review_severity_by_director", reviewed), ("take_quality_by_manager", recorded(took)),
        ("quality_investigation", QUALITY_FOUND), ("production_investigation", PRODUCTION_FOUND),
        ("decide_quality_by_manager", decided), ("inform_customer", ACCEPTED), ("implement_solution", IMPLEMENTED),
        ("summarise_complaint", SUMMARY), ("notify_corrective_action", CORRECTIVE), ("assess_quality_penalty", penalty),
        ("archive_complaint", ARCHIVED)]
    assert trail(eng, iid) == [
        *QUALITY_START, ("task_ready", "take_quality_by_manager"), ("completed", "take_quality_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), ("gateway_taken", "quality_decision_merge"),
        ("gateway_taken", "decider_gateway"), *ready_and_done("decide_quality_by_manager"), *NO_MONEY,
        *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"), *CLOSING_QUALITY]
    assert events(eng, iid, "escalated") == []
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "quality_decision_merge", "default"),
        ("decider_gateway", "decide_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("compensation_gateway", "solution_merge", "default"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        NO_REPORT, ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2c")
def test_minor_quality_complaint_with_the_sales_manager_on_site(complaints, clock):
    eng, starter = complaints, "rep1"  # a sales rep registers it
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)
    reviewed = review(eng, iid, "minor")

    took = taken("ZL-2026-032", onsite_visit=True)
    do(eng, "mgr2", "take_quality_by_manager", took, iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_director", iid) == set()
    assert offered_to(eng, "onsite_visit_by_manager", iid) == holders("sales_manager")
    assert offered_to(eng, "decide_quality_by_manager", iid) == set()  # the visit comes first
    visited = {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长、生产部陈部长",
               "onsite_findings": "施工方未按要求做防污处理，部分为勾缝剂污染"}
    clock.advance(hours=6)
    do(eng, "mgr2", "onsite_visit_by_manager", visited, iid)
    decided = {"quality_resolution": "reject_with_reasons",
               "resolution_details": "经现场查勘及复检，暗斑系施工防污处理不当所致，非产品质量问题；可协助提供清洁方案"}
    do(eng, "mgr2", "decide_quality_by_manager", decided, iid)
    reply = {**ACCEPTED, "customer_feedback": "认可现场查勘结论"}
    do(eng, "svc1", "inform_customer", reply, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    assert resolved_message(eng, iid)["remedy"] == "reject_with_reasons"  # P3 still has a fault to remedy
    penalty = {"complaint_verified": False, "penalty_notes": "非质量问题，不予处罚"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, **reviewed, "complaint_route": "quality_sales_manager", **took,
                                         **QUALITY_FOUND, **PRODUCTION_FOUND, **visited, **decided, **reply,
                                         **IMPLEMENTED, **SUMMARY, **CORRECTIVE, **penalty, **ARCHIVED})
    assert [task for task, _data in submissions(eng, iid)] == [
        "review_severity_by_director", "take_quality_by_manager", "quality_investigation", "production_investigation",
        "onsite_visit_by_manager", "decide_quality_by_manager", "inform_customer", "implement_solution",
        "summarise_complaint", "notify_corrective_action", "assess_quality_penalty", "archive_complaint"]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_manager"),
        ("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
        *ready_and_done("decide_quality_by_manager"), *NO_MONEY,
        *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"), *CLOSING_QUALITY]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_manager",
         "complaint_route == 'quality_sales_manager' and onsite_visit == True"),
        ("decider_gateway", "decide_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("compensation_gateway", "solution_merge", "default"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        NO_REPORT, ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2a")
@pytest.mark.rule("P4.2c")
@pytest.mark.rule("P4.2d")
@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.ESC")
def test_major_quality_complaint_refund_refused_the_general_manager_decides_a_compensation(complaints, clock):
    eng, starter = complaints, "rep2"
    form = registration("quality", "major")
    iid = eng.start(starter, KEY, form)
    reviewed = review(eng, iid, "major")
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_sales_director"

    assert offered_to(eng, "take_quality_by_manager", iid) == set()
    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")
    took = taken("ZL-2026-033", onsite_visit=True)
    clock.advance(hours=1)
    do(eng, "dir", "take_quality_by_director", took, iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_manager", iid) == set()
    assert offered_to(eng, "onsite_visit_by_director", iid) == holders("sales_director")
    visited = {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长",
               "onsite_findings": "约三成砖面吸水发暗，与复检结论一致"}
    do(eng, "dir", "onsite_visit_by_director", visited, iid)

    refund = {"quality_resolution": "refund", "resolution_details": "退回问题砖 36 片并退款", "compensation_yuan": 2880}
    with pytest.raises(InvalidData) as no_amount:  # a refund states its amount
        eng.complete("dir", open_task(eng, iid, "decide_quality_by_director")["id"],
                     {"quality_resolution": "refund", "resolution_details": "退货退款"})
    assert set(no_amount.value.fields) == {"compensation_yuan"}
    assert no_amount.value.fields["compensation_yuan"]["zh"] == "退款或赔偿须填写金额"
    do(eng, "dir", "decide_quality_by_director", refund, iid)
    # within the director's limit (10,000 yuan): no approval, straight to the customer
    assert eng.instance(AUDITOR, iid)["data"]["compensation_approver"] == "none"
    assert offered_to(eng, "approve_compensation_by_gm", iid) == set()
    refused = {"customer_accepts": False, "customer_feedback": "退款不足以弥补返工人工费，要求赔偿"}
    with pytest.raises(InvalidData) as no_reason:  # a refusal is recorded with the customer's reasons
        eng.complete("svc1", open_task(eng, iid, "inform_customer")["id"], {"customer_accepts": False})
    assert set(no_reason.value.fields) == {"customer_feedback"}
    do(eng, "svc1", "inform_customer", refused, iid)

    # one level up: the general manager decides; neither the investigations nor the director again
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_general_manager_decides"
    assert offered_to(eng, "implement_solution", iid) == set()
    assert offered_to(eng, "quality_investigation", iid) == set()
    assert offered_to(eng, "decide_quality_by_director", iid) == set()
    assert offered_to(eng, "decide_quality_by_gm", iid) == holders("general_manager")
    compensate = {"quality_resolution": "compensate", "resolution_details": "更换问题砖并赔偿返工人工费",
                  "compensation_yuan": 14500}
    do(eng, "gm1", "decide_quality_by_gm", compensate, iid)
    assert offered_to(eng, "approve_compensation_by_gm", iid) == set()  # the general manager has no limit
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    assert resolved_message(eng, iid) == {"outcome": "resolved", "complaint_kind": "quality", "remedy": "compensate",
                                          "compensation_yuan": 14500, "implemented_on": "2026-03-02"}
    penalty = {"complaint_verified": True, "penalised_party": "生产部",
               "quality_penalty": "按《考核方案》通报批评并罚款 500 元"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, starter, {
        **form, **reviewed, "complaint_route": "quality_general_manager_decides", **took, **QUALITY_FOUND,
        **PRODUCTION_FOUND, **visited, **compensate, "compensation_approver": "none", **ACCEPTED,
        "customer_feedback": refused["customer_feedback"], **IMPLEMENTED, **SUMMARY, **CORRECTIVE, **penalty,
        **ARCHIVED})
    assert [s for s in submissions(eng, iid) if s[0] in ("decide_quality_by_director", "decide_quality_by_gm",
                                                          "inform_customer")] == [
        ("decide_quality_by_director", refund), ("inform_customer", refused),
        ("decide_quality_by_gm", compensate), ("inform_customer", ACCEPTED)]

    def decision_round(task: str) -> list[tuple]:
        return [("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
                *ready_and_done(task), ("gateway_taken", "quality_decided_merge"),
                ("gateway_taken", "compensation_gateway"), ("gateway_taken", "compensation_approver_gateway"),
                ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
                ("gateway_taken", "accepted_gateway")]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_director"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_director"),
        *decision_round("decide_quality_by_director"), ("gateway_taken", "rework_gateway"),
        *decision_round("decide_quality_by_gm"), *CLOSING_QUALITY]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    money = [("compensation_gateway", "determine_compensation_approver",
              "quality_resolution in ('refund', 'compensate')"),
             ("compensation_approver_gateway", "solution_merge", "default")]
    assert routes(eng, iid) == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_director",
         "complaint_route != 'quality_sales_manager' and (onsite_visit == True or complaint_route == "
         "'quality_general_manager')"),
        ("decider_gateway", "decide_quality_by_director", "default"), *money,
        ("accepted_gateway", "escalate_complaint", "default"),
        ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'"),
        ("decider_gateway", "decide_quality_by_gm", "complaint_route == 'quality_general_manager_decides'"), *money,
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        NO_REPORT, ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2e")
@pytest.mark.rule("P4.REPORT")
@pytest.mark.rule("P4.COMP")
@pytest.mark.rule("P4.SOD")
def test_major_quality_incident_director_on_site_amount_approved_by_the_general_manager_result_reported(
        complaints, clock):
    eng, starter = complaints, "rep_gm"  # a sales rep who is also a general manager
    form = registration("quality", "critical")
    iid = eng.start(starter, KEY, form)
    reviewed = review(eng, iid, "critical")
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_general_manager"

    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")
    took = taken("ZL-2026-034", onsite_visit=False)  # the director goes on site all the same (seed 410)
    do(eng, "dir", "take_quality_by_director", took, iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_director", iid) == holders("sales_director")
    visited = {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长、生产部陈部长、技术部赵工",
               "onsite_findings": "整批 2000 片出现釉面开裂，已停用"}
    do(eng, "dir", "onsite_visit_by_director", visited, iid)
    first = {"quality_resolution": "compensate", "resolution_details": "整批更换并赔偿停工损失",
             "compensation_yuan": 30000}
    do(eng, "dir", "decide_quality_by_director", first, iid)

    # 30,000 yuan is above the director's limit: the general manager approves the amount first
    assert offered_to(eng, "inform_customer", iid) == set()
    assert offered_to(eng, "approve_compensation_by_gm", iid) == holders("general_manager") - {starter}  # sod
    approval = open_task(eng, iid, "approve_compensation_by_gm")
    assert parse(approval["due_at"]) == T0 + timedelta(days=1)  # one working day: Monday 09:00 -> Tuesday 09:00
    requester_may_not_work(eng, iid, starter, "approve_compensation_by_gm", {"approved": True})
    with pytest.raises(InvalidData) as no_reason:
        eng.complete("gm1", approval["id"], {"approved": False, "comment": "  "})
    assert no_reason.value.fields["comment"]["zh"] == "退回时须填写理由"
    sent_back = {"approved": False, "comment": "停工损失须按实际核定，并书面致歉"}
    do(eng, "gm1", "approve_compensation_by_gm", sent_back, iid)

    assert offered_to(eng, "decide_quality_by_director", iid) == holders("sales_director")  # back to the director
    second = {"quality_resolution": "compensate", "resolution_details": "整批更换，按核定停工损失赔偿并书面致歉",
              "compensation_yuan": 24000}
    do(eng, "dir", "decide_quality_by_director", second, iid)
    approved = {"approved": True, "comment": "同意"}
    do(eng, "gm1", "approve_compensation_by_gm", approved, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    do(eng, "svc2", "notify_corrective_action", CORRECTIVE, iid)

    # the result is reported to the general manager, who acknowledges it; the closing does not wait for him
    assert offered_to(eng, "acknowledge_report", iid) == holders("general_manager")
    assert offered_to(eng, "assess_quality_penalty", iid) == holders("office")
    report = open_task(eng, iid, "acknowledge_report")
    assert (report["title"], parse(report["due_at"]) - parse(report["created_at"])) == (
        "总经理知悉处理结果", timedelta(days=1))
    penalty = {"complaint_verified": True, "penalised_party": "生产部、品质部",
               "quality_penalty": "情节严重：按《考核方案》通报批评，烧成班长辞退"}
    do(eng, "off2", "assess_quality_penalty", penalty, iid)
    do(eng, "off1", "archive_complaint", ARCHIVED, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], [t["name"] for t in inst["tasks"]]) == ("running", ["acknowledge_report"])
    with pytest.raises(InvalidData) as not_read:
        eng.complete("gm1", report["id"], {"gm_acknowledged": False})
    assert set(not_read.value.fields) == {"gm_acknowledged"}
    acknowledged = {"gm_acknowledged": True, "gm_remarks": "各部门引以为戒"}
    do(eng, "gm1", "acknowledge_report", acknowledged, iid)

    assert_completed(eng, iid, starter, {
        **form, **reviewed, "complaint_route": "quality_general_manager", **took, **QUALITY_FOUND,
        **PRODUCTION_FOUND, **visited, **second, "compensation_approver": "general_manager", **approved, **ACCEPTED,
        **IMPLEMENTED, **SUMMARY, **CORRECTIVE, **penalty, **ARCHIVED, **acknowledged})
    assert eng.instance(starter, iid)["outcome"] == "resolved"
    rounds = ("decide_quality_by_director", "approve_compensation_by_gm")
    assert [s for s in submissions(eng, iid) if s[0] in rounds] == [
        ("decide_quality_by_director", first), ("approve_compensation_by_gm", sent_back),
        ("decide_quality_by_director", second), ("approve_compensation_by_gm", approved)]
    decision_round = [("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
                      *ready_and_done("decide_quality_by_director"), ("gateway_taken", "quality_decided_merge"),
                      ("gateway_taken", "compensation_gateway"), ("gateway_taken", "compensation_approver_gateway"),
                      *ready_and_done("approve_compensation_by_gm"), ("gateway_taken", "compensation_approved_gateway")]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_director"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_director"),
        *decision_round, *decision_round, ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
        ("gateway_taken", "accepted_gateway"), *ready_and_done("implement_solution"),
        ("task_ready", "summarise_complaint"), ("message_sent", None), ("completed", "summarise_complaint"),
        *ready_and_done("notify_corrective_action"), ("gateway_taken", "report_gateway"),
        ("gateway_taken", "report_merge"), ("gateway_taken", "penalty_gateway"),
        ("task_ready", "assess_quality_penalty"), ("task_ready", "acknowledge_report"),
        ("completed", "assess_quality_penalty"), ("gateway_taken", "penalty_merge"),
        *ready_and_done("archive_complaint"), ("completed", "acknowledge_report"), ("ended", None)]
    assert end_events(eng, iid) == ["report_filed"]  # complaint_closed was reached one step before
    assert_audit_intact(eng, iid)
    gm_round = [("decider_gateway", "decide_quality_by_director", "default"),
                ("compensation_gateway", "determine_compensation_approver",
                 "quality_resolution in ('refund', 'compensate')"),
                ("compensation_approver_gateway", "approve_compensation_by_gm",
                 "compensation_approver == 'general_manager'")]
    assert routes(eng, iid) == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_director",
         "complaint_route != 'quality_sales_manager' and (onsite_visit == True or complaint_route == "
         "'quality_general_manager')"),
        *gm_round, ("compensation_approved_gateway", "quality_decision_merge", "default"),
        *gm_round, ("compensation_approved_gateway", "solution_merge", "approved == True"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("report_gateway", "report_fork", "severity == 'critical'"),
        ("penalty_gateway", "assess_quality_penalty", "default")]


# -- service complaints (非质量投诉) -------------------------------------------------------------------------


@pytest.mark.rule("P4.REVIEW")
@pytest.mark.rule("P4.3")
@pytest.mark.rule("P4.3c")
@pytest.mark.rule("P4.5a")
@pytest.mark.rule("P4.SOD")
def test_minor_service_complaint_proposed_by_the_manager_decided_by_the_office_fined(complaints, clock):
    eng, starter = complaints, "svc_off"  # customer service who also works in the office
    form = registration("service", "minor")
    iid = eng.start(starter, KEY, form)
    requester_may_not_work(eng, iid, starter, "review_severity_by_office", {"severity": "minor"})
    reviewed = review(eng, iid, "minor", reviewer="off2")
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_sales_manager"

    assert offered_to(eng, "propose_service_by_vp", iid) == set()
    assert offered_to(eng, "propose_service_by_manager", iid) == holders("sales_manager")
    proposal = {**PROPOSAL, "handled_by": "office"}
    clock.advance(hours=3)
    do(eng, "mgr2", "propose_service_by_manager", proposal, iid)

    assert offered_to(eng, "quality_investigation", iid) == set()
    assert offered_to(eng, "office_decision", iid) == holders("office") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "office_decision", {"office_decision": "同意"})
    decision = {"office_decision": "同意销售部建议：李强当面致歉，送货改由销售主管负责"}
    do(eng, "off1", "office_decision", decision, iid)
    handled = service_form(eng, iid, "sales")
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    implemented = {"implementation_record": "李强已当面致歉，后续两批货按期送达", "implemented_on": "2026-03-02"}
    do(eng, "mgr1", "implement_solution", implemented, iid)
    assert resolved_message(eng, iid) == {"outcome": "resolved", "complaint_kind": "service", "remedy": "service",
                                          "compensation_yuan": 0, "implemented_on": "2026-03-02"}
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": 50}
    close(eng, iid, "assess_service_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, **reviewed, "complaint_route": "service_sales_manager", **proposal,
                                         **decision, **handled, **ACCEPTED, **implemented, **SUMMARY, **CORRECTIVE,
                                         **penalty, **ARCHIVED})
    assert submissions(eng, iid) == [
        ("review_severity_by_office", reviewed), ("propose_service_by_manager", proposal),
        ("office_decision", decision),
        ("fill_service_form", {"service_form_no": "FW-2026-009", "responsible_department": "sales"}),
        ("handle_in_sales_department", {"department_handling": handled["department_handling"]}),
        ("inform_customer", ACCEPTED), ("implement_solution", implemented), ("summarise_complaint", SUMMARY),
        ("notify_corrective_action", CORRECTIVE), ("assess_service_penalty", penalty), ("archive_complaint", ARCHIVED)]
    assert trail(eng, iid) == [
        *SERVICE_START, *ready_and_done("propose_service_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"),
        ("gateway_taken", "office_decision_merge"), ("gateway_taken", "service_decider_gateway"),
        *ready_and_done("office_decision"), ("gateway_taken", "service_decision_merge"),
        *ready_and_done("fill_service_form"), ("gateway_taken", "department_gateway"),
        *ready_and_done("handle_in_sales_department"), ("gateway_taken", "department_merge"),
        ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"),
        *CLOSING_SERVICE]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        REVIEW_SERVICE,
        ("route_gateway", "propose_service_by_manager", "complaint_route == 'service_sales_manager'"),
        ("kind_gateway", "office_decision_merge", "default"),
        ("service_decider_gateway", "office_decision", "default"),
        ("department_gateway", "handle_in_sales_department", "default"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        NO_REPORT, ("penalty_gateway", "assess_service_penalty", "complaint_kind == 'service'")]


@pytest.mark.rule("P4.3")
@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.ESC")
@pytest.mark.rule("P4.REPORT")
@pytest.mark.rule("P4.5a")
def test_critical_service_complaint_proposed_by_the_vp_refused_the_general_manager_decides_then_dismissal(
        complaints, clock):
    eng, starter = complaints, "svc2"
    form = registration("service", "critical")
    iid = eng.start(starter, KEY, form)
    reviewed = review(eng, iid, "critical")
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_sales_vp"

    assert offered_to(eng, "propose_service_by_manager", iid) == set()
    assert offered_to(eng, "propose_service_by_vp", iid) == holders("sales_vp")
    proposal = {"responsible_party": "销售一部 李强", "service_proposal": "情节严重，建议辞退，并由销售副总登门致歉"}
    do(eng, "vp1", "propose_service_by_vp", proposal, iid)
    first = {"office_decision": "由销售部经理电话致歉，下月货款优惠 2%"}
    do(eng, "off1", "office_decision", first, iid)
    handled_1 = service_form(eng, iid, "sales", "FW-2026-010")
    refused = {"customer_accepts": False, "customer_feedback": "要求公司领导登门致歉并更换业务员"}
    do(eng, "svc1", "inform_customer", refused, iid)

    # one level above the vice president's proposal: the general manager decides; the proposal is not asked again
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_general_manager_decides"
    assert offered_to(eng, "propose_service_by_vp", iid) == set()
    assert offered_to(eng, "office_decision", iid) == set()
    assert offered_to(eng, "decide_service_by_vp", iid) == set()
    assert offered_to(eng, "decide_service_by_gm", iid) == holders("general_manager")
    second = {"service_decision": "总经理登门致歉，更换业务员，责任人辞退"}
    do(eng, "gm1", "decide_service_by_gm", second, iid)
    handled_2 = service_form(eng, iid, "office", "FW-2026-010")
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    do(eng, "svc2", "notify_corrective_action", CORRECTIVE, iid)
    # a critical service complaint is a major matter: reported to the general manager too (seed 387)
    assert offered_to(eng, "acknowledge_report", iid) == holders("general_manager")
    acknowledged = {"gm_acknowledged": True}
    do(eng, "rep_gm", "acknowledge_report", acknowledged, iid)
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "dismissal",
               "penalty_notes": "情节严重，予以辞退"}
    do(eng, "off2", "assess_service_penalty", penalty, iid)
    do(eng, "off1", "archive_complaint", ARCHIVED, iid)

    assert_completed(eng, iid, starter, {
        **form, **reviewed, "complaint_route": "service_general_manager_decides", **proposal, **first, **second,
        **handled_1, **handled_2, **ACCEPTED, "customer_feedback": refused["customer_feedback"], **IMPLEMENTED,
        **SUMMARY, **CORRECTIVE, **acknowledged, **penalty, **ARCHIVED})

    def department(task: str) -> list[tuple]:
        return [("gateway_taken", "service_decision_merge"), *ready_and_done("fill_service_form"),
                ("gateway_taken", "department_gateway"), *ready_and_done(task), ("gateway_taken", "department_merge"),
                ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
                ("gateway_taken", "accepted_gateway")]
    assert trail(eng, iid) == [
        *SERVICE_START, *ready_and_done("propose_service_by_vp"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"),
        ("gateway_taken", "office_decision_merge"), ("gateway_taken", "service_decider_gateway"),
        *ready_and_done("office_decision"), *department("handle_in_sales_department"),
        ("gateway_taken", "rework_gateway"), ("gateway_taken", "office_decision_merge"),
        ("gateway_taken", "service_decider_gateway"), *ready_and_done("decide_service_by_gm"),
        *department("handle_in_office"), *ready_and_done("implement_solution"), ("task_ready", "summarise_complaint"),
        ("message_sent", None), ("completed", "summarise_complaint"), *ready_and_done("notify_corrective_action"),
        ("gateway_taken", "report_gateway"), ("gateway_taken", "report_merge"), ("gateway_taken", "penalty_gateway"),
        ("task_ready", "assess_service_penalty"), ("task_ready", "acknowledge_report"),
        ("completed", "acknowledge_report"), ("completed", "assess_service_penalty"),
        ("gateway_taken", "penalty_merge"), *ready_and_done("archive_complaint"), ("ended", None)]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        REVIEW_SERVICE,
        ("route_gateway", "propose_service_by_vp", "default"),
        ("kind_gateway", "office_decision_merge", "default"),
        ("service_decider_gateway", "office_decision", "default"),
        ("department_gateway", "handle_in_sales_department", "default"),
        ("accepted_gateway", "escalate_complaint", "default"),
        ("rework_gateway", "office_decision_merge", "default"),
        ("service_decider_gateway", "decide_service_by_gm", "complaint_route == 'service_general_manager_decides'"),
        ("department_gateway", "handle_in_office", "responsible_department == 'office'"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("report_gateway", "report_fork", "severity == 'critical'"),
        ("penalty_gateway", "assess_service_penalty", "complaint_kind == 'service'")]


def drive_service_complaint_to_the_penalty(eng) -> int:
    iid = eng.start("svc1", KEY, registration("service", "major"))
    review(eng, iid, "major")
    do(eng, "vp1", "propose_service_by_vp", {"responsible_party": "李强", "service_proposal": "通报批评并罚款"}, iid)
    do(eng, "off1", "office_decision", {"office_decision": "同意"}, iid)
    service_form(eng, iid, "sales", "FW-1")
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    do(eng, "svc1", "notify_corrective_action", CORRECTIVE, iid)
    return iid


FINE = "罚款金额为20至100元"


@pytest.mark.rule("P4.5a")
@pytest.mark.parametrize(("fine", "message"), [
    pytest.param(10, FINE, id="10_too_low"), pytest.param(19, FINE, id="19_too_low"),
    pytest.param(101, FINE, id="101_too_high"), pytest.param(50.5, "罚款金额须为整数元", id="not_whole_yuan"),
    pytest.param(None, "通报批评须同时处以20-100元罚款", id="criticism_without_a_fine")])
def test_a_service_fine_outside_20_to_100_yuan_is_refused(complaints, fine, message):
    eng = complaints
    iid = drive_service_complaint_to_the_penalty(eng)
    task = open_task(eng, iid, "assess_service_penalty")
    data = {"complaint_verified": True, "penalised_party": "李强", "service_penalty": "criticism_and_fine",
            **({} if fine is None else {"fine_yuan": fine})}
    with pytest.raises(InvalidData) as refused:
        eng.complete("off1", task["id"], data)
    assert set(refused.value.fields) == {"fine_yuan"}
    assert refused.value.fields["fine_yuan"]["zh"] == message
    assert refused.value.fields["fine_yuan"]["en"]
    after = open_task(eng, iid, "assess_service_penalty")
    assert (after["id"], after["status"], after["assignee"]) == (task["id"], "ready", None)
    assert [e["kind"] for e in history(eng, iid) if e["task"] == "assess_service_penalty"] == ["task_ready"]


@pytest.mark.rule("P4.5a")
@pytest.mark.parametrize("fine", [20, 100])
def test_a_service_fine_of_20_or_100_yuan_is_accepted(complaints, fine):
    eng = complaints
    iid = drive_service_complaint_to_the_penalty(eng)
    penalty = {"complaint_verified": True, "penalised_party": "李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": fine}
    do(eng, "off1", "assess_service_penalty", penalty, iid)
    do(eng, "off2", "archive_complaint", ARCHIVED, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["data"]["fine_yuan"], inst["data"]["service_penalty"]) == (
        "completed", fine, "criticism_and_fine")
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.ESC")
def test_a_complaint_cannot_end_while_the_customer_does_not_accept(complaints, clock):
    """However often the customer refuses, the complaint goes one level up (manager -> director -> general
    manager, who stays the decider): it never ends unresolved."""
    eng, starter = complaints, "svc1"
    iid = eng.start(starter, KEY, registration("quality", "minor"))
    review(eng, iid, "minor")
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-2026-040", onsite_visit=False), iid)
    investigate(eng, iid)
    rounds = [("decide_quality_by_manager", "mgr1", "replace", "quality_sales_manager"),
              ("decide_quality_by_director", "dir", "refund", "quality_sales_director"),
              ("decide_quality_by_gm", "gm1", "compensate", "quality_general_manager_decides"),
              ("decide_quality_by_gm", "gm1", "replace", "quality_general_manager_decides")]
    for round_no, (task, decider, resolution, route) in enumerate(rounds, start=1):
        assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == route
        assert [t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]] == [task]
        decided = {"quality_resolution": resolution, "resolution_details": f"第{round_no}次方案",
                   **({"compensation_yuan": 100 * round_no} if resolution in ("refund", "compensate") else {})}
        do(eng, decider, task, decided, iid)
        if round_no < len(rounds):
            refused = {"customer_accepts": False, "customer_feedback": f"第{round_no}次不接受"}
            do(eng, "svc1", "inform_customer", refused, iid)
            inst = eng.instance(AUDITOR, iid)
            assert (inst["status"], inst["data"]["customer_accepts"]) == ("running", False)
            assert events(eng, iid, "ended") == []
            assert offered_to(eng, "implement_solution", iid) == set()
            assert offered_to(eng, "summarise_complaint", iid) == set()
            assert offered_to(eng, "archive_complaint", iid) == set()
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    assert eng.instance(AUDITOR, iid)["data"]["customer_accepts"] is True
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["customer_accepts"], inst["data"]["quality_resolution"]) == (
        "completed", "resolved", True, "replace")
    assert [e["payload"]["data"]["customer_accepts"] for e in events(eng, iid, "completed")
            if e["task"] == "inform_customer"] == [False, False, False, True]
    assert [b for b in routes(eng, iid) if b[0] in ("accepted_gateway", "rework_gateway", "decider_gateway")] == [
        ("decider_gateway", "decide_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("accepted_gateway", "escalate_complaint", "default"),
        ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'"),
        ("decider_gateway", "decide_quality_by_director", "default"),
        ("accepted_gateway", "escalate_complaint", "default"),
        ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'"),
        *[("decider_gateway", "decide_quality_by_gm", "complaint_route == 'quality_general_manager_decides'"),
          ("accepted_gateway", "escalate_complaint", "default"),
          ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'")],
        ("decider_gateway", "decide_quality_by_gm", "complaint_route == 'quality_general_manager_decides'"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


# -- time limits: response 24 h, resolution 48 h (seed 71, 79) -----------------------------------------------


@pytest.mark.rule("P4.SLA24")
def test_no_response_in_24_hours_escalates_to_the_sales_managers_and_the_follow_up_ends_with_the_handling(
        complaints, clock):
    eng, starter = complaints, "svc1"
    form = registration("service", "major")
    iid = eng.start(starter, KEY, form)
    review(eng, iid, "major")
    assert offered_to(eng, "propose_service_by_vp", iid) == holders("sales_vp")

    clock.set(T0 + timedelta(hours=23, minutes=59))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "response_escalation", iid) == set()
    clock.set(T0 + timedelta(hours=24, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "response_escalation", iid) == holders("sales_manager")
    assert offered_to(eng, "propose_service_by_vp", iid) == holders("sales_vp")  # the first response stays open
    escalation = inbox_task(eng, "mgr1", "response_escalation", iid)
    assert (escalation["role"], escalation["title"]) == ("sales_manager", "投诉响应超时督办")
    assert parse(escalation["created_at"]) == T0 + timedelta(hours=24, minutes=1)
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "response_overdue", "first_response", False)

    clock.advance(hours=1)
    proposal = {"responsible_party": "销售一部 李强", "service_proposal": "通报批评并罚款"}
    do(eng, "rep_vp", "propose_service_by_vp", proposal, iid)
    do(eng, "off1", "office_decision", {"office_decision": "同意"}, iid)
    service_form(eng, iid, "sales", "FW-2026-011")
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    assert offered_to(eng, "response_escalation", iid) == holders("sales_manager")  # not dealt with yet
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    # resolved: the follow-up of the late response has nothing left to chase and ends with the handling
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], [t["name"] for t in inst["tasks"]]) == ("running", ["summarise_complaint"])
    assert [e["task"] for e in events(eng, iid, "task_cancelled")] == ["response_escalation"]
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": 100}
    close(eng, iid, "assess_service_penalty", penalty)

    assert clock.now() - T0 < timedelta(hours=48)
    assert eng.instance(starter, iid)["status"] == "completed"
    assert "response_escalation_note" not in eng.instance(starter, iid)["data"]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["response_overdue"]]
    assert trail(eng, iid)[:10] == [
        *SERVICE_START, ("task_ready", "propose_service_by_vp"),
        ("timers_due", None), ("timer_fired", "response_overdue"), ("escalated", "response_overdue")]
    assert [(e["payload"]["role"], e["task"]) for e in events(eng, iid, "task_ready")][:3] == [
        ("office", "review_severity_by_office"), ("sales_vp", "propose_service_by_vp"),
        ("sales_manager", "response_escalation")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.SLA48")
def test_not_resolved_in_48_hours_escalates_to_the_sales_director(complaints, clock):
    eng, starter = complaints, "rep1"
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)
    review(eng, iid, "minor")
    clock.advance(hours=2)
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-2026-041", onsite_visit=False), iid)
    clock.advance(hours=20)
    investigate(eng, iid)
    assert offered_to(eng, "response_escalation", iid) == set()  # taken in time

    clock.set(T0 + timedelta(hours=47, minutes=59))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "resolution_escalation", iid) == set()
    clock.set(T0 + timedelta(hours=48, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "resolution_escalation", iid) == holders("sales_director")
    assert offered_to(eng, "resolution_escalation_by_gm", iid) == set()  # the first breach goes one level up
    assert offered_to(eng, "decide_quality_by_manager", iid) == holders("sales_manager")  # the handling goes on
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "resolution_overdue", "handle_complaint", False)

    chased = {"resolution_escalation_note": "已要求销售部经理当日拿出处理方案"}
    clock.advance(hours=1)
    do(eng, "dir", "resolution_escalation", chased, iid)
    assert eng.instance(AUDITOR, iid)["status"] == "running"
    decided = {"quality_resolution": "replace", "resolution_details": "更换"}
    do(eng, "mgr1", "decide_quality_by_manager", decided, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["data"]["resolution_escalation_note"]) == (
        "completed", chased["resolution_escalation_note"])
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["resolution_overdue"]]
    assert [e["task"] for e in events(eng, iid, "escalated")] == ["resolution_overdue"]
    kinds = trail(eng, iid)
    fired_at = kinds.index(("timer_fired", "resolution_overdue"))
    assert kinds[fired_at - 1:fired_at + 5] == [
        ("timers_due", None), ("timer_fired", "resolution_overdue"), ("escalated", "resolution_overdue"),
        ("task_ready", "resolution_escalation"), ("completed", "resolution_escalation"),
        ("completed", "decide_quality_by_manager")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.SLA24")
@pytest.mark.rule("P4.SLA48")
def test_both_time_limits_missed_both_escalations_and_the_complaint_still_ends_resolved(complaints, clock):
    eng, starter = complaints, "svc1"
    iid = eng.start(starter, KEY, registration("quality", "major"))
    review(eng, iid, "major")
    clock.set(T0 + timedelta(hours=49))
    assert eng.fire_due_timers() == 2
    assert offered_to(eng, "response_escalation", iid) == holders("sales_manager")
    assert offered_to(eng, "resolution_escalation", iid) == holders("sales_director")
    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")
    assert sorted(e["task"] for e in events(eng, iid, "escalated")) == ["resolution_overdue", "response_overdue"]

    do(eng, "dir", "resolution_escalation", {"resolution_escalation_note": "亲自督办"}, iid)
    do(eng, "dir", "take_quality_by_director", taken("ZL-2026-042", onsite_visit=False), iid)
    do(eng, "mgr1", "response_escalation", {"response_escalation_note": "已督促"}, iid)
    investigate(eng, iid)
    do(eng, "dir", "decide_quality_by_director", {"quality_resolution": "replace", "resolution_details": "更换"}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "resolved")
    assert {"response_escalation_note", "resolution_escalation_note"} <= set(inst["data"])
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


# -- registration and the message start from P3 --------------------------------------------------------------


@pytest.mark.rule("P4.1")
def test_registration_form_requires_the_seed_388_fields_for_a_quality_complaint(complaints):
    eng = complaints
    bare = {k: v for k, v in registration("quality", "minor").items() if k not in QUALITY_REGISTRATION}
    with pytest.raises(InvalidData) as refused:
        eng.start("svc1", KEY, bare)
    assert set(refused.value.fields) == set(QUALITY_REGISTRATION)
    assert refused.value.fields["colour_no"]["zh"] == "质量投诉须登记色号"
    assert refused.value.fields["receipt_no"]["en"] == "A quality complaint needs the receipt no."

    service = {k: v for k, v in registration("service", "minor").items() if k != "complained_party"}
    with pytest.raises(InvalidData) as no_party:
        eng.start("svc1", KEY, service)
    assert set(no_party.value.fields) == {"complained_party"}

    with pytest.raises(InvalidData) as bad_values:
        eng.start("svc1", KEY, {**registration("quality", "minor"), "severity": "huge", "complaint_kind": "price"})
    assert set(bad_values.value.fields) == {"severity", "complaint_kind"}

    # only sales staff and customer service register complaints
    for outsider in ("mgr1", "qa1", "off1"):
        with pytest.raises(Forbidden):
            eng.start(outsider, KEY, registration("quality", "minor"))
    assert [r.chain for r in eng.verify_chains() if r.chain.startswith("instance:")
            and eng.instance(AUDITOR, int(r.chain.split(":")[1]))["process_key"] == KEY] == []


SENDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://salesflow.example/test">
  <bpmn:message id="m" name="quality_complaint"/>
  <bpmn:process id="fault_report" name="测试：转质量投诉" isExecutable="true"
                camunda:candidateStarterGroups="aftersales_engineer">
    <bpmn:laneSet id="ls"><bpmn:lane id="aftersales_engineer" name="售后服务人员">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="t"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="m" camunda:expression="{'customer_name': customer_name,
        'customer_class': customer_class, 'product': product, 'purchase_date': purchase_date,
        'description': description, 'complaint_kind': 'quality', 'severity': severity}"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="e"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.rule("P4.1b")
@pytest.mark.rule("P4.2a")
def test_a_quality_fault_message_starts_a_complaint_and_the_taker_completes_the_registration(complaints, clock):
    """The payload P3 sends (product, purchase date, severity; no receipt, spec, quantity,
    grade or colour no.) starts a complaint; the taker's form completes seed 388's fields."""
    eng = complaints
    eng.deploy("system", files=[SourceFile("fault_report.bpmn", "bpmn", SENDER.encode())])
    fault = {"customer_name": "合肥瑞丰装饰工程有限公司", "customer_class": "local", "product": "抛光砖 800×800",
             "purchase_date": "2026-02-17", "description": "砖面吸水发暗", "severity": "major"}
    sender = eng.start("fix1", "fault_report", fault, business_key="SH-2026-0302")
    [sent] = events(eng, sender, "message_sent")
    [iid] = sent["payload"]["started"]
    inst = eng.instance(AUDITOR, iid)
    assert (inst["process_key"], inst["business_key"], inst["started_by"], inst["status"]) == (
        KEY, "SH-2026-0302", "fix1", "running")
    payload = {**{k: fault[k] for k in ("customer_name", "customer_class", "product", "purchase_date",
                                        "description", "severity")}, "complaint_kind": "quality"}
    assert inst["data"] == {**payload, "complaint_route": "quality_sales_director"}
    [started] = events(eng, iid, "started")
    assert started["payload"]["via_message"] == {"name": "quality_complaint", "from_instance": sender}
    reviewed = review(eng, iid, "major")
    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")

    task = open_task(eng, iid, "take_quality_by_director")
    with pytest.raises(InvalidData) as incomplete:
        eng.complete("dir", task["id"], {"quality_form_no": "ZL-2026-050", "handling_arrangement": "复检",
                                         "onsite_visit": False})
    # what the after-sales case sent (product, purchase date) is prefilled read-only: only the rest is asked
    assert set(incomplete.value.fields) == set(QUALITY_REGISTRATION) - set(payload)
    took = taken("ZL-2026-050", onsite_visit=False)
    do(eng, "dir", "take_quality_by_director", took, iid)
    investigate(eng, iid)
    decided = {"quality_resolution": "replace", "resolution_details": "更换"}
    do(eng, "dir", "decide_quality_by_director", decided, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "生产部", "quality_penalty": "按《考核方案》通报批评"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, "fix1", {**payload, **reviewed, "complaint_route": "quality_sales_director", **took,
                                        **QUALITY_FOUND, **PRODUCTION_FOUND, **decided, **ACCEPTED, **IMPLEMENTED,
                                        **SUMMARY, **CORRECTIVE, **penalty, **ARCHIVED})
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid)[:4] == [
        REVIEW_QUALITY,
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "quality_decision_merge", "default")]
    # the sender waits for nothing: its complaint_resolved went nowhere (fault_report does not catch it)
    assert [(m["payload"]["business_key"], m["payload"]["delivered"]) for m in events(eng, iid, "message_sent")] == [
        ("SH-2026-0302", [])]
