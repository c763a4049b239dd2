"""P3A aftersale_archive (售后服务档案): from the delivered order to the archive's closing.

The sales assistant builds the customer's archive, or files the order in the archive the customer
already has (this instance then ends: the calls go on in that archive). A new archive is followed up
by telephone 30 days after it is built, then every month (key account) or every quarter (local
customer), until the sales manager approves closing it. The process is normally started by the
message order_delivered that P2 insale throws (tests/scenarios/test_insale__paths.py runs that from
the contract to the first call); here it is started by hand, with the same data, as a sales assistant
may do for a customer whose delivery was recorded elsewhere. The clock starts at T0 = Monday
2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
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
    submissions,
    trail,
)

KEY = "aftersale_archive"
FILES = [ROOT / "processes" / "aftersale_archive.bpmn", *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]
ASSISTANTS = holders("sales_assistant")
MANAGERS = holders("sales_manager")
DIRECTORS = holders("sales_director")
ROUTING_GATEWAYS = {"archive_gateway", "closing_proposal_gateway", "archive_closing_gateway"}

DELIVERED = {"customer_name": "马鞍山建工集团", "customer_class": "local", "contact": "周强 0555-2221234",
             "address": "安徽省马鞍山市花山区湖东中路 1 号", "contract_no": "XS-2026-0322",
             "order_lines": [{"product": "复合硅酸盐水泥", "spec": "袋装 50kg", "model": "P·C 32.5R", "grade": "合格品",
                              "quantity": 120, "unit_price": 360}],
             "delivered_on": "2026-03-02"}
ARCHIVE = {"archive_no": "DA-2026-021", "existing_archive": False,
           "contacts": [{"name": "周强", "position": "物资部经理", "phone": "0555-2221234"},
                        {"name": "吴敏", "phone": "13905551234"}],
           "archive_products": [{k: v for k, v in DELIVERED["order_lines"][0].items()
                                 if k not in ("quantity", "unit_price")}],
           "archive_remarks": "地销客户，首次合作"}


def call(called_on: str, satisfaction: int = 5, close: str | None = None) -> dict:
    record = {"called_on": called_on, "contact_reached": "周强", "satisfaction": satisfaction,
              "feedback": "产品质量稳定，发运准时", "followup_actions": "", "close_archive_proposed": close is not None}
    return record if close is None else {**record, "close_archive_reason": close}


@pytest.fixture
def archives(engine: Engine) -> Engine:
    assert {(d.key, d.status) for d in engine.deploy("system", FILES)} == {(KEY, "deployed")}
    add_users(engine, PEOPLE)
    return engine


def routes(eng: Engine, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def fire(eng: Engine, iid: int) -> list[str]:
    before = len(events(eng, iid, "timer_fired"))
    eng.fire_due_timers()
    return [e["task"] for e in events(eng, iid, "timer_fired")[before:]]


def call_falls_due(eng: Engine, clock, iid: int, due, timer: str) -> None:
    """Not a minute before `due`: then the call is every sales assistant's, due within 7 days."""
    clock.set(due - timedelta(minutes=1))
    assert fire(eng, iid) == []
    assert offered_to(eng, "followup_call", iid) == set()
    clock.set(due + timedelta(minutes=1))
    assert fire(eng, iid) == [timer]
    assert offered_to(eng, "followup_call", iid) == ASSISTANTS
    task = inbox_task(eng, "asst1", "followup_call", iid)
    assert parse(task["created_at"]) == clock.now()
    assert parse(task["due_at"]) == clock.now() + timedelta(days=7)


def build(eng: Engine, clock, iid: int, archive: dict = ARCHIVE):
    """The archive is every sales assistant's to build; returns when it was built."""
    assert offered_to(eng, "build_archive", iid) == ASSISTANTS
    clock.advance(hours=2)
    do(eng, "asst2", "build_archive", archive, iid)
    return clock.now()


def assert_ended(eng: Engine, iid: int, data: dict) -> None:
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "completed", [])
    assert {t["status"] for t in inst["history_tasks"]} == {"completed"}
    assert inst["data"] == data


FIRST_CALL = [("timers_due", None), ("timer_fired", "wait_followup"), ("gateway_taken", "call_merge"),
              *ready_and_done("followup_call"), ("gateway_taken", "closing_proposal_gateway")]
NEXT_CALL = [("gateway_taken", "schedule_merge"), ("timers_due", None), ("timer_fired", "wait_next_followup"),
             ("gateway_taken", "call_merge"), *ready_and_done("followup_call"),
             ("gateway_taken", "closing_proposal_gateway")]
KEEP_CALLING = ("closing_proposal_gateway", "schedule_merge", "default")
PROPOSED = ("closing_proposal_gateway", "approve_archive_closing", "close_archive_proposed == True")
CLOSED = ("archive_closing_gateway", "archive_closed", "approved == True")
NEW_ARCHIVE = ("archive_gateway", "wait_followup", "default")


@pytest.mark.rule("P3A.1")
@pytest.mark.rule("P3A.2")
@pytest.mark.rule("P3A.3")
def test_a_key_account_is_called_30_days_after_then_every_month_until_the_archive_is_closed(archives, clock):
    eng = archives
    delivered = {**DELIVERED, "customer_class": "key_account"}
    iid = eng.start("asst1", KEY, delivered, business_key="XS-2026-0322")
    assert eng.instance(AUDITOR, iid)["data"] == delivered
    built = build(eng, clock, iid)

    call_falls_due(eng, clock, iid, built + timedelta(days=30), "wait_followup")
    first = call("2026-04-01")
    clock.advance(hours=3)
    do(eng, "asst1", "followup_call", first, iid)
    called = clock.now()
    assert eng.instance(AUDITOR, iid)["status"] == "running"  # the calls go on

    # a month later (calendar month: 04-01 -> 05-01), then again
    call_falls_due(eng, clock, iid, called.replace(month=5), "wait_next_followup")
    second = call("2026-05-01", satisfaction=4)
    do(eng, "asst2", "followup_call", second, iid)
    assert offered_to(eng, "approve_archive_closing", iid) == set()
    clock.advance(days=31, hours=1)
    assert fire(eng, iid) == ["wait_next_followup"]
    last = call("2026-06-01", close="客户工程已竣工，不再进货，库存产品已用完")
    do(eng, "asst1", "followup_call", last, iid)

    # the assistant only proposes: the sales managers decide, due one working day later
    assert offered_to(eng, "approve_archive_closing", iid) == MANAGERS
    decision = inbox_task(eng, "mgr1", "approve_archive_closing", iid)
    assert parse(decision["due_at"]) == parse(decision["created_at"]) + timedelta(days=1)  # 06-02 is a Tuesday
    approved = {"approved": True, "comment": "同意关闭，如再进货另行建档"}
    do(eng, "mgr2", "approve_archive_closing", approved, iid)

    assert_ended(eng, iid, {**delivered, **ARCHIVE, **last, **approved})
    assert submissions(eng, iid) == [("build_archive", ARCHIVE), ("followup_call", first), ("followup_call", second),
                                     ("followup_call", last), ("approve_archive_closing", approved)]
    assert trail(eng, iid) == [
        ("started", None), *ready_and_done("build_archive"), ("gateway_taken", "archive_gateway"), *FIRST_CALL,
        *NEXT_CALL, *NEXT_CALL, *ready_and_done("approve_archive_closing"),
        ("gateway_taken", "archive_closing_gateway"), ("ended", None)]
    assert routes(eng, iid) == [NEW_ARCHIVE, KEEP_CALLING, KEEP_CALLING, PROPOSED, CLOSED]
    assert end_events(eng, iid) == ["archive_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3A.2")
@pytest.mark.rule("P3A.3")
def test_a_local_customer_is_called_every_quarter_and_a_refused_closing_keeps_the_calls_going(archives, clock):
    eng = archives
    iid = eng.start("asst2", KEY, DELIVERED)
    built = build(eng, clock, iid)
    call_falls_due(eng, clock, iid, built + timedelta(days=30), "wait_followup")
    proposed = call("2026-04-01", satisfaction=2, close="客户表示近期无新项目")
    do(eng, "asst1", "followup_call", proposed, iid)
    called = clock.now()
    refused = {"approved": False, "comment": "客户仍有我司产品在用，继续按季度回访"}
    do(eng, "mgr1", "approve_archive_closing", refused, iid)

    # a quarter after the call (three calendar months), not a month
    clock.set(called + timedelta(days=31))
    assert fire(eng, iid) == []
    call_falls_due(eng, clock, iid, called.replace(month=7), "wait_next_followup")
    again = call("2026-07-01", close="客户已转产，确认不再使用水泥产品")
    do(eng, "asst2", "followup_call", again, iid)
    approved = {"approved": True, "comment": "客户已转产，同意关闭"}
    do(eng, "mgr2", "approve_archive_closing", approved, iid)

    assert_ended(eng, iid, {**DELIVERED, **ARCHIVE, **again, **approved})
    assert routes(eng, iid) == [NEW_ARCHIVE, PROPOSED, ("archive_closing_gateway", "schedule_merge", "default"),
                                PROPOSED, CLOSED]
    assert end_events(eng, iid) == ["archive_closed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3A.1")
def test_an_order_filed_in_the_archive_the_customer_already_has_starts_no_calls_of_its_own(archives, clock):
    eng = archives
    iid = eng.start("asst2", KEY, DELIVERED)
    existing = {"archive_no": "DA-2025-104", "existing_archive": True,
                "contacts": [{"name": "周强", "phone": "0555-2221234"}],
                "archive_products": ARCHIVE["archive_products"]}
    build(eng, clock, iid, existing)

    assert_ended(eng, iid, {**DELIVERED, **existing})
    clock.advance(days=100)
    assert fire(eng, iid) == []
    assert trail(eng, iid) == [("started", None), *ready_and_done("build_archive"),
                               ("gateway_taken", "archive_gateway"), ("ended", None)]
    assert routes(eng, iid) == [("archive_gateway", "order_filed", "existing_archive == True")]
    assert end_events(eng, iid) == ["order_filed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3A.DUE")
@pytest.mark.rule("P3A.3")
def test_a_closing_decision_left_a_working_day_goes_to_the_sales_director(archives, clock):
    eng = archives
    clock.set(local_time("2026-03-06", "10:00"))  # a Friday
    iid = eng.start("asst1", KEY, DELIVERED)
    built = build(eng, clock, iid)
    call_falls_due(eng, clock, iid, built + timedelta(days=30), "wait_followup")  # Sunday 04-05 12:01
    clock.set(local_time("2026-04-10", "15:00"))  # the call is made on Friday afternoon
    do(eng, "asst1", "followup_call", call("2026-04-10", close="客户要求不再回访"), iid)
    decision = open_task(eng, iid, "approve_archive_closing")
    assert parse(decision["due_at"]) == local_time("2026-04-13", "15:00")  # Monday afternoon

    clock.set(local_time("2026-04-13", "14:59"))
    assert fire(eng, iid) == []
    clock.set(local_time("2026-04-13", "15:01"))
    assert fire(eng, iid) == ["archive_closing_overdue"]
    assert offered_to(eng, "archive_closing_escalation", iid) == DIRECTORS
    assert offered_to(eng, "approve_archive_closing", iid) == MANAGERS  # the decision stays with them
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "archive_closing_overdue", "approve_archive_closing", False)

    do(eng, "mgr1", "approve_archive_closing", {"approved": True, "comment": "同意"}, iid)
    inst = eng.instance(AUDITOR, iid)  # the archive is closed; the director's note still keeps the instance
    assert (inst["status"], [t["name"] for t in inst["tasks"]]) == ("running", ["archive_closing_escalation"])
    chased = {"archive_closing_escalation_note": "已督促销售部经理"}
    do(eng, "dir", "archive_closing_escalation", chased, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["archive_closing_escalation_note"]) == (
        "completed", "completed", chased["archive_closing_escalation_note"])
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3A.3")
def test_whoever_proposed_or_recorded_the_delivery_does_not_approve_the_closing(archives, clock):
    """Two sales assistants who are also sales managers: the one who opened the archive and the one
    who proposed to close it; neither may decide (the rest of the sales managers may)."""
    eng = archives
    add_users(eng, {name: ["sales_assistant", "sales_manager"] for name in ("asst_mgr1", "asst_mgr2")})
    iid = eng.start("asst_mgr1", KEY, DELIVERED)
    built = build(eng, clock, iid)
    call_falls_due(eng, clock, iid, built + timedelta(days=30), "wait_followup")
    do(eng, "asst_mgr2", "followup_call", call("2026-04-01", close="客户已停产"), iid)
    task = open_task(eng, iid, "approve_archive_closing")
    for someone in ("asst_mgr1", "asst_mgr2"):
        assert task["id"] not in {t["id"] for t in eng.inbox(someone)}
        with pytest.raises(Forbidden):
            eng.claim(someone, task["id"])
        with pytest.raises(Forbidden):
            eng.complete(someone, task["id"], {"approved": True, "comment": "同意"})
    assert offered_to(eng, "approve_archive_closing", iid) == MANAGERS
    with pytest.raises(InvalidData) as refused:  # a reason, either way
        eng.complete("mgr1", task["id"], {"approved": True})
    assert {f: m["zh"] for f, m in refused.value.fields.items()} == {"comment": "须写明同意或不同意的理由"}
    do(eng, "mgr1", "approve_archive_closing", {"approved": True, "comment": "客户已停产，同意关闭"}, iid)
    assert eng.instance(AUDITOR, iid)["outcome"] == "completed"
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P3A.1")
def test_the_archive_form_needs_a_number_a_reachable_contact_and_the_products(archives):
    eng = archives
    iid = eng.start("asst1", KEY, DELIVERED)
    task = inbox_task(eng, "asst2", "build_archive", iid)

    def refused(data: dict) -> set[str]:
        with pytest.raises(InvalidData) as caught:
            eng.complete("asst2", task["id"], data)
        return set(caught.value.fields)

    assert refused({k: v for k, v in ARCHIVE.items() if k != "archive_no"}) == {"archive_no"}
    assert refused({**ARCHIVE, "contacts": []}) == {"contacts"}
    assert refused({**ARCHIVE, "archive_products": []}) == {"archive_products"}
    assert refused({**ARCHIVE, "contacts": [{"name": "周强", "phone": " "}]}) == {"contacts"}
    assert offered_to(eng, "build_archive", iid) == ASSISTANTS


@pytest.mark.rule("P3A.2")
def test_the_call_record_needs_a_score_feedback_and_a_reason_to_close(archives, clock):
    eng = archives
    iid = eng.start("asst1", KEY, DELIVERED)
    built = build(eng, clock, iid)
    call_falls_due(eng, clock, iid, built + timedelta(days=30), "wait_followup")
    task = inbox_task(eng, "asst1", "followup_call", iid)

    def refused(data: dict) -> dict[str, str]:
        with pytest.raises(InvalidData) as caught:
            eng.complete("asst1", task["id"], data)
        return {f: t["zh"] for f, t in caught.value.fields.items()}

    base = call(company_day(clock.now()))
    for score in (0, 6, 2.5, "5"):
        assert set(refused({**base, "satisfaction": score})) == {"satisfaction"}
    assert set(refused({**base, "feedback": " "})) == {"feedback"}
    assert set(refused({k: v for k, v in base.items() if k != "close_archive_proposed"})) == {
        "close_archive_proposed"}
    assert refused({**base, "close_archive_proposed": True}) == {"close_archive_reason": "建议关闭档案须写明理由"}
    assert offered_to(eng, "followup_call", iid) == ASSISTANTS
    do(eng, "asst1", "followup_call", base, iid)
    assert offered_to(eng, "approve_archive_closing", iid) == set()


def test_only_a_sales_assistant_opens_an_archive_by_hand(archives):
    with pytest.raises(Forbidden):
        archives.start("rep1", KEY, DELIVERED)
    assert offered_to(archives, "build_archive") == set()
