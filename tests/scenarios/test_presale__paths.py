"""P1 presale (售前服务): every path from the registered inquiry to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. The sample (P5) and the
visit (P6) run inside the inquiry as call activities, with their tasks offered in the
inquiry's own instance. The quotation reads the list price from the company's price list
(tests/fixtures/prices/list.csv, imported by the `sales` fixture). A won deal throws
`deal_won`, which starts the in-sale order (P2 insale) for the same business key.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import InvalidData, NotFound
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    company_day,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    parse,
    ready_and_done,
    requester_may_not_work,
    submissions,
    trail,
)
from tests.scenarios.presale_steps import (
    DISCOUNT_APPROVALS,
    KEY,
    NO_UNAUTHORISED_QUOTE,
    STANDARD_TERMS,
    UNVERIFIED,
    assert_only_starter,
    deal_payload,
    deploy_sales,
    inquiry,
    needs,
    open_names,
    priced,
    quotation,
    routes,
)

VISIT_DAY = company_day(T0, 3)  # Thursday 2026-03-05


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


SAMPLE_FORM = {"customer_name": "芜湖商砼有限公司", "customer_class": "key_account", "product": "P·O 42.5 散装水泥",
               "spec": "P·O 42.5", "quantity": 50, "purpose": "market_development",
               "delivery_address": "安徽省芜湖市弋江区中山南路 88 号", "wanted_by": company_day(T0, 10)}
SAMPLING = {"batch_no": "PO425-20260302-07"}
DISPATCHED = {"shipped_on": company_day(T0), "carrier": "芜湖顺达物流", "tracking_no": "SD20260304001"}
SAMPLE_FEEDBACK = {"feedback": "客户试配 C30 混凝土，早期强度满足要求", "satisfaction": 5}


def visit_form() -> dict:
    return {"customer_name": "芜湖商砼有限公司", "customer_class": "local", "company": "芜湖商砼有限公司采购部",
            "visitors": "李明（采购经理）、赵静（技术主管）", "visitor_count": 2, "purpose": "考察熟料生产线与化验室",
            "visit_date": VISIT_DAY, "places": "熟料生产线、中心化验室",
            "handling_suggestion": "销售部陪同，技术部介绍质量控制"}


RECEPTION = {"reception_plan": "9:30 会议室介绍；10:00 参观生产线与化验室", "host_name": "王经理"}
VISIT_RECORD = {"visit_summary": "客户对质量控制满意，无遗留事项", "followup_needed": False}




def chain_names(eng: Engine) -> list[str]:
    return [r.chain for r in eng.verify_chains()]


def assert_no_discount_approval_offered(eng: Engine, iid: int) -> None:
    for name in DISCOUNT_APPROVALS:
        assert offered_to(eng, name, iid) == set()




def assert_deal_won_starts_insale(eng: Engine, iid: int, starter: str, business_key: str, data: dict) -> None:
    """The won message carries the deal and starts P2 insale for the same business key, in the same command."""
    payload = deal_payload(data)
    [sent] = events(eng, iid, "message_sent")
    assert sent["actor"] == starter
    assert {k: sent["payload"][k] for k in ("name", "payload", "business_key", "delivered")} == {
        "name": "deal_won", "payload": payload, "business_key": business_key, "delivered": []}
    [insale_id] = sent["payload"]["started"]
    insale = eng.instance(AUDITOR, insale_id)
    assert (insale["process_key"], insale["business_key"], insale["started_by"], insale["status"]) == (
        "insale", business_key, starter, "running")
    assert payload.items() <= insale["data"].items()
    [started] = events(eng, insale_id, "started")
    assert started["payload"]["via_message"] == {"name": "deal_won", "from_instance": iid}
    assert (started["payload"]["data"], started["at"]) == (payload, sent["at"])
    assert_audit_intact(eng, insale_id)


# -- special requirements, a sample, a sales-manager discount, won ------------------------------------------


@pytest.mark.rule("P1.1")
@pytest.mark.rule("P1.2")
@pytest.mark.rule("P1.3")
@pytest.mark.rule("P1.3a")
@pytest.mark.rule("P1.4a")
@pytest.mark.rule("P1.5")
@pytest.mark.rule("P1.5a")
@pytest.mark.rule("P1.6a")
@pytest.mark.rule("P1.SOD")
def test_special_requirements_in_parallel_sample_manager_discount_won(sales, clock):
    eng, starter, business_key = sales, "rep_mgr", "XS-2026-0031"  # a sales rep who is also a sales manager
    form = inquiry("key_account")
    iid = eng.start(starter, KEY, form, business_key=business_key)

    analysis = assert_only_starter(eng, iid, starter, "analyse_needs")
    assert parse(analysis["created_at"]) == T0
    clock.advance(hours=2)
    analysed = needs(special=True, sample=True)
    do(eng, starter, "analyse_needs", analysed, iid)

    # technical, quality and purchasing study the requirements at the same time
    assert open_names(eng, iid) == {"technical_feasibility", "quality_feasibility", "purchasing_feasibility"}
    assert offered_to(eng, "technical_feasibility", iid) == holders("technical")
    assert offered_to(eng, "quality_feasibility", iid) == holders("quality")
    assert offered_to(eng, "purchasing_feasibility", iid) == holders("purchasing")
    purchasing = {"purchasing_feasible": True, "purchasing_opinion": "低氯原料可由现有两家供应商供应，无需新增采购渠道"}
    technical = {"technical_feasible": True, "technical_opinion": "调整熟料配比与粉磨细度可达 3 天 30 MPa"}
    quality = {"quality_feasible": True, "quality_opinion": "出厂逐车检验氯离子，质保书随车"}
    clock.advance(hours=3)
    do(eng, "buy1", "purchasing_feasibility", purchasing, iid)
    do(eng, "tech1", "technical_feasibility", technical, iid)
    assert open_names(eng, iid) == {"quality_feasibility"}
    assert offered_to(eng, "consolidate_agreement", iid) == set()  # waits for all three opinions
    do(eng, "rep_qa", "quality_feasibility", quality, iid)  # a quality man who is a rep may give the opinion

    assert_only_starter(eng, iid, starter, "consolidate_agreement")
    agreed = {"agreement_reached": True,
              "agreement": "供 P·O 42.5 早强型：3 天抗压 ≥ 30 MPa，氯离子 ≤ 0.04%，每车附质保书；作为合同技术条款"}
    clock.advance(hours=1)
    do(eng, starter, "consolidate_agreement", agreed, iid)

    # the sample request (P5) runs inside the inquiry: key account route
    assert_only_starter(eng, iid, starter, "prepare_sample_request")
    do(eng, starter, "prepare_sample_request", SAMPLE_FORM, iid)
    assert offered_to(eng, "sales_approval", iid) == holders("sales_manager") - {starter}  # sod in the callee
    requester_may_not_work(eng, iid, starter, "sales_approval", {"approved": True})
    sales_ok = {"approved": True, "comment": "同意提供 50 千克"}
    do(eng, "mgr1", "sales_approval", sales_ok, iid)
    assert offered_to(eng, "quality_approval", iid) == holders("quality")
    quality_ok = {"approved": True, "comment": "同意，取出厂批"}
    do(eng, "qa1", "quality_approval", quality_ok, iid)
    assert offered_to(eng, "take_sample", iid) == holders("quality")
    do(eng, "qa2", "take_sample", SAMPLING, iid)
    assert offered_to(eng, "dispatch_ship", iid) == holders("dispatcher")
    do(eng, "disp", "dispatch_ship", DISPATCHED, iid)
    feedback = assert_only_starter(eng, iid, starter, "collect_feedback")
    assert parse(feedback["due_at"]) == parse(feedback["created_at"]) + timedelta(days=14)
    clock.advance(days=5)
    do(eng, starter, "collect_feedback", SAMPLE_FEEDBACK, iid)

    # no visit: straight to the quotation; 399 yuan against the list's 420 is 5 % off for a key account
    assert_only_starter(eng, iid, starter, "prepare_quotation")
    quoted = priced(eng, quotation(399), company_day(clock.now()))
    do(eng, starter, "prepare_quotation", quotation(399), iid)
    computed = {"unit_price_yuan": 399, "discount_pct": 5, "list_amount_yuan": 210000, "amount_yuan": 199500,
                "quantity_t": 500, "discount_approver": "sales_manager"}
    assert {k: eng.instance(AUDITOR, iid)["data"][k] for k in computed} == computed
    assert offered_to(eng, "manager_discount_approval", iid) == holders("sales_manager") - {starter}
    assert offered_to(eng, "director_discount_approval", iid) == offered_to(eng, "vp_discount_approval", iid) == set()
    requester_may_not_work(eng, iid, starter, "manager_discount_approval", {"approved": True})
    discount_ok = {"approved": True, "comment": "同意 5% 折扣", **NO_UNAUTHORISED_QUOTE}
    clock.advance(hours=4)
    do(eng, "mgr2", "manager_discount_approval", discount_ok, iid)

    assert_only_starter(eng, iid, starter, "record_outcome")
    won = {"outcome": "won", "outcome_date": company_day(clock.now(), 1),
           "outcome_notes": "客户接受报价，签订年度供货合同"}
    clock.advance(days=1)
    do(eng, starter, "record_outcome", won, iid)

    data = {**form, **analysed, **purchasing, **technical, **quality, **agreed, **SAMPLE_FORM,
            "sample_route": "key_account", **quality_ok, **SAMPLING, **DISPATCHED, **SAMPLE_FEEDBACK, **quoted,
            **computed, **discount_ok, **won}
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [
        ("analyse_needs", analysed), ("purchasing_feasibility", purchasing), ("technical_feasibility", technical),
        ("quality_feasibility", quality), ("consolidate_agreement", agreed), ("prepare_sample_request", SAMPLE_FORM),
        ("sales_approval", sales_ok), ("quality_approval", quality_ok), ("take_sample", SAMPLING),
        ("dispatch_ship", DISPATCHED), ("collect_feedback", SAMPLE_FEEDBACK), ("prepare_quotation", quoted),
        ("manager_discount_approval", discount_ok), ("record_outcome", won)]
    assert trail(eng, iid) == [
        ("started", None), ("task_ready", "analyse_needs"),
        ("completed", "analyse_needs"), ("gateway_taken", "special_requirements_gateway"),
        ("task_ready", "technical_feasibility"), ("task_ready", "quality_feasibility"),
        ("task_ready", "purchasing_feasibility"),
        ("completed", "purchasing_feasibility"), ("completed", "technical_feasibility"),
        ("completed", "quality_feasibility"), ("task_ready", "consolidate_agreement"),
        ("completed", "consolidate_agreement"), ("gateway_taken", "agreement_gateway"),
        ("gateway_taken", "requirements_merge"), ("gateway_taken", "sample_gateway"),
        *ready_and_done("prepare_sample_request"), ("gateway_taken", "route_gateway"),
        *ready_and_done("sales_approval"), ("gateway_taken", "sales_approved_gateway"),
        *ready_and_done("quality_approval"), ("gateway_taken", "quality_approved_gateway"),
        ("gateway_taken", "approval_merge"),
        *ready_and_done("take_sample"), ("gateway_taken", "shipping_gateway"),
        *ready_and_done("dispatch_ship"), ("gateway_taken", "shipped_merge"),
        *ready_and_done("collect_feedback"), ("gateway_taken", "sample_merge"), ("gateway_taken", "visit_gateway"),
        ("gateway_taken", "visit_merge"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        *ready_and_done("manager_discount_approval"), ("gateway_taken", "discount_approval_merge"),
        ("gateway_taken", "authority_gateway"), ("gateway_taken", "authority_merge"),
        ("gateway_taken", "discount_approved_gateway"), ("gateway_taken", "quotation_approved_merge"),
        *ready_and_done("record_outcome"), ("gateway_taken", "outcome_gateway"),
        ("ended", None), ("message_sent", None)]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "initiator", "technical", "quality", "purchasing", "initiator", "initiator", "sales_manager", "quality",
        "quality", "dispatcher", "initiator", "initiator", "sales_manager", "initiator"]
    assert events(eng, iid, "escalated") == []
    assert end_events(eng, iid) == ["deal_won"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("special_requirements_gateway", "feasibility_fork", "special_requirements == True"),
        ("agreement_gateway", "requirements_merge", "agreement_reached == True"),
        ("sample_gateway", "prepare_sample_request", "sample_wanted == True"),
        ("visit_gateway", "visit_merge", "default"),
        ("discount_approver_gateway", "manager_discount_approval", "discount_approver == 'sales_manager'"),
        ("authority_gateway", "authority_merge", "default"),
        ("discount_approved_gateway", "quotation_approved_merge", "approved == True"),
        ("outcome_gateway", "send_deal_won", "outcome == 'won'")]
    assert_deal_won_starts_insale(eng, iid, starter, business_key, data)


# -- a visit, a director's rejection and a revised quotation, lost ------------------------------------------


@pytest.mark.rule("P1.4b")
@pytest.mark.rule("P1.5a")
@pytest.mark.rule("P1.5b")
@pytest.mark.rule("P1.6b")
def test_visit_then_director_rejects_the_discount_revised_quotation_approved_lost(sales, clock):
    eng, starter = sales, "rep2"
    form = inquiry("local", channel="on_site")
    iid = eng.start(starter, KEY, form)

    clock.advance(hours=1)
    analysed = needs(visit=True)
    do(eng, starter, "analyse_needs", analysed, iid)
    # no special requirements: no department is asked, the standard terms are the agreement
    for name in ("technical_feasibility", "quality_feasibility", "purchasing_feasibility", "consolidate_agreement",
                 "prepare_sample_request"):
        assert offered_to(eng, name, iid) == set()
    assert eng.instance(AUDITOR, iid)["data"]["agreement"] == STANDARD_TERMS

    # the customer visit (P6) runs inside the inquiry: local customer, the division leader approves
    assert_only_starter(eng, iid, starter, "prepare_visit_request")
    visit = visit_form()
    do(eng, starter, "prepare_visit_request", visit, iid)
    assert offered_to(eng, "sales_approval", iid) == set()
    assert offered_to(eng, "leader_approval", iid) == holders("division_leader")
    leader_ok = {"approved": True, "comment": "同意，由销售部全程陪同"}
    do(eng, "lead", "leader_approval", leader_ok, iid)
    assert_only_starter(eng, iid, starter, "arrange_reception")
    do(eng, starter, "arrange_reception", RECEPTION, iid)
    clock.set(local_time(VISIT_DAY, "17:59"))
    assert eng.fire_due_timers() == 0
    clock.set(local_time(VISIT_DAY, "18:01"))
    assert eng.fire_due_timers() == 1
    assert_only_starter(eng, iid, starter, "record_visit")
    do(eng, starter, "record_visit", VISIT_RECORD, iid)

    # 408.50 against the list's 430 is 5 % off: for a local customer that needs the sales director
    assert_only_starter(eng, iid, starter, "prepare_quotation")
    no_reason = {**quotation(408.5, product="P·O 52.5", quantity=200)}
    del no_reason["discount_reason"]
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, inbox_task(eng, starter, "prepare_quotation", iid)["id"], no_reason)
    assert set(refused.value.fields) == {"discount_reason"}
    assert refused.value.fields["discount_reason"]["zh"] == "申请折扣须说明理由"
    first = priced(eng, quotation(408.5, product="P·O 52.5", quantity=200), VISIT_DAY)
    do(eng, starter, "prepare_quotation", quotation(408.5, product="P·O 52.5", quantity=200), iid)
    assert eng.instance(AUDITOR, iid)["data"]["discount_pct"] == 5
    assert eng.instance(AUDITOR, iid)["data"]["discount_approver"] == "sales_director"
    assert offered_to(eng, "director_discount_approval", iid) == holders("sales_director")
    assert offered_to(eng, "manager_discount_approval", iid) == offered_to(eng, "vp_discount_approval", iid) == set()
    with pytest.raises(InvalidData) as refused:
        eng.complete("dir", inbox_task(eng, "dir", "director_discount_approval", iid)["id"], {"approved": False})
    assert set(refused.value.fields) == {"comment", "quoted_without_authority"}  # the finding is always recorded
    rejected = {"approved": False, "comment": "地销客户 5% 过高，最多 3%", **NO_UNAUTHORISED_QUOTE}
    clock.advance(hours=2)
    do(eng, "dir", "director_discount_approval", rejected, iid)

    # back to the quotation: the rep revises it, and 3 % is the sales manager's to approve
    assert_only_starter(eng, iid, starter, "prepare_quotation")
    assert_no_discount_approval_offered(eng, iid)
    assert eng.instance(starter, iid)["data"]["comment"] == rejected["comment"]  # the rep sees why
    second = priced(eng, quotation(417.1, product="P·O 52.5", quantity=200, number="BJ-2026-0031-2"), VISIT_DAY)
    do(eng, starter, "prepare_quotation", quotation(417.1, product="P·O 52.5", quantity=200, number="BJ-2026-0031-2"),
       iid)
    assert offered_to(eng, "manager_discount_approval", iid) == holders("sales_manager")
    assert offered_to(eng, "director_discount_approval", iid) == set()
    approved = {"approved": True, "comment": "同意 3%", **NO_UNAUTHORISED_QUOTE}
    do(eng, "mgr1", "manager_discount_approval", approved, iid)

    assert_only_starter(eng, iid, starter, "record_outcome")
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, inbox_task(eng, starter, "record_outcome", iid)["id"],
                     {"outcome": "lost", "outcome_date": VISIT_DAY})
    assert set(refused.value.fields) == {"lost_reason"}
    lost = {"outcome": "lost", "outcome_date": VISIT_DAY, "lost_reason": "客户选择了运距更近的竞争厂家"}
    do(eng, starter, "record_outcome", lost, iid)

    computed = {"unit_price_yuan": 417.1, "discount_pct": 3, "list_amount_yuan": 86000, "amount_yuan": 83420,
                "quantity_t": 200, "discount_approver": "sales_manager"}
    data = {**form, **analysed, "agreement": STANDARD_TERMS, **visit, "visit_approver": "division_leader",
            **leader_ok, **RECEPTION, **VISIT_RECORD, **second, **computed, **approved, **lost}
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [
        ("analyse_needs", analysed), ("prepare_visit_request", visit), ("leader_approval", leader_ok),
        ("arrange_reception", RECEPTION), ("record_visit", VISIT_RECORD), ("prepare_quotation", first),
        ("director_discount_approval", rejected), ("prepare_quotation", second),
        ("manager_discount_approval", approved), ("record_outcome", lost)]
    assert trail(eng, iid) == [
        ("started", None), ("task_ready", "analyse_needs"),
        ("completed", "analyse_needs"), ("gateway_taken", "special_requirements_gateway"),
        ("gateway_taken", "requirements_merge"), ("gateway_taken", "sample_gateway"),
        ("gateway_taken", "sample_merge"), ("gateway_taken", "visit_gateway"),
        *ready_and_done("prepare_visit_request"), ("gateway_taken", "approver_gateway"),
        *ready_and_done("leader_approval"), ("gateway_taken", "approval_merge"), ("gateway_taken", "approved_gateway"),
        *ready_and_done("arrange_reception"),
        ("timers_due", None), ("timer_fired", "wait_for_visit_day"),
        *ready_and_done("record_visit"), ("gateway_taken", "followup_gateway"), ("gateway_taken", "visit_done_merge"),
        ("gateway_taken", "visit_merge"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        *ready_and_done("director_discount_approval"), ("gateway_taken", "discount_approval_merge"),
        ("gateway_taken", "authority_gateway"), ("gateway_taken", "authority_merge"),
        ("gateway_taken", "discount_approved_gateway"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        *ready_and_done("manager_discount_approval"), ("gateway_taken", "discount_approval_merge"),
        ("gateway_taken", "authority_gateway"), ("gateway_taken", "authority_merge"),
        ("gateway_taken", "discount_approved_gateway"), ("gateway_taken", "quotation_approved_merge"),
        *ready_and_done("record_outcome"), ("gateway_taken", "outcome_gateway"),
        ("ended", None)]
    assert events(eng, iid, "message_sent") == []
    assert end_events(eng, iid) == ["deal_lost"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("special_requirements_gateway", "standard_terms", "default"),
        ("sample_gateway", "sample_merge", "default"),
        ("visit_gateway", "prepare_visit_request", "visit_wanted == True"),
        ("discount_approver_gateway", "director_discount_approval", "discount_approver == 'sales_director'"),
        ("authority_gateway", "authority_merge", "default"),
        ("discount_approved_gateway", "quotation_merge", "default"),
        ("discount_approver_gateway", "manager_discount_approval", "discount_approver == 'sales_manager'"),
        ("authority_gateway", "authority_merge", "default"),
        ("discount_approved_gateway", "quotation_approved_merge", "approved == True"),
        ("outcome_gateway", "deal_lost", "default")]


# -- no response within 24 hours: the sales manager is reminded ----------------------------------------------


@pytest.mark.rule("P1.SLA24")
@pytest.mark.rule("P1.5")
@pytest.mark.rule("P1.6b")
def test_no_response_within_24_hours_escalates_to_the_sales_manager_list_price_lost(sales, clock):
    eng, starter = sales, "rep1"
    form = inquiry("key_account", channel="web")
    iid = eng.start(starter, KEY, form)
    assert_only_starter(eng, iid, starter, "analyse_needs")

    clock.set(T0 + timedelta(hours=23, minutes=59))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "response_overdue_reminder", iid) == set()
    clock.set(T0 + timedelta(hours=24, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "response_overdue_reminder", iid) == holders("sales_manager")
    reminder = inbox_task(eng, "mgr1", "response_overdue_reminder", iid)
    assert (reminder["role"], reminder["assignee"]) == ("sales_manager", None)
    assert_only_starter(eng, iid, starter, "analyse_needs")  # the analysis stays with the rep
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "response_overdue", "analyse_needs", False)

    acknowledged = {"reminder_acknowledged": True, "reminder_comment": "已督促李工当天回复客户"}
    clock.advance(minutes=20)
    do(eng, "mgr2", "response_overdue_reminder", acknowledged, iid)
    assert eng.instance(starter, iid)["status"] == "running"
    analysed = needs()
    clock.advance(hours=1)
    do(eng, starter, "analyse_needs", analysed, iid)

    # at the list price nobody has to approve: straight to the outcome
    list_price = priced(eng, quotation(), company_day(clock.now()))
    do(eng, starter, "prepare_quotation", quotation(), iid)
    assert_no_discount_approval_offered(eng, iid)
    assert_only_starter(eng, iid, starter, "record_outcome")
    lost = {"outcome": "lost", "outcome_date": company_day(clock.now()), "lost_reason": "客户预算不足，暂缓采购"}
    do(eng, starter, "record_outcome", lost, iid)

    computed = {"unit_price_yuan": 420, "discount_pct": 0, "list_amount_yuan": 210000, "amount_yuan": 210000,
                "quantity_t": 500, "discount_approver": "none"}
    assert_completed(eng, iid, starter, {**form, **acknowledged, **analysed, "agreement": STANDARD_TERMS,
                                         **list_price, **computed, **lost})
    assert submissions(eng, iid) == [("response_overdue_reminder", acknowledged), ("analyse_needs", analysed),
                                     ("prepare_quotation", list_price), ("record_outcome", lost)]
    assert trail(eng, iid) == [
        ("started", None), ("task_ready", "analyse_needs"),
        ("timers_due", None), ("timer_fired", "response_overdue"), ("escalated", "response_overdue"),
        *ready_and_done("response_overdue_reminder"),
        ("completed", "analyse_needs"), ("gateway_taken", "special_requirements_gateway"),
        ("gateway_taken", "requirements_merge"), ("gateway_taken", "sample_gateway"),
        ("gateway_taken", "sample_merge"), ("gateway_taken", "visit_gateway"),
        ("gateway_taken", "visit_merge"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        ("gateway_taken", "quotation_approved_merge"),
        *ready_and_done("record_outcome"), ("gateway_taken", "outcome_gateway"),
        ("ended", None)]
    assert [e["payload"]["fired"] for e in events(eng, iid, "timers_due")] == [["response_overdue"]]
    assert [e["payload"]["role"] for e in events(eng, iid, "task_ready")] == [
        "initiator", "sales_manager", "initiator", "initiator"]
    assert end_events(eng, iid) == ["deal_lost"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("special_requirements_gateway", "standard_terms", "default"),
        ("sample_gateway", "sample_merge", "default"),
        ("visit_gateway", "visit_merge", "default"),
        ("discount_approver_gateway", "quotation_approved_merge", "discount_approver == 'none'"),
        ("outcome_gateway", "deal_lost", "default")]


@pytest.mark.rule("P1.SLA24")
def test_a_response_in_time_cancels_the_reminder(sales, clock):
    eng, starter = sales, "rep1"
    iid = eng.start(starter, KEY, inquiry("local"))
    clock.advance(hours=23)
    do(eng, starter, "analyse_needs", needs(), iid)
    clock.advance(hours=2)
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "response_overdue_reminder", iid) == set()
    assert events(eng, iid, "escalated") == []
    assert_only_starter(eng, iid, starter, "prepare_quotation")
    assert_audit_intact(eng, iid)


# -- special requirements nobody can meet: no agreement, the inquiry is lost ---------------------------------


@pytest.mark.rule("P1.3")
@pytest.mark.rule("P1.3a")
def test_no_agreement_on_the_special_requirements_ends_the_inquiry_lost(sales, clock):
    eng, starter = sales, "rep_qa"  # a sales rep who is also in the quality department
    form = inquiry("local")
    iid = eng.start(starter, KEY, form)
    analysed = needs(special=True, sample=True, visit=True)
    do(eng, starter, "analyse_needs", analysed, iid)

    assert offered_to(eng, "quality_feasibility", iid) == holders("quality")  # an opinion, not an approval
    technical = {"technical_feasible": False, "technical_opinion": "现有生产线无法稳定达到 3 天 35 MPa"}
    quality = {"quality_feasible": True, "quality_opinion": "检验能力满足"}
    purchasing = {"purchasing_feasible": False, "purchasing_opinion": "所需外加剂无合格供应商"}
    do(eng, "tech1", "technical_feasibility", technical, iid)
    do(eng, "qa2", "quality_feasibility", quality, iid)
    do(eng, "buy1", "purchasing_feasibility", purchasing, iid)

    assert_only_starter(eng, iid, starter, "consolidate_agreement")
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, inbox_task(eng, starter, "consolidate_agreement", iid)["id"],
                     {"agreement_reached": False})
    assert set(refused.value.fields) == {"lost_reason"}
    no_agreement = {"agreement_reached": False, "lost_reason": "客户坚持 3 天 35 MPa，公司无法满足"}
    do(eng, starter, "consolidate_agreement", no_agreement, iid)

    for name in ("prepare_sample_request", "prepare_visit_request", "prepare_quotation", "record_outcome"):
        assert offered_to(eng, name, iid) == set()
    assert_completed(eng, iid, starter, {**form, **analysed, **technical, **quality, **purchasing, **no_agreement})
    assert trail(eng, iid) == [
        ("started", None), ("task_ready", "analyse_needs"),
        ("completed", "analyse_needs"), ("gateway_taken", "special_requirements_gateway"),
        ("task_ready", "technical_feasibility"), ("task_ready", "quality_feasibility"),
        ("task_ready", "purchasing_feasibility"),
        ("completed", "technical_feasibility"), ("completed", "quality_feasibility"),
        ("completed", "purchasing_feasibility"), ("task_ready", "consolidate_agreement"),
        ("completed", "consolidate_agreement"), ("gateway_taken", "agreement_gateway"),
        ("ended", None)]
    assert events(eng, iid, "message_sent") == []
    assert end_events(eng, iid) == ["lost_no_agreement"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("special_requirements_gateway", "feasibility_fork", "special_requirements == True"),
        ("agreement_gateway", "lost_no_agreement", "default")]


# -- the vice president rejects, the rep quotes the list price, won (no business key given) ------------------


@pytest.mark.rule("P1.5a")
@pytest.mark.rule("P1.5b")
@pytest.mark.rule("P1.6a")
@pytest.mark.rule("P1.SOD")
def test_vp_rejects_the_discount_list_price_needs_no_approval_won(sales, clock):
    eng, starter = sales, "rep_vp"  # a sales rep who is also a sales vice president
    form = inquiry("key_account")
    iid = eng.start(starter, KEY, form)
    analysed = needs()
    do(eng, starter, "analyse_needs", analysed, iid)

    first = priced(eng, quotation(369.6), company_day(clock.now()))  # 12 % below the list's 420
    do(eng, starter, "prepare_quotation", quotation(369.6), iid)
    assert eng.instance(AUDITOR, iid)["data"]["discount_pct"] == 12
    assert eng.instance(AUDITOR, iid)["data"]["discount_approver"] == "sales_vp"
    assert offered_to(eng, "vp_discount_approval", iid) == holders("sales_vp") - {starter}
    assert offered_to(eng, "manager_discount_approval", iid) == set()
    assert offered_to(eng, "director_discount_approval", iid) == set()
    requester_may_not_work(eng, iid, starter, "vp_discount_approval", {"approved": True})
    rejected = {"approved": False, "comment": "12% 超出公司价格政策，请按定价报价", **NO_UNAUTHORISED_QUOTE}
    do(eng, "vp1", "vp_discount_approval", rejected, iid)

    assert_only_starter(eng, iid, starter, "prepare_quotation")
    second = priced(eng, quotation(number="BJ-2026-0032"), company_day(clock.now()))
    do(eng, starter, "prepare_quotation", quotation(number="BJ-2026-0032"), iid)
    assert_no_discount_approval_offered(eng, iid)  # the earlier rejection does not stand in the way
    assert_only_starter(eng, iid, starter, "record_outcome")
    won = {"outcome": "won", "outcome_date": company_day(clock.now())}
    do(eng, starter, "record_outcome", won, iid)

    computed = {"unit_price_yuan": 420, "discount_pct": 0, "list_amount_yuan": 210000, "amount_yuan": 210000,
                "quantity_t": 500, "discount_approver": "none"}
    # the first quotation's reason stays on record beside the list-price quotation that won
    data = {**form, **analysed, "agreement": STANDARD_TERMS, **first, **second, **computed, **rejected, **won}
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("analyse_needs", analysed), ("prepare_quotation", first),
                                     ("vp_discount_approval", rejected), ("prepare_quotation", second),
                                     ("record_outcome", won)]
    assert trail(eng, iid) == [
        ("started", None), ("task_ready", "analyse_needs"),
        ("completed", "analyse_needs"), ("gateway_taken", "special_requirements_gateway"),
        ("gateway_taken", "requirements_merge"), ("gateway_taken", "sample_gateway"),
        ("gateway_taken", "sample_merge"), ("gateway_taken", "visit_gateway"),
        ("gateway_taken", "visit_merge"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        *ready_and_done("vp_discount_approval"), ("gateway_taken", "discount_approval_merge"),
        ("gateway_taken", "authority_gateway"), ("gateway_taken", "authority_merge"),
        ("gateway_taken", "discount_approved_gateway"), ("gateway_taken", "quotation_merge"),
        *ready_and_done("prepare_quotation"), ("gateway_taken", "discount_approver_gateway"),
        ("gateway_taken", "quotation_approved_merge"),
        *ready_and_done("record_outcome"), ("gateway_taken", "outcome_gateway"),
        ("ended", None), ("message_sent", None)]
    assert end_events(eng, iid) == ["deal_won"]
    assert_audit_intact(eng, iid)
    assert routes(eng, iid) == [
        ("special_requirements_gateway", "standard_terms", "default"),
        ("sample_gateway", "sample_merge", "default"),
        ("visit_gateway", "visit_merge", "default"),
        ("discount_approver_gateway", "vp_discount_approval", "default"),
        ("authority_gateway", "authority_merge", "default"),
        ("discount_approved_gateway", "quotation_merge", "default"),
        ("discount_approver_gateway", "quotation_approved_merge", "discount_approver == 'none'"),
        ("outcome_gateway", "send_deal_won", "outcome == 'won'")]
    # no business key was given: the in-sale order is keyed by the inquiry
    assert eng.instance(AUDITOR, iid)["business_key"] is None
    assert_deal_won_starts_insale(eng, iid, starter, f"presale-{iid}", data)


# -- the start form: only verified customers are registered (seed 359) --------------------------------------


@pytest.mark.rule("P1.1")
@pytest.mark.rule("P1.1a")
@pytest.mark.parametrize("identity_checked", [False, None], ids=["not_verified", "not_confirmed"])
def test_an_unverified_customer_cannot_be_registered(sales, identity_checked):
    form = inquiry("key_account")
    if identity_checked is None:
        del form["identity_checked"]
    else:
        form["identity_checked"] = identity_checked
    chains = chain_names(sales)  # deploying may arm timer-started processes: only a new chain would be ours
    with pytest.raises(InvalidData) as refused:
        sales.start("rep1", KEY, form)
    assert set(refused.value.fields) == {"identity_checked"}
    assert refused.value.fields["identity_checked"]["zh"] == UNVERIFIED
    assert refused.value.fields["identity_checked"]["en"]
    assert chain_names(sales) == chains  # nothing was started
    with pytest.raises(NotFound):
        sales.instance(AUDITOR, len(chains))
    assert offered_to(sales, "analyse_needs") == set()


@pytest.mark.rule("P1.1")
def test_the_inquiry_form_needs_the_customer_and_a_known_channel(sales):
    chains = chain_names(sales)
    form = {**inquiry("key_account"), "channel": "fax"}
    for name in ("company", "contact", "address", "products", "requirements"):
        del form[name]
    with pytest.raises(InvalidData) as refused:
        sales.start("rep1", KEY, form)
    assert set(refused.value.fields) == {"channel", "company", "contact", "address", "products", "requirements"}
    with pytest.raises(InvalidData) as refused:
        sales.start("rep1", KEY, {**inquiry("retail")})
    assert set(refused.value.fields) == {"customer_class"}
    assert chain_names(sales) == chains
