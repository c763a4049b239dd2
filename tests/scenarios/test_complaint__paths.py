"""P4 complaint (客户投诉处理): every path from the registered complaint to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. The DMN table
complaint_routing picks the taker (complaint_route); quality complaints are investigated
by quality and production in parallel and decided by the taker (a major quality incident
is approved by the general manager), service complaints are proposed by the sales manager
or the sales vice president and decided by the office. The customer must accept the
solution before the complaint leaves the handling sub-process (48 h timer); the first
response has its own sub-process (24 h timer).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.definitions.bundle import SourceFile
from engine.errors import Forbidden, InvalidData
from tests.conftest import ROOT, T0, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
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

KEY = "complaint"
ROUTING_GATEWAYS = {"route_gateway", "kind_gateway", "onsite_gateway", "decider_gateway", "gm_gateway",
                    "gm_approved_gateway", "accepted_gateway", "rework_gateway", "penalty_gateway"}

QUALITY_REGISTRATION = {"receipt_no": "XS-2026-0217", "product": "抛光砖 800×800", "spec": "800×800×11mm",
                        "quantity": 120, "grade": "优等品", "colour_no": "PG8001", "purchase_date": "2026-02-17"}
QUALITY_FOUND = {"quality_findings": "留样复检：吸水率 0.6%，超出优等品标准 0.5%", "quality_defect_confirmed": True}
PRODUCTION_FOUND = {"production_findings": "2月10日窑炉温控波动，该批次烧成不足", "production_batch_no": "B260210-3",
                    "production_measures": "更换温控模块，加密抽检"}
IMPLEMENTED = {"implementation_record": "已送货更换，客户签收并确认铺贴效果", "implemented_on": "2026-03-03"}
SUMMARY = {"root_cause": "窑炉温控波动导致烧成不足", "improvement_actions": "温控模块季度校准；出厂加验吸水率"}
ARCHIVED = {"archive_no": "BGS-TS-2026-011"}
ACCEPTED = {"customer_accepts": True}


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


def routes(eng, iid: int) -> list[tuple]:  # noqa: ANN001
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]






def investigate(eng, iid: int) -> None:  # noqa: ANN001
    """Quality and production investigate in parallel: both are offered at once."""
    assert offered_to(eng, "quality_investigation", iid) == holders("quality")
    assert offered_to(eng, "production_investigation", iid) == holders("production")
    do(eng, "qa2", "quality_investigation", QUALITY_FOUND, iid)
    assert offered_to(eng, "production_investigation", iid) == holders("production")
    assert offered_to(eng, "onsite_visit_by_manager", iid) | offered_to(eng, "onsite_visit_by_director", iid) == set()
    do(eng, "prod1", "production_investigation", PRODUCTION_FOUND, iid)


def close(eng, iid: int, penalty_task: str, penalty: dict) -> None:  # noqa: ANN001
    """After the accepted solution is carried out: summary, penalty, archive."""
    assert offered_to(eng, "summarise_complaint", iid) == holders("sales_manager")
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    assert offered_to(eng, penalty_task, iid) == holders("office")
    do(eng, "off2", penalty_task, penalty, iid)
    assert offered_to(eng, "archive_complaint", iid) == holders("office")
    do(eng, "off1", "archive_complaint", ARCHIVED, iid)


QUALITY_START = [("started", None), ("gateway_taken", "route_gateway")]
INVESTIGATION = [("task_ready", "quality_investigation"), ("task_ready", "production_investigation"),
                 ("completed", "quality_investigation"), ("completed", "production_investigation")]
CLOSING_QUALITY = [*ready_and_done("implement_solution", "summarise_complaint"), ("gateway_taken", "penalty_gateway"),
                   *ready_and_done("assess_quality_penalty"), ("gateway_taken", "penalty_merge"),
                   *ready_and_done("archive_complaint"), ("ended", None)]
CLOSING_SERVICE = [*ready_and_done("implement_solution", "summarise_complaint"), ("gateway_taken", "penalty_gateway"),
                   *ready_and_done("assess_service_penalty"), ("gateway_taken", "penalty_merge"),
                   *ready_and_done("archive_complaint"), ("ended", None)]


@pytest.fixture
def complaints(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = {(d.key, d.version, d.status) for d in engine.deploy("system", [ROOT / "processes", ROOT / "forms"])}
    assert ("complaint", 1, "deployed") in deployed
    add_users(engine, PEOPLE)
    return engine


# -- quality complaints (质量投诉) ---------------------------------------------------------------------------


@pytest.mark.rule("P4.1")
@pytest.mark.rule("P4.2a")
@pytest.mark.rule("P4.2b")
@pytest.mark.rule("P4.2d")
@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.5b")
@pytest.mark.rule("P4.6")
def test_minor_quality_complaint_taken_by_the_sales_manager_replaced_and_accepted(complaints, clock):
    eng, starter = complaints, "svc1"
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_sales_manager"

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

    assert offered_to(eng, "gm_approval", iid) == set()
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    clock.advance(hours=1)
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    assert offered_to(eng, "implement_solution", iid) == holders("sales_manager")
    clock.advance(hours=5)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "生产部烧成车间",
               "quality_penalty": "按《考核方案》通报批评烧成车间，扣车间当月考核分 5 分"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert clock.now() - T0 < timedelta(hours=24)
    assert_completed(eng, iid, starter, {**form, "complaint_route": "quality_sales_manager", **took, **QUALITY_FOUND,
                                         **PRODUCTION_FOUND, **decided, **ACCEPTED, **IMPLEMENTED, **SUMMARY,
                                         **penalty, **ARCHIVED})
    assert submissions(eng, iid) == [
        ("take_quality_by_manager", took), ("quality_investigation", QUALITY_FOUND),
        ("production_investigation", PRODUCTION_FOUND), ("decide_quality_by_manager", decided),
        ("inform_customer", ACCEPTED), ("implement_solution", IMPLEMENTED), ("summarise_complaint", SUMMARY),
        ("assess_quality_penalty", penalty), ("archive_complaint", ARCHIVED)]
    assert trail(eng, iid) == [
        *QUALITY_START, ("task_ready", "take_quality_by_manager"), ("completed", "take_quality_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), ("gateway_taken", "quality_decision_merge"),
        ("gateway_taken", "decider_gateway"), *ready_and_done("decide_quality_by_manager"),
        ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"),
        *CLOSING_QUALITY]
    assert events(eng, iid, "escalated") == []
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "take_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "quality_decision_merge", "default"),
        ("decider_gateway", "decide_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2c")
def test_minor_quality_complaint_with_the_sales_manager_on_site(complaints, clock):
    eng, starter = complaints, "rep1"  # a sales rep registers it
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)

    took = taken("ZL-2026-032", onsite_visit=True)
    do(eng, "mgr2", "take_quality_by_manager", took, iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_director", iid) == set()
    assert offered_to(eng, "onsite_visit_by_manager", iid) == holders("sales_manager")
    assert offered_to(eng, "decide_quality_by_manager", iid) == set()  # the visit comes first
    visited = {"onsite_date": "2026-03-03", "onsite_participants": "品质部刘部长、生产部陈部长",
               "onsite_findings": "施工方未按要求做防污处理，部分为勾缝剂污染"}
    clock.advance(hours=6)
    do(eng, "mgr2", "onsite_visit_by_manager", visited, iid)
    decided = {"quality_resolution": "reject_with_reasons",
               "resolution_details": "经现场查勘及复检，暗斑系施工防污处理不当所致，非产品质量问题；可协助提供清洁方案"}
    do(eng, "mgr2", "decide_quality_by_manager", decided, iid)
    do(eng, "svc1", "inform_customer", {**ACCEPTED, "customer_feedback": "认可现场查勘结论"}, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": False, "penalty_notes": "非质量问题，不予处罚"}
    close(eng, iid, "assess_quality_penalty", penalty)

    reply = {**ACCEPTED, "customer_feedback": "认可现场查勘结论"}
    assert_completed(eng, iid, starter, {**form, "complaint_route": "quality_sales_manager", **took, **QUALITY_FOUND,
                                         **PRODUCTION_FOUND, **visited, **decided, **reply, **IMPLEMENTED, **SUMMARY,
                                         **penalty, **ARCHIVED})
    assert [task for task, _data in submissions(eng, iid)] == [
        "take_quality_by_manager", "quality_investigation", "production_investigation", "onsite_visit_by_manager",
        "decide_quality_by_manager", "inform_customer", "implement_solution", "summarise_complaint",
        "assess_quality_penalty", "archive_complaint"]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_manager"),
        ("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
        *ready_and_done("decide_quality_by_manager"), ("gateway_taken", "solution_merge"),
        *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"), *CLOSING_QUALITY]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "take_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_manager",
         "complaint_route == 'quality_sales_manager' and onsite_visit == True"),
        ("decider_gateway", "decide_quality_by_manager", "complaint_route == 'quality_sales_manager'"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2a")
@pytest.mark.rule("P4.2c")
@pytest.mark.rule("P4.2d")
@pytest.mark.rule("P4.4")
def test_major_quality_complaint_taken_by_the_director_refund_refused_then_compensation_accepted(complaints, clock):
    eng, starter = complaints, "rep2"
    form = registration("quality", "major")
    iid = eng.start(starter, KEY, form)
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
    assert offered_to(eng, "gm_approval", iid) == set()  # not a major incident
    refused = {"customer_accepts": False, "customer_feedback": "退款不足以弥补返工人工费，要求赔偿"}
    with pytest.raises(InvalidData) as no_reason:  # a refusal is recorded with the customer's reasons
        eng.complete("svc1", open_task(eng, iid, "inform_customer")["id"], {"customer_accepts": False})
    assert set(no_reason.value.fields) == {"customer_feedback"}
    do(eng, "svc1", "inform_customer", refused, iid)

    # back to the decision, not to the investigations
    assert offered_to(eng, "implement_solution", iid) == set()
    assert offered_to(eng, "quality_investigation", iid) == set()
    assert offered_to(eng, "decide_quality_by_director", iid) == holders("sales_director")
    compensate = {"quality_resolution": "compensate", "resolution_details": "更换问题砖并赔偿返工人工费",
                  "compensation_yuan": 4500}
    do(eng, "dir", "decide_quality_by_director", compensate, iid)
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "生产部",
               "quality_penalty": "按《考核方案》通报批评并罚款 500 元"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, "complaint_route": "quality_sales_director", **took, **QUALITY_FOUND,
                                         **PRODUCTION_FOUND, **visited, **compensate, **ACCEPTED,
                                         "customer_feedback": refused["customer_feedback"], **IMPLEMENTED, **SUMMARY,
                                         **penalty, **ARCHIVED})
    assert [s for s in submissions(eng, iid) if s[0] in ("decide_quality_by_director", "inform_customer")] == [
        ("decide_quality_by_director", refund), ("inform_customer", refused),
        ("decide_quality_by_director", compensate), ("inform_customer", ACCEPTED)]
    decision_round = [("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
                      *ready_and_done("decide_quality_by_director"), ("gateway_taken", "gm_gateway"),
                      ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
                      ("gateway_taken", "accepted_gateway")]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_director"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_director"),
        *decision_round, ("gateway_taken", "rework_gateway"), *decision_round, *CLOSING_QUALITY]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    director_round = [
        ("decider_gateway", "decide_quality_by_director", "default"), ("gm_gateway", "solution_merge", "default")]
    assert routes(eng, iid) == [
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_director",
         "complaint_route != 'quality_sales_manager' and (onsite_visit == True or complaint_route == "
         "'quality_general_manager')"),
        *director_round, ("accepted_gateway", "rework_gateway", "default"),
        ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'"),
        *director_round, ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_quality_penalty", "default")]


@pytest.mark.rule("P4.2e")
@pytest.mark.rule("P4.SOD")
def test_major_quality_incident_director_on_site_general_manager_sends_it_back_then_approves(complaints, clock):
    eng, starter = complaints, "rep_gm"  # a sales rep who is also a general manager
    form = registration("quality", "critical")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "quality_general_manager"

    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")
    took = taken("ZL-2026-034", onsite_visit=False)  # the director goes on site all the same (seed 410)
    do(eng, "dir", "take_quality_by_director", took, iid)
    investigate(eng, iid)
    assert offered_to(eng, "onsite_visit_by_director", iid) == holders("sales_director")
    visited = {"onsite_date": "2026-03-02", "onsite_participants": "品质部刘部长、生产部陈部长、技术部赵工",
               "onsite_findings": "整批 2000 片出现釉面开裂，已停用"}
    do(eng, "dir", "onsite_visit_by_director", visited, iid)
    first = {"quality_resolution": "replace", "resolution_details": "整批更换"}
    do(eng, "dir", "decide_quality_by_director", first, iid)

    assert offered_to(eng, "inform_customer", iid) == set()  # the general manager first
    assert offered_to(eng, "gm_approval", iid) == holders("general_manager") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "gm_approval", {"approved": True})
    with pytest.raises(InvalidData) as no_reason:
        eng.complete("gm1", open_task(eng, iid, "gm_approval")["id"], {"approved": False, "comment": "  "})
    assert no_reason.value.fields["comment"]["zh"] == "退回时须填写理由"
    sent_back = {"approved": False, "comment": "须同时赔偿客户停工损失，并书面致歉"}
    do(eng, "gm1", "gm_approval", sent_back, iid)

    assert offered_to(eng, "decide_quality_by_director", iid) == holders("sales_director")
    second = {"quality_resolution": "compensate", "resolution_details": "整批更换，赔偿停工损失并书面致歉",
              "compensation_yuan": 30000}
    do(eng, "dir", "decide_quality_by_director", second, iid)
    approved = {"approved": True, "comment": "同意"}
    do(eng, "gm1", "gm_approval", approved, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "生产部、品质部",
               "quality_penalty": "情节严重：按《考核方案》通报批评，烧成班长辞退"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, "complaint_route": "quality_general_manager", **took,
                                         **QUALITY_FOUND, **PRODUCTION_FOUND, **visited, **second, **approved,
                                         **ACCEPTED, **IMPLEMENTED, **SUMMARY, **penalty, **ARCHIVED})
    assert [s for s in submissions(eng, iid) if s[0] in ("decide_quality_by_director", "gm_approval")] == [
        ("decide_quality_by_director", first), ("gm_approval", sent_back),
        ("decide_quality_by_director", second), ("gm_approval", approved)]
    decision_round = [("gateway_taken", "quality_decision_merge"), ("gateway_taken", "decider_gateway"),
                      *ready_and_done("decide_quality_by_director"), ("gateway_taken", "gm_gateway"),
                      *ready_and_done("gm_approval"), ("gateway_taken", "gm_approved_gateway")]
    assert trail(eng, iid) == [
        *QUALITY_START, *ready_and_done("take_quality_by_director"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *INVESTIGATION,
        ("gateway_taken", "onsite_gateway"), *ready_and_done("onsite_visit_by_director"),
        *decision_round, *decision_round, ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
        ("gateway_taken", "accepted_gateway"), *CLOSING_QUALITY]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    gm_round = [("decider_gateway", "decide_quality_by_director", "default"),
                ("gm_gateway", "gm_approval", "complaint_route == 'quality_general_manager'")]
    assert routes(eng, iid) == [
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "onsite_visit_by_director",
         "complaint_route != 'quality_sales_manager' and (onsite_visit == True or complaint_route == "
         "'quality_general_manager')"),
        *gm_round, ("gm_approved_gateway", "quality_decision_merge", "default"),
        *gm_round, ("gm_approved_gateway", "solution_merge", "approved == True"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_quality_penalty", "default")]


# -- service complaints (非质量投诉) -------------------------------------------------------------------------


@pytest.mark.rule("P4.3")
@pytest.mark.rule("P4.5a")
@pytest.mark.rule("P4.SOD")
def test_minor_service_complaint_proposed_by_the_manager_decided_by_the_office_fined(complaints, clock):
    eng, starter = complaints, "svc_off"  # customer service who also works in the office
    form = registration("service", "minor")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_sales_manager"

    assert offered_to(eng, "propose_service_by_vp", iid) == set()
    assert offered_to(eng, "propose_service_by_manager", iid) == holders("sales_manager")
    proposal = {"responsible_party": "销售一部 李强",
                "service_proposal": "通报批评，向客户当面致歉，由主管跟进后续送货"}
    clock.advance(hours=3)
    do(eng, "mgr2", "propose_service_by_manager", proposal, iid)

    assert offered_to(eng, "quality_investigation", iid) == set()
    assert offered_to(eng, "office_decision", iid) == holders("office") - {starter}  # sod
    requester_may_not_work(eng, iid, starter, "office_decision", {"office_decision": "同意"})
    decision = {"office_decision": "同意销售部建议：李强当面致歉，送货改由销售主管负责"}
    do(eng, "off1", "office_decision", decision, iid)
    assert offered_to(eng, "fill_service_form", iid) == holders("sales_manager")
    service_form = {"service_form_no": "FW-2026-009", "department_handling": "销售一部已约谈李强，调整送货安排"}
    do(eng, "mgr1", "fill_service_form", service_form, iid)
    assert offered_to(eng, "inform_customer", iid) == holders("customer_service")
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    implemented = {"implementation_record": "李强已当面致歉，后续两批货按期送达", "implemented_on": "2026-03-03"}
    do(eng, "mgr1", "implement_solution", implemented, iid)
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": 50}
    close(eng, iid, "assess_service_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, "complaint_route": "service_sales_manager", **proposal, **decision,
                                         **service_form, **ACCEPTED, **implemented, **SUMMARY, **penalty,
                                         **ARCHIVED})
    assert submissions(eng, iid) == [
        ("propose_service_by_manager", proposal), ("office_decision", decision), ("fill_service_form", service_form),
        ("inform_customer", ACCEPTED), ("implement_solution", implemented), ("summarise_complaint", SUMMARY),
        ("assess_service_penalty", penalty), ("archive_complaint", ARCHIVED)]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"), *ready_and_done("propose_service_by_manager"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"),
        ("gateway_taken", "office_decision_merge"), *ready_and_done("office_decision", "fill_service_form"),
        ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"), ("gateway_taken", "accepted_gateway"),
        *CLOSING_SERVICE]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "propose_service_by_manager", "complaint_route == 'service_sales_manager'"),
        ("kind_gateway", "office_decision_merge", "default"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_service_penalty", "complaint_kind == 'service'")]


@pytest.mark.rule("P4.3")
@pytest.mark.rule("P4.4")
@pytest.mark.rule("P4.5a")
def test_critical_service_complaint_proposed_by_the_vp_refused_back_to_the_office_then_dismissal(complaints, clock):
    eng, starter = complaints, "svc2"
    form = registration("service", "critical")
    iid = eng.start(starter, KEY, form)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_sales_vp"

    assert offered_to(eng, "propose_service_by_manager", iid) == set()
    assert offered_to(eng, "propose_service_by_vp", iid) == holders("sales_vp")
    proposal = {"responsible_party": "销售一部 李强", "service_proposal": "情节严重，建议辞退，并由销售副总登门致歉"}
    do(eng, "vp1", "propose_service_by_vp", proposal, iid)
    first = {"office_decision": "由销售部经理电话致歉，下月货款优惠 2%"}
    do(eng, "off1", "office_decision", first, iid)
    form_1 = {"service_form_no": "FW-2026-010", "department_handling": "已电话致歉"}
    do(eng, "mgr2", "fill_service_form", form_1, iid)
    refused = {"customer_accepts": False, "customer_feedback": "要求公司领导登门致歉并更换业务员"}
    do(eng, "svc1", "inform_customer", refused, iid)

    # back to the office's decision: the proposal (the first response) is not asked for again
    assert offered_to(eng, "propose_service_by_vp", iid) == set()
    assert offered_to(eng, "office_decision", iid) == holders("office")
    second = {"office_decision": "销售副总登门致歉，更换业务员，责任人辞退"}
    do(eng, "off2", "office_decision", second, iid)
    form_2 = {"service_form_no": "FW-2026-010", "department_handling": "副总已登门致歉，业务员已更换"}
    do(eng, "mgr1", "fill_service_form", form_2, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "dismissal",
               "penalty_notes": "情节严重，予以辞退"}
    close(eng, iid, "assess_service_penalty", penalty)

    assert_completed(eng, iid, starter, {**form, "complaint_route": "service_sales_vp", **proposal, **second,
                                         **form_2, **ACCEPTED, "customer_feedback": refused["customer_feedback"],
                                         **IMPLEMENTED, **SUMMARY, **penalty, **ARCHIVED})
    office_round = [("gateway_taken", "office_decision_merge"), *ready_and_done("office_decision", "fill_service_form"),
                    ("gateway_taken", "solution_merge"), *ready_and_done("inform_customer"),
                    ("gateway_taken", "accepted_gateway")]
    assert trail(eng, iid) == [
        ("started", None), ("gateway_taken", "route_gateway"), *ready_and_done("propose_service_by_vp"),
        ("gateway_taken", "response_merge"), ("gateway_taken", "kind_gateway"), *office_round,
        ("gateway_taken", "rework_gateway"), *office_round, *CLOSING_SERVICE]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("route_gateway", "propose_service_by_vp", "default"),
        ("kind_gateway", "office_decision_merge", "default"),
        ("accepted_gateway", "rework_gateway", "default"),
        ("rework_gateway", "office_decision_merge", "default"),
        ("accepted_gateway", "implement_solution", "customer_accepts == True"),
        ("penalty_gateway", "assess_service_penalty", "complaint_kind == 'service'")]


def drive_service_complaint_to_the_penalty(eng) -> int:  # noqa: ANN001
    iid = eng.start("svc1", KEY, registration("service", "major"))
    do(eng, "vp1", "propose_service_by_vp", {"responsible_party": "李强", "service_proposal": "通报批评并罚款"}, iid)
    do(eng, "off1", "office_decision", {"office_decision": "同意"}, iid)
    do(eng, "mgr1", "fill_service_form", {"service_form_no": "FW-1", "department_handling": "已处理"}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
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
def test_a_complaint_cannot_end_while_the_customer_does_not_accept(complaints, clock):
    """However often the customer refuses, the complaint goes back to the decision: it never ends unresolved."""
    eng, starter = complaints, "svc1"
    iid = eng.start(starter, KEY, registration("quality", "minor"))
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-2026-040", onsite_visit=False), iid)
    investigate(eng, iid)
    resolutions = ["replace", "refund", "compensate", "replace"]
    for round_no, resolution in enumerate(resolutions, start=1):
        decided = {"quality_resolution": resolution, "resolution_details": f"第{round_no}次方案",
                   **({"compensation_yuan": 100 * round_no} if resolution in ("refund", "compensate") else {})}
        do(eng, "mgr1", "decide_quality_by_manager", decided, iid)
        if round_no < len(resolutions):
            refused = {"customer_accepts": False, "customer_feedback": f"第{round_no}次不接受"}
            do(eng, "svc1", "inform_customer", refused, iid)
            inst = eng.instance(AUDITOR, iid)
            assert (inst["status"], inst["data"]["customer_accepts"]) == ("running", False)
            assert [t["name"] for t in inst["tasks"]] == ["decide_quality_by_manager"]
            assert events(eng, iid, "ended") == []
            assert offered_to(eng, "implement_solution", iid) == set()
            assert offered_to(eng, "summarise_complaint", iid) == set()
            assert offered_to(eng, "archive_complaint", iid) == set()
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    assert eng.instance(AUDITOR, iid)["data"]["customer_accepts"] is True
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    close(eng, iid, "assess_quality_penalty", {"complaint_verified": False})

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["data"]["customer_accepts"], inst["data"]["quality_resolution"]) == (
        "completed", True, "replace")
    assert [e["payload"]["data"]["customer_accepts"] for e in events(eng, iid, "completed")
            if e["task"] == "inform_customer"] == [False, False, False, True]
    assert [b for b in routes(eng, iid) if b[0] in ("accepted_gateway", "rework_gateway")] == [
        ("accepted_gateway", "rework_gateway", "default"),
        ("rework_gateway", "quality_decision_merge", "complaint_kind == 'quality'")] * 3 + [
        ("accepted_gateway", "implement_solution", "customer_accepts == True")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


# -- time limits: response 24 h, resolution 48 h (seed 71, 79) -----------------------------------------------


@pytest.mark.rule("P4.SLA24")
def test_no_response_in_24_hours_escalates_to_the_sales_managers(complaints, clock):
    eng, starter = complaints, "svc1"
    form = registration("service", "major")
    iid = eng.start(starter, KEY, form)
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
    do(eng, "mgr1", "fill_service_form", {"service_form_no": "FW-2026-011", "department_handling": "已约谈"}, iid)
    do(eng, "svc2", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr2", "implement_solution", IMPLEMENTED, iid)
    # resolved, but the sales manager has not dealt with the escalation yet: the handling stays open
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], [t["name"] for t in inst["tasks"]]) == ("running", ["response_escalation"])
    assert offered_to(eng, "summarise_complaint", iid) == set()
    chased = {"response_escalation_note": "已督促销售副总当日受理，提醒以后按时受理"}
    do(eng, "mgr2", "response_escalation", chased, iid)
    assert offered_to(eng, "summarise_complaint", iid) == holders("sales_manager")
    penalty = {"complaint_verified": True, "penalised_party": "销售一部 李强", "service_penalty": "criticism_and_fine",
               "fine_yuan": 100}
    close(eng, iid, "assess_service_penalty", penalty)

    assert clock.now() - T0 < timedelta(hours=48)
    assert eng.instance(starter, iid)["status"] == "completed"
    assert eng.instance(starter, iid)["data"]["response_escalation_note"] == chased["response_escalation_note"]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["response_overdue"]]
    assert trail(eng, iid)[:8] == [
        ("started", None), ("gateway_taken", "route_gateway"), ("task_ready", "propose_service_by_vp"),
        ("timers_due", None), ("timer_fired", "response_overdue"), ("escalated", "response_overdue"),
        ("task_ready", "response_escalation"), ("completed", "propose_service_by_vp")]
    assert [(e["payload"]["role"], e["task"]) for e in events(eng, iid, "task_ready")][:2] == [
        ("sales_vp", "propose_service_by_vp"), ("sales_manager", "response_escalation")]
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P4.SLA48")
def test_not_resolved_in_48_hours_escalates_to_the_sales_director(complaints, clock):
    eng, starter = complaints, "rep1"
    form = registration("quality", "minor")
    iid = eng.start(starter, KEY, form)
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
    assert inst["status"] == "completed"
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
    assert offered_to(eng, "take_quality_by_director", iid) == holders("sales_director")

    task = open_task(eng, iid, "take_quality_by_director")
    with pytest.raises(InvalidData) as incomplete:
        eng.complete("dir", task["id"], {"quality_form_no": "ZL-2026-050", "handling_arrangement": "复检",
                                         "onsite_visit": False})
    assert set(incomplete.value.fields) == set(QUALITY_REGISTRATION)
    took = taken("ZL-2026-050", onsite_visit=False)
    do(eng, "dir", "take_quality_by_director", took, iid)
    investigate(eng, iid)
    decided = {"quality_resolution": "replace", "resolution_details": "更换"}
    do(eng, "dir", "decide_quality_by_director", decided, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    penalty = {"complaint_verified": True, "penalised_party": "生产部", "quality_penalty": "按《考核方案》通报批评"}
    close(eng, iid, "assess_quality_penalty", penalty)

    assert_completed(eng, iid, "fix1", {**payload, "complaint_route": "quality_sales_director", **took,
                                        **QUALITY_FOUND, **PRODUCTION_FOUND, **decided, **ACCEPTED, **IMPLEMENTED,
                                        **SUMMARY, **penalty, **ARCHIVED})
    assert end_events(eng, iid) == ["complaint_closed"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid)[:3] == [
        ("route_gateway", "take_quality_by_director",
         "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
        ("kind_gateway", "investigation_fork", "complaint_kind == 'quality'"),
        ("onsite_gateway", "quality_decision_merge", "default")]
