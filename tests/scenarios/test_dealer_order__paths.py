"""P2 dealer_order (经销商直接下单): a dealer's repeat order under its effective contract, every path.

The contract is an in-sale case (P2 insale) that went through its review and was sealed. A sales
representative who takes part in it places the dealer's order with its business key; the engine takes the
customer, the product and the contract's price and payment term from it, and the order goes straight to
the order clerk (seed 398 5.1). Without such a contract there is no order. The clock starts at T0 = Monday
2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import InvalidData
from tests.conftest import ROOT, T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    company_day,
    dated,
    end_events,
    events,
    local_time,
    parse,
)
from tests.scenarios.insale_steps import (
    ACCEPTED,
    BK,
    BULK,
    IN_STOCK,
    NOTE,
    PRODUCED,
    QUOTE,
    RECORDED,
    SCHEDULED,
    SHIPPED,
    STANDARD,
    chain,
    contract,
    deploy_sales,
    do,
    gw,
    holders,
    merged,
    offered,
    open_names,
    paid,
    rd,
    review_and_seal,
    routes,
    start_order,
    task_of,
    trail,
)

KEY = "dealer_order"
DEALER_FILES = [ROOT / "processes" / "dealer_order.bpmn", *sorted((ROOT / "forms").glob("dealer_order_*.yaml"))]
INHERITED = ("customer_name", "customer_class", "company", "contact", "address", "contract_no", "contract_type",
             "product", "spec", "model", "grade", "unit", "contract_unit_price_yuan", "payment_term_days")
ORDER = {"quantity": 80, "delivery_date": company_day(T0, 20), "delivery_address": "芜湖市弋江区商砼站三号罐区",
         "order_note": "月中补货"}
NO_CONTRACT = {"zh": "业务编号须为您参与的、仍然有效的“售中服务”案卷的编号",
               "en": "Give the business key of a case of “In-sale service: contract, payment and delivery” that is in "
                     "force and that you take part in"}


@pytest.fixture
def dealers(engine: Engine) -> Engine:
    return deploy_sales(engine, extra=DEALER_FILES)


def effective_contract(eng: Engine, clock, starter: str = "rep1", business_key: str = BK) -> int:
    """An in-sale case whose contract was reviewed and sealed: in force, waiting at the stock check."""
    iid = start_order(eng, starter, business_key)
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", contract(STANDARD, False), iid)
    review_and_seal(eng, clock, iid, starter, chain(STANDARD, False))
    assert eng.instance(AUDITOR, iid)["data"]["contract_effective"] is True
    return iid


def place(eng: Engine, clock, starter: str = "rep1", order: dict | None = None,
          business_key: str | None = BK) -> int:
    clock.advance(hours=1)
    return eng.start(starter, KEY, dict(order or ORDER), business_key=business_key)


def inherited(eng: Engine, contract_id: int) -> dict:
    data = eng.instance(AUDITOR, contract_id)["data"]
    return {name: data[name] for name in INHERITED}


def order_line(quantity: float) -> dict:
    return {"product": QUOTE["product"], "spec": QUOTE["spec"], "model": "P·O", "grade": QUOTE["grade"],
            "unit": QUOTE["unit"], "quantity": quantity, "unit_price": 432}


def deliver(eng: Engine, clock, iid: int, starter: str, amount: float) -> list[tuple[str, dict]]:
    done = []
    invoice = {"invoice_no": "No.34012699", "invoice_amount_yuan": amount}
    for task, role, user, data, day_field in (("issue_delivery_note", "order_clerk", "clerk1", NOTE, None),
                                              ("ship_goods", "dispatcher", "disp", SHIPPED, "shipped_on"),
                                              ("issue_invoice", "finance", "fin1", invoice, "invoice_date")):
        assert offered(eng, task, iid) == holders(role)
        clock.advance(hours=4)
        data = dated(data, clock.now(), day_field) if day_field else data
        do(eng, user, task, data, iid)
        done.append((task, data))
    assert offered(eng, "record_delivery", iid) == {starter}
    clock.advance(hours=4)
    recorded = dated(RECORDED, clock.now(), "delivered_on")
    do(eng, starter, "record_delivery", recorded, iid)
    return [*done, ("record_delivery", recorded)]


@pytest.mark.rule("P2.7")
@pytest.mark.rule("P2.7b")
@pytest.mark.rule("P2.7c")
@pytest.mark.rule("P2.7d")
def test_a_repeat_order_under_the_effective_contract_goes_straight_to_the_order_clerk_and_is_delivered(
        dealers, clock):
    eng = dealers
    contract_id = effective_contract(eng, clock)
    iid = place(eng, clock)

    # the contract's customer, product and price, the order's quantity; no review of any kind
    order = eng.instance(AUDITOR, iid)
    assert (order["process_key"], order["business_key"], order["started_by"]) == (KEY, BK, "rep1")
    computed = {"amount_yuan": 34560, "order_lines": [order_line(80)], "bulk_order": False}
    assert order["data"] == merged(inherited(eng, contract_id), ORDER, computed)
    [started] = events(eng, iid, "started")
    assert started["payload"]["under_case"] == contract_id
    assert open_names(eng, iid) == {"check_stock"}
    assert offered(eng, "check_stock", iid) == holders("order_clerk")

    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", IN_STOCK, iid)
    assert offered(eng, "customer_confirmation", iid) == holders("order_clerk")
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    assert offered(eng, "confirm_payment", iid) == holders("finance")
    assert offered(eng, "issue_delivery_note", iid) == set()  # no goods before the money
    clock.advance(days=1)
    do(eng, "fin1", "confirm_payment", paid(34560), iid)
    delivered = deliver(eng, clock, iid, "rep1", 34560)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "delivered", [])
    assert inst["data"] == merged(inherited(eng, contract_id), ORDER, computed, IN_STOCK, ACCEPTED, paid(34560),
                                  *[d for _t, d in delivered])
    assert trail(eng, iid) == [
        ("started", None), *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"),
        *gw("confirmed_gw"), *rd("confirm_payment", "issue_delivery_note", "ship_goods", "issue_invoice",
                                  "record_delivery"), ("ended", None)]
    assert routes(eng, iid) == [("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert events(eng, iid, "message_sent") == []  # the dealer's archive exists from the contract
    assert eng.instance(AUDITOR, contract_id)["status"] == "running"  # the contract's own order goes on
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.7a")
def test_a_bulk_repeat_order_the_company_has_no_stock_for_goes_to_production(dealers, clock):
    eng = dealers
    contract_id = effective_contract(eng, clock)
    iid = place(eng, clock, order={**ORDER, "quantity": BULK})
    assert eng.instance(AUDITOR, iid)["data"]["bulk_order"] is True  # 216,000 yuan
    short = {"stock_status": "out_of_stock", "stock_note": "库存 100 吨，缺口 400 吨"}
    do(eng, "clerk1", "check_stock", short, iid)
    assert offered(eng, "schedule_production", iid) == holders("production")
    assert offered(eng, "customer_confirmation", iid) == set()
    do(eng, "prod1", "schedule_production", SCHEDULED, iid)
    assert offered(eng, "report_production", iid) == holders("production")
    do(eng, "prod1", "report_production", dated(PRODUCED, clock.now(), "production_completed_on"), iid)
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    do(eng, "fin2", "confirm_payment", paid(216000), iid)
    deliver(eng, clock, iid, "rep1", 216000)
    assert eng.instance(AUDITOR, iid)["outcome"] == "delivered"
    assert routes(eng, iid) == [
        ("stock_gw", "schedule_production", "stock_status == 'out_of_stock' and bulk_order == True"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert trail(eng, iid)[:9] == [("started", None), *rd("check_stock"), *gw("stock_gw"),
                                   *rd("schedule_production", "report_production"), *gw("stock_merge")]
    assert contract_id != iid
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.7b")
def test_a_small_order_out_of_stock_is_not_produced_the_dealer_declines_and_the_contract_stays(dealers, clock):
    eng = dealers
    contract_id = effective_contract(eng, clock)
    iid = place(eng, clock)
    short = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-25", "stock_note": "月底到货"}
    do(eng, "clerk1", "check_stock", short, iid)
    assert offered(eng, "schedule_production", iid) == set()
    task = task_of(eng, "clerk1", "customer_confirmation", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("clerk1", task["id"], {"customer_accepted": False})
    assert set(refused.value.fields) == {"confirmation_note"}
    declined = {"customer_accepted": False, "confirmation_note": "经销商不能等到月底"}
    do(eng, "clerk1", "customer_confirmation", declined, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "rejected", [])
    assert end_events(eng, iid) == ["order_withdrawn"]
    assert routes(eng, iid) == [("stock_gw", "stock_merge", "default"), ("confirmed_gw", "order_withdrawn", "default")]
    # the contract stays in force: the next order is accepted
    again = place(eng, clock)
    assert open_names(eng, again) == {"check_stock"}
    assert eng.instance(AUDITOR, contract_id)["data"]["contract_effective"] is True
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.7c")
def test_an_unpaid_repeat_order_is_reminded_at_the_contracts_term_then_cancelled(dealers, clock):
    eng = dealers
    effective_contract(eng, clock)
    iid = place(eng, clock)
    do(eng, "clerk1", "check_stock", IN_STOCK, iid)
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    ready = parse(next(t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == "confirm_payment")["created_at"])
    clock.set(ready + timedelta(days=7, minutes=1))  # the contract's term: 7 days
    assert eng.fire_due_timers() == 1
    assert offered(eng, "payment_reminder", iid) == {"rep1"}
    clock.set(ready + timedelta(days=14, minutes=1))
    assert eng.fire_due_timers() == 1
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "unpaid", [])
    assert end_events(eng, iid) == ["order_cancelled_unpaid"]
    assert [e["task"] for e in events(eng, iid, "timer_fired")] == ["payment_overdue", "payment_cancel_deadline"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.7e")
def test_a_repeat_order_not_shipped_the_day_before_delivery_tells_the_sales_manager(dealers, clock):
    eng = dealers
    effective_contract(eng, clock)
    iid = place(eng, clock, order={**ORDER, "delivery_date": company_day(T0, 3)})  # Thursday 03-05
    do(eng, "clerk1", "check_stock", IN_STOCK, iid)
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    do(eng, "fin1", "confirm_payment", paid(34560), iid)
    do(eng, "clerk1", "issue_delivery_note", NOTE, iid)
    clock.set(local_time("2026-03-04", "09:01"))  # the day before: still not shipped
    assert eng.fire_due_timers() == 1
    assert offered(eng, "delivery_slip_notice", iid) == holders("sales_manager")
    assert offered(eng, "ship_goods", iid) == holders("dispatcher")
    [fired] = events(eng, iid, "escalated")
    assert (fired["task"], fired["payload"]) == ("shipping_late", {"attached_to": "ship_goods", "interrupting": False})
    slip = {"slip_action": "车辆已安排，今日发运", "slip_customer_informed": True}
    do(eng, "mgr1", "delivery_slip_notice", slip, iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.7")
def test_no_order_without_an_effective_contract_that_the_representative_takes_part_in(dealers, clock):
    eng = dealers
    reviewing = start_order(eng, "rep1", "DEAL-IN-REVIEW")  # drafted, not yet sealed
    do(eng, "rep1", "draft_contract", contract(STANDARD, False), reviewing)
    withdrawn = start_order(eng, "rep1", "DEAL-WITHDRAWN")
    do(eng, "rep1", "draft_contract", contract(STANDARD, False), withdrawn)
    do(eng, "mgr1", "manager_verify", {"approved": False, "comment": "资信不足"}, withdrawn)
    assert eng.instance(AUDITOR, withdrawn)["data"]["contract_effective"] is False
    effective_contract(eng, clock, "rep1", BK)

    def refused(starter: str, business_key: str | None, order: dict | None = None) -> dict:
        with pytest.raises(InvalidData) as caught:
            eng.start(starter, KEY, dict(order or ORDER), business_key=business_key)
        return caught.value.fields

    assert refused("rep1", None) == {"business_key": NO_CONTRACT}
    assert refused("rep1", "NO-SUCH-DEAL") == {"business_key": NO_CONTRACT}
    assert refused("rep1", "DEAL-IN-REVIEW") == {"business_key": NO_CONTRACT}
    assert refused("rep1", "DEAL-WITHDRAWN") == {"business_key": NO_CONTRACT}  # sent back: not in force
    do(eng, "rep1", "revise_contract", {"resubmit": False, "revision_note": "撤销"}, withdrawn)
    assert eng.instance(AUDITOR, withdrawn)["outcome"] == "rejected"
    assert refused("rep1", "DEAL-WITHDRAWN") == {"business_key": NO_CONTRACT}
    assert refused("rep2", BK) == {"business_key": NO_CONTRACT}  # someone else's contract: the same answer
    # the contract's figures are never typed
    assert set(refused("rep1", BK, {**ORDER, "contract_unit_price_yuan": 300})) == {"contract_unit_price_yuan"}
    assert set(refused("rep1", BK, {**ORDER, "quantity": 0})) == {"quantity"}
    assert eng.search(AUDITOR, {"process": KEY})["total"] == 0
    assert open_names(eng, place(eng, clock, "rep1")) == {"check_stock"}
    assert KEY in {p["key"] for p in eng.startable("rep1")}
