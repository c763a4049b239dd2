"""P2 insale (售中服务): deadlines and the delivery watch.

Every approval, the sales manager's signature and the seal are due one working day after they are offered
(our own choice; the rules give none); one still open then brings the next level up a follow-up task while
it stays open. Production and shipping are watched against the contract's delivery date: a step still open
at 09:00 two days (production) or one day (shipping) before it, or one working day after the step started
when that is later, gives the sales manager a delivery-slip task. The clock starts at T0 = Monday
2026-03-02 09:00 in Shanghai, and moves only by the test (ManualClock).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from tests.conftest import T0
from tests.scenarios.driver import AUDITOR, assert_audit_intact, company_day, events, local_time, parse
from tests.scenarios.insale_steps import (
    APPROVER,
    BULK,
    EXCLUSIVE,
    SEALED,
    STANDARD,
    approve_chain,
    chain,
    confirm_in_stock,
    contract,
    customer_accepts,
    deliver,
    deploy_sales,
    do,
    holders,
    offered,
    open_names,
    paid,
    priced,
    review_and_seal,
    start_order,
    trail,
)

NEXT_LEVEL = {"contract_discount_manager": ("director_escalation", "sales_director"),
              "manager_verify": ("director_escalation", "sales_director"),
              "manager_sign": ("director_escalation", "sales_director"),
              "contract_discount_director": ("vp_escalation", "sales_vp"),
              "contract_discount_vp": ("gm_escalation", "general_manager"),
              "audit_approval": ("gm_escalation", "general_manager"),
              "vp_template_approval": ("gm_escalation", "general_manager"),
              "hq_template_approval": ("gm_escalation", "general_manager"),
              "gm_price_approval": ("gm_escalation", "general_manager"),
              "vp_price_approval": ("gm_escalation", "general_manager"),
              "seal_contract": ("gm_escalation", "general_manager")}
PRICE_FOR = {"contract_discount_manager": 428, "contract_discount_director": 420, "contract_discount_vp": 400}
DISCOUNT_ROLE = {"contract_discount_manager": "sales_manager", "contract_discount_director": "sales_director",
                 "contract_discount_vp": "sales_vp"}
ESCALATED_BY = {"director_escalation": "dir", "vp_escalation": "vp1", "gm_escalation": "gm1"}


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


def the_task(eng: Engine, iid: int, name: str) -> dict:
    [task] = [t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == name]
    return task


@pytest.mark.rule("P2.DL")
@pytest.mark.parametrize("step", list(NEXT_LEVEL))
def test_an_approval_still_open_a_working_day_later_goes_to_the_next_level_up_and_stays_open(sales, clock, step):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", contract(EXCLUSIVE, True, price=PRICE_FOR.get(step, 432)), iid)
    steps = chain(EXCLUSIVE, True, discount=DISCOUNT_ROLE.get(step))
    if step == "seal_contract":
        approve_chain(eng, clock, iid, starter, steps)
    else:
        approve_chain(eng, clock, iid, starter, steps[:steps.index(step)])

    task = the_task(eng, iid, step)
    ready = parse(task["created_at"])
    due = ready + timedelta(days=1)  # Monday to Tuesday: one working day
    assert ready.astimezone(local_time("2026-03-02", "00:00").tzinfo).date().isoformat() == "2026-03-02"
    assert parse(task["due_at"]) == due
    clock.set(due - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    escalation, role = NEXT_LEVEL[step]
    assert offered(eng, escalation, iid) == set()
    clock.set(due + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1

    assert offered(eng, escalation, iid) == holders(role)
    assert offered(eng, step, iid) == holders(task["role"]) - {starter}  # the late task stays where it was
    [fired] = events(eng, iid, "escalated")
    assert (fired["task"], fired["payload"]) == (f"{step}_overdue", {"attached_to": step, "interrupting": False})
    assert the_task(eng, iid, step)["overdue"] is True
    note = {f"{escalation.removesuffix('_escalation')}_escalation_note": "已电话催办，今日下班前完成"}
    do(eng, ESCALATED_BY[escalation], escalation, note, iid)
    decision = SEALED if step == "seal_contract" else {"approved": True, "comment": "已处理"}
    do(eng, APPROVER[step], step, decision, iid)
    assert open_names(eng, iid) == ({"check_stock"} if step == "seal_contract" else
                                    {steps[steps.index(step) + 1] if step != steps[-1] else "seal_contract"})
    late = trail(eng, iid)
    assert late[late.index(("timers_due", None)):][:7] == [
        ("timers_due", None), ("timer_fired", f"{step}_overdue"), ("escalated", f"{step}_overdue"),
        ("gateway_taken", f"{escalation}_merge"), ("task_ready", escalation), ("completed", escalation),
        ("completed", step)]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.DL")
def test_an_approval_offered_on_friday_afternoon_is_due_on_monday_afternoon(sales, clock):
    clock.set(local_time("2026-03-06", "15:00"))  # a Friday
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    do(eng, starter, "draft_contract", contract(), iid)
    task = the_task(eng, iid, "manager_verify")
    assert parse(task["due_at"]) == local_time("2026-03-09", "15:00")
    clock.set(local_time("2026-03-08", "23:00"))  # Sunday night: not late yet
    assert eng.fire_due_timers() == 0
    clock.set(local_time("2026-03-09", "15:01"))
    assert eng.fire_due_timers() == 1
    assert offered(eng, "director_escalation", iid) == holders("sales_director")
    assert_audit_intact(eng, iid)


def sealed_order(eng: Engine, clock, starter: str, form: dict) -> int:
    iid = start_order(eng, starter)
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    review_and_seal(eng, clock, iid, starter, chain(STANDARD, False))
    return iid


SLIP = {"slip_action": "已协调生产部加班，预计推迟两天到货", "slip_customer_informed": True,
        "slip_new_delivery_date": "2026-03-14"}


@pytest.mark.rule("P2.DW")
@pytest.mark.rule("P2.3a")
def test_production_not_finished_two_days_before_the_delivery_date_tells_the_sales_manager(sales, clock):
    eng, starter = sales, "rep1"
    form = {**contract(STANDARD, False, quantity=BULK), "delivery_date": company_day(T0, 10)}  # Thursday 03-12
    iid = sealed_order(eng, clock, starter, form)
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", {"stock_status": "out_of_stock", "stock_note": "缺货 500 吨"}, iid)
    do(eng, "prod1", "schedule_production", {"planned_completion_date": "2026-03-11"}, iid)

    watch = local_time("2026-03-10", "09:00")  # two days before the delivery date
    clock.set(watch - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered(eng, "delivery_slip_notice", iid) == set()
    clock.set(watch + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered(eng, "delivery_slip_notice", iid) == holders("sales_manager")
    assert offered(eng, "report_production", iid) == holders("production")  # production goes on
    [fired] = events(eng, iid, "escalated")
    assert (fired["task"], fired["payload"]) == ("production_late",
                                                 {"attached_to": "report_production", "interrupting": False})
    do(eng, "mgr1", "delivery_slip_notice", SLIP, iid)

    do(eng, "prod1", "report_production", {"production_completed_on": company_day(clock.now())}, iid)
    customer_accepts(eng, clock, iid)
    amount = priced(form)["amount_yuan"]
    do(eng, "fin1", "confirm_payment", paid(amount), iid)
    deliver(eng, clock, iid, starter, amount)  # shipped the day before the delivery date: no shipping slip
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "delivered")
    assert [e["task"] for e in events(eng, iid, "timer_fired")] == ["production_late"]
    assert inst["data"]["slip_action"] == SLIP["slip_action"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.DW")
def test_goods_not_shipped_the_day_before_delivery_tell_the_sales_manager_once_per_late_step(sales, clock):
    eng, starter = sales, "rep2"
    form = {**contract(STANDARD, False), "delivery_date": company_day(T0, 5)}  # Saturday 03-07
    iid = sealed_order(eng, clock, starter, form)
    confirm_in_stock(eng, clock, iid)
    assert open_names(eng, iid) == {"confirm_payment"}

    watch = local_time("2026-03-06", "09:00")  # the day before the delivery date: still unpaid
    clock.set(watch + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    assert [e["task"] for e in events(eng, iid, "escalated")] == ["shipping_late_payment"]
    assert offered(eng, "delivery_slip_notice", iid) == holders("sales_manager")
    do(eng, "mgr2", "delivery_slip_notice", SLIP, iid)

    # paid late: each later step gets one working day before it is reported late again
    clock.set(local_time("2026-03-06", "10:00"))
    do(eng, "fin1", "confirm_payment", paid(51840), iid)
    note = the_task(eng, iid, "issue_delivery_note")
    assert eng.fire_due_timers() == 0
    do(eng, "clerk1", "issue_delivery_note", {"delivery_note_no": "TH-1", "ledger_recorded": True,
                                              "voucher_copy_filed": True}, iid)
    assert parse(note["created_at"]) == local_time("2026-03-06", "10:00")
    ship = the_task(eng, iid, "ship_goods")
    clock.set(local_time("2026-03-09", "09:59"))  # Monday: one working day after it became ready, less a minute
    assert eng.fire_due_timers() == 0
    clock.set(local_time("2026-03-09", "10:01"))
    assert eng.fire_due_timers() == 1
    assert [e["task"] for e in events(eng, iid, "escalated")] == ["shipping_late_payment", "shipping_late"]
    assert offered(eng, "delivery_slip_notice", iid) == holders("sales_manager")
    assert parse(ship["created_at"]) == local_time("2026-03-06", "10:00")

    # delivered while the second notice is still open: the order ends and takes the notice with it
    do(eng, "disp", "ship_goods", {"shipped_on": "2026-03-09", "carrier": "顺达物流", "waybill_no": "SD-9",
                                   "quality_certificate_no": "ZB-9"}, iid)
    do(eng, "fin1", "issue_invoice", {"invoice_no": "No.1", "invoice_date": "2026-03-09",
                                      "invoice_amount_yuan": 51840}, iid)
    do(eng, starter, "record_delivery", {"customer_informed": True, "delivered_on": "2026-03-09",
                                         "tracking_table_recorded": True}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "delivered", [])
    assert [t["status"] for t in inst["history_tasks"] if t["name"] == "delivery_slip_notice"] == [
        "completed", "cancelled"]
    assert trail(eng, iid)[-3:] == [("task_cancelled", "delivery_slip_notice"), ("ended", None),
                                    ("message_sent", None)]
    assert_audit_intact(eng, iid)
