"""P2 insale (售中服务): every path from the deal to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. Each path asserts who was
offered each task (exact sets, the starter never offered the review of their own contract),
the data at the end (the contract, the DMN outputs of contract_review and every step's
submission), the audit trail with the branch each routing gateway took and the end event
reached, that replay reproduces it and every chain verifies. A recorded delivery throws
`order_delivered`, which starts the after-sales archive (P8 aftersale_archive) for the same
business key in the same command.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.definitions.bundle import SourceFile
from engine.errors import Conflict, InvalidData
from tests.conftest import ROOT, T0, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    assert_completed,
    branches,
    company_day,
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

KEY, ARCHIVE = "insale", "aftersale_archive"
BK = "DEAL-2026-0302-01"  # the business key the deal carries from presale
REJECT_MESSAGE = "驳回时须填写驳回理由"
ROUTING_GATEWAYS = {"manager_ok_gw", "audit_ok_gw", "vp_template_gw", "vp_template_ok_gw", "hq_gw", "hq_ok_gw",
                    "gm_price_gw", "gm_ok_gw", "vp_price_gw", "vp_price_ok_gw", "resubmit_gw", "stock_gw",
                    "sample_ok_gw", "confirmed_gw"}
APPROVALS = ("manager_verify", "audit_approval", "vp_template_approval", "hq_template_approval", "gm_price_approval",
             "vp_price_approval")
ROLE_OF = {"manager_verify": "sales_manager", "audit_approval": "audit_dept", "vp_template_approval": "sales_vp",
           "hq_template_approval": "headquarters", "gm_price_approval": "general_manager",
           "vp_price_approval": "sales_vp"}
APPROVER = {"manager_verify": "mgr2", "audit_approval": "audit1", "vp_template_approval": "vp1",
            "hq_template_approval": "hq1", "gm_price_approval": "gm1", "vp_price_approval": "vp1"}
OPINION = {"manager_verify": "规格、型号、等级与报价单一致，核实无误", "audit_approval": "价格符合公司价目表，核定",
           "vp_template_approval": "违约金条款修改合理，同意报总公司",
           "hq_template_approval": "同意本合同使用修改后的违约条款",
           "gm_price_approval": "包销价格在授权范围内，批准", "vp_price_approval": "同意包销价格"}
OK_GW = {"manager_verify": "manager_ok_gw", "audit_approval": "audit_ok_gw",
         "vp_template_approval": "vp_template_ok_gw", "hq_template_approval": "hq_ok_gw",
         "gm_price_approval": "gm_ok_gw", "vp_price_approval": "vp_price_ok_gw"}
# the optional review steps in order: (gateway, condition, approval, the merge after it)
OPTIONAL = (("vp_template_gw", "needs_vp_template == True", "vp_template_approval", "vp_template_merge"),
            ("hq_gw", "needs_hq == True", "hq_template_approval", "hq_merge"),
            ("gm_price_gw", "needs_gm_price == True", "gm_price_approval", "gm_merge"),
            ("vp_price_gw", "needs_vp_price == True", "vp_price_approval", "review_done"))
ARCHIVE_PAYLOAD = ("customer_name", "customer_class", "contact", "address", "contract_no", "order_lines",
                   "delivered_on")

DEAL = {"customer_name": "芜湖商砼有限公司", "customer_class": "key_account", "contact": "李明 0553-5551234",
        "address": "安徽省芜湖市弋江区中山南路 88 号"}


def line(product: str, spec: str, model: str, grade: str, quantity: float, unit_price: float) -> dict:
    return {"product": product, "spec": spec, "model": model, "grade": grade, "quantity": quantity,
            "unit_price": unit_price}


SMALL_LINES = [line("普通硅酸盐水泥", "袋装 50kg", "P·O 42.5", "合格品", 80, 420),
               line("复合硅酸盐水泥", "散装", "P·C 32.5R", "合格品", 50, 360)]  # 33,600 + 18,000
BULK_LINES = [line("普通硅酸盐水泥", "散装", "P·O 42.5", "合格品", 600, 420),
              line("复合硅酸盐水泥", "散装", "P·C 32.5R", "合格品", 100, 360)]  # 252,000 + 36,000
NEW_VARIETY_LINES = [line("彩色饰面水泥", "袋装 25kg", "CW 42.5", "优等品", 60, 980)]  # 58,800
AMOUNT = {"small": 51600, "bulk": 288000, "new_variety": 58800}
LINES = {"small": SMALL_LINES, "bulk": BULK_LINES, "new_variety": NEW_VARIETY_LINES}

STANDARD, EXCLUSIVE = "standard", "exclusive_distribution"
IN_STOCK = {"stock_status": "in_stock", "stock_note": "成品库存充足"}
ACCEPTED = {"customer_accepted": True, "confirmation_note": "已电话告知库存，客户同意按合同提货"}
NOTE = {"delivery_note_no": "TH-2026-0311", "ledger_recorded": True, "voucher_copy_filed": True}
SHIPPED = {"shipped_on": "2026-03-10", "carrier": "芜湖顺达物流", "waybill_no": "SD-20260310-88",
           "quality_certificate_no": "ZB-2026-0310-07"}
RECORDED = {"customer_informed": True, "delivered_on": "2026-03-11", "tracking_table_recorded": True,
            "delivery_feedback": "到货及时，包装完好"}
ARCHIVED = {"archive_no": "DA-2026-015", "existing_archive": False,
            "contacts": [{"name": "李明", "position": "采购经理", "phone": "0553-5551234"}],
            "archive_products": [{k: v for k, v in item.items() if k not in ("quantity", "unit_price")}
                                 for item in SMALL_LINES]}
CALLED = {"called_on": "2026-04-13", "contact_reached": "李明", "satisfaction": 4,
          "feedback": "强度稳定，希望雨天发运加强防潮", "close_archive_proposed": False}


# P2 and the P8 it starts, as they are in the repository. Only these: other processes armed by a
# timer start (the monthly survey) would fire on the same clock and blur the timer counts here.
FILES = [ROOT / "processes" / "insale.bpmn", ROOT / "processes" / "aftersale_archive.bpmn",
         ROOT / "processes" / "contract_review.dmn", *sorted((ROOT / "forms").glob("insale_*.yaml")),
         *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]


@pytest.fixture
def sales(engine: Engine) -> Engine:
    deployed = {(d.key, d.version, d.status) for d in engine.deploy("system", FILES)}
    assert deployed == {(KEY, 1, "deployed"), (ARCHIVE, 1, "deployed")}
    add_users(engine, PEOPLE)
    return engine


def contract(kind: str = STANDARD, modified: bool = False, size: str = "small", term: int = 7) -> dict:
    """The sales contract as the starter drafts it."""
    form = {**DEAL, "contract_no": "XS-2026-0318", "order_lines": LINES[size], "amount_yuan": AMOUNT[size],
            "delivery_date": company_day(T0, 30), "delivery_address": "芜湖市弋江区商砼站二号罐区",
            "contract_type": kind, "template_modified": modified, "payment_term_days": term,
            "special_requirements": "每车随货附质保书；3 天抗压强度不低于 27 MPa"}
    if modified:
        form["template_changes"] = "第七条违约责任：逾期交货违约金由每日千分之三改为千分之一"
    return form


def dmn(kind: str, modified: bool, size: str) -> dict:
    """What contract_review must decide for this contract."""
    exclusive = kind == EXCLUSIVE
    return {"needs_vp_template": modified, "needs_hq": modified, "needs_gm_price": exclusive,
            "needs_vp_price": exclusive, "bulk_order": AMOUNT[size] >= 200000}


def chain(kind: str, modified: bool) -> list[str]:
    steps = ["manager_verify", "audit_approval"]
    if modified:
        steps += ["vp_template_approval", "hq_template_approval"]
    if kind == EXCLUSIVE:
        steps += ["gm_price_approval", "vp_price_approval"]
    return steps


def merged(*parts: dict) -> dict:
    data: dict = {}
    for part in parts:
        data.update(part)
    return data


def rd(*tasks: str) -> list[tuple[str, str]]:
    return [pair for t in tasks for pair in (("task_ready", t), ("completed", t))]


def gw(*gateways: str) -> list[tuple[str, str]]:
    return [("gateway_taken", g) for g in gateways]


def routes(eng: Engine, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def open_names(eng: Engine, iid: int) -> set[str]:
    return {t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]}


def review_trail(steps: list[str], rejected_at: str | None = None) -> list[tuple]:
    """The trail of one pass through the review chain, from the merge before the DMN."""
    ev = gw("review_merge")
    for step in ("manager_verify", "audit_approval"):
        ev += rd(step) + gw(OK_GW[step])
        if step == rejected_at:
            return ev + gw("rejected_merge")
    for gate, _cond, step, merge in OPTIONAL:
        ev += gw(gate)
        if step in steps:
            ev += rd(step) + gw(OK_GW[step])
            if step == rejected_at:
                return ev + gw("rejected_merge")
        ev += gw(merge)
    return ev


def review_routes(steps: list[str], rejected_at: str | None = None) -> list[tuple]:
    """The routing gateways of one pass, with the branch taken and the condition that chose it."""
    approved = {"manager_verify": "audit_approval", "audit_approval": "vp_template_gw",
                "vp_template_approval": "vp_template_merge", "hq_template_approval": "hq_merge",
                "gm_price_approval": "gm_merge", "vp_price_approval": "review_done"}
    result = []

    def decided(step: str) -> bool:
        if step == rejected_at:
            result.append((OK_GW[step], "rejected_merge", "default"))
            return True
        result.append((OK_GW[step], approved[step], "approved == True"))
        return False

    for step in ("manager_verify", "audit_approval"):
        if decided(step):
            return result
    for gate, cond, step, merge in OPTIONAL:
        if step in steps:
            result.append((gate, step, cond))
            if decided(step):
                return result
        else:
            result.append((gate, merge, "default"))
    return result


def start_order(eng: Engine, starter: str, business_key: str | None = BK) -> int:
    """The deal arrives (as presale's deal_won would bring it); the contract is the starter's to draft."""
    iid = eng.start(starter, KEY, dict(DEAL), business_key=business_key)
    assert offered_to(eng, "draft_contract", iid) == {starter}
    task = inbox_task(eng, starter, "draft_contract", iid)
    assert (task["role"], task["assignee"], task["process_key"]) == ("initiator", starter, KEY)
    return iid


def approve_chain(eng: Engine, clock, iid: int, starter: str, steps: list[str]) -> list[tuple[str, dict]]:  # noqa: ANN001
    """Every step of the chain, one at a time, offered to exactly its role's holders except the starter."""
    done = []
    for step in steps:
        assert open_names(eng, iid) == {step}
        assert offered_to(eng, step, iid) == holders(ROLE_OF[step]) - {starter}
        data = {"approved": True, "comment": OPINION[step]}
        clock.advance(hours=2)
        do(eng, APPROVER[step], step, data, iid)
        done.append((step, data))
    return done


def confirm_in_stock(eng: Engine, clock, iid: int) -> list[tuple[str, dict]]:  # noqa: ANN001
    assert open_names(eng, iid) == {"check_stock"}
    assert offered_to(eng, "check_stock", iid) == holders("order_clerk")
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", IN_STOCK, iid)
    return [("check_stock", IN_STOCK), *customer_accepts(eng, clock, iid)]


def customer_accepts(eng: Engine, clock, iid: int) -> list[tuple[str, dict]]:  # noqa: ANN001
    assert offered_to(eng, "customer_confirmation", iid) == holders("order_clerk")
    clock.advance(hours=1)
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    return [("customer_confirmation", ACCEPTED)]


def paid(amount: float) -> dict:
    return {"paid_amount_yuan": amount, "payment_method": "wire_transfer", "voucher_no": "DH-20260304-0031",
            "received_on": "2026-03-04"}


def pay(eng: Engine, clock, iid: int, amount: float, after=timedelta(days=2)) -> list[tuple[str, dict]]:  # noqa: ANN001
    """Finance confirms the payment within the term; nobody else is offered it."""
    assert offered_to(eng, "confirm_payment", iid) == holders("finance")
    assert offered_to(eng, "issue_delivery_note", iid) == set()  # no goods before the money
    clock.set(clock.now() + after)
    data = paid(amount)
    do(eng, "fin2", "confirm_payment", data, iid)
    return [("confirm_payment", data)]


def deliver(eng: Engine, clock, iid: int, starter: str, amount: float) -> list[tuple[str, dict]]:  # noqa: ANN001
    """Delivery note, shipment with the quality certificate, invoice, then the starter records the delivery."""
    done = []
    invoice = {"invoice_no": "No.34012678", "invoice_date": "2026-03-10", "invoice_amount_yuan": amount}
    for task, role, user, data in (("issue_delivery_note", "order_clerk", "clerk1", NOTE),
                                   ("ship_goods", "dispatcher", "disp", SHIPPED),
                                   ("issue_invoice", "finance", "fin1", invoice)):
        assert offered_to(eng, task, iid) == holders(role)
        clock.advance(hours=4)
        do(eng, user, task, data, iid)
        done.append((task, data))
    assert offered_to(eng, "record_delivery", iid) == {starter}
    clock.advance(days=1)
    do(eng, starter, "record_delivery", RECORDED, iid)
    return [*done, ("record_delivery", RECORDED)]


DELIVERY_TRAIL = [*rd("issue_delivery_note", "ship_goods", "issue_invoice", "record_delivery"), ("ended", None),
                  ("message_sent", None)]




def assert_archive_started(eng: Engine, iid: int, starter: str, business_key: str, data: dict) -> int:
    """The recorded delivery threw order_delivered, which started P8 for the same business key."""
    payload = {name: data[name] for name in ARCHIVE_PAYLOAD}
    [sent] = events(eng, iid, "message_sent")
    assert sent["actor"] == starter
    assert {k: sent["payload"][k] for k in ("name", "payload", "business_key", "delivered")} == {
        "name": "order_delivered", "payload": payload, "business_key": business_key, "delivered": []}
    [archive_id] = sent["payload"]["started"]
    archive = eng.instance(AUDITOR, archive_id)
    assert (archive["process_key"], archive["business_key"], archive["started_by"], archive["status"]) == (
        ARCHIVE, business_key, starter, "running")
    assert archive["data"] == payload
    [started] = events(eng, archive_id, "started")
    assert started["payload"]["via_message"] == {"name": "order_delivered", "from_instance": iid}
    assert (started["payload"]["data"], started["at"]) == (payload, sent["at"])
    assert offered_to(eng, "build_archive", archive_id) == holders("sales_assistant")
    assert_audit_intact(eng, archive_id)
    return archive_id


def payment_timers_gone(eng: Engine, clock, iid: int) -> None:  # noqa: ANN001
    """Paid: past the term and past the cancellation deadline nothing fires; the order goes on."""
    ready = parse(next(t for t in eng.instance(AUDITOR, iid)["history_tasks"]
                       if t["name"] == "confirm_payment")["created_at"])
    clock.set(ready + timedelta(days=90))
    assert eng.fire_due_timers() == 0
    assert open_names(eng, iid) == {"issue_delivery_note"}


# -- standard contract: verification and audit only --------------------------------------------------------


@pytest.mark.rule("P2.1")
@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.3")
@pytest.mark.rule("P2.4")
@pytest.mark.rule("P2.5")
@pytest.mark.rule("P2.6")
@pytest.mark.rule("P2.SOD")
@pytest.mark.rule("P8.1")
@pytest.mark.rule("P8.2")
def test_standard_contract_in_stock_paid_in_time_delivered_then_archived_and_followed_up(sales, clock):
    eng, starter = sales, "rep_mgr"  # a sales rep who is also a sales manager
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    assert {k: eng.instance(starter, iid)["data"][k] for k in dmn(STANDARD, False, "small")} == dmn(
        STANDARD, False, "small")

    requester_may_not_work(eng, iid, starter, "manager_verify", {"approved": True})
    steps = chain(STANDARD, False)
    reviewed = approve_chain(eng, clock, iid, starter, steps)
    ordered = confirm_in_stock(eng, clock, iid)
    payment = pay(eng, clock, iid, AMOUNT["small"])
    payment_timers_gone(eng, clock, iid)
    delivered = deliver(eng, clock, iid, starter, AMOUNT["small"])

    data = merged(DEAL, form, dmn(STANDARD, False, "small"), *[d for _t, d in reviewed + ordered + payment + delivered])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *reviewed, *ordered, *payment, *delivered]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [*review_routes(steps), ("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert events(eng, iid, "timer_fired") == []
    assert_audit_intact(eng, iid)

    # P8: the customer's archive, then the first follow-up call 30 days later (the calls go on until it is closed)
    archive_id = assert_archive_started(eng, iid, starter, BK, data)
    delivered_at = clock.now()
    clock.advance(hours=3)
    do(eng, "asst2", "build_archive", ARCHIVED, archive_id)
    clock.set(delivered_at + timedelta(days=30) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "followup_call", archive_id) == set()
    clock.set(delivered_at + timedelta(days=30, hours=3, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "followup_call", archive_id) == holders("sales_assistant")
    clock.advance(hours=2)
    do(eng, "asst1", "followup_call", CALLED, archive_id)
    archive = eng.instance(AUDITOR, archive_id)
    assert (archive["status"], archive["tasks"]) == ("running", [])  # the next call is a month away (key account)
    assert archive["data"] == merged({k: data[k] for k in ARCHIVE_PAYLOAD}, ARCHIVED, CALLED)
    assert_audit_intact(eng, archive_id)


# -- modified template and exclusive distribution: the longer chains ---------------------------------------


@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.3a")
@pytest.mark.rule("P2.SOD")
def test_exclusive_distribution_on_a_modified_template_bulk_order_out_of_stock_goes_to_production(sales, clock):
    eng, starter = sales, "rep_vp"  # a sales rep who is also the sales VP
    iid = start_order(eng, starter)
    form = contract(EXCLUSIVE, True, "bulk")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)

    steps = chain(EXCLUSIVE, True)
    assert steps == list(APPROVALS)
    reviewed = []
    for step in steps:
        if ROLE_OF[step] == "sales_vp":  # the VP who drafted it reviews neither the template nor the prices
            requester_may_not_work(eng, iid, starter, step, {"approved": True})
        reviewed += approve_chain(eng, clock, iid, starter, [step])

    out_of_stock = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-20",
                    "stock_note": "散装 P·O 42.5 库存约 200 吨，缺口 400 吨"}
    assert offered_to(eng, "check_stock", iid) == holders("order_clerk")
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", out_of_stock, iid)
    assert offered_to(eng, "schedule_production", iid) == holders("production")
    assert offered_to(eng, "customer_confirmation", iid) == set()
    scheduled = {"planned_completion_date": "2026-03-18", "production_note": "二号磨插单生产 400 吨"}
    clock.advance(hours=5)
    do(eng, "prod1", "schedule_production", scheduled, iid)
    confirmed = customer_accepts(eng, clock, iid)
    payment = pay(eng, clock, iid, AMOUNT["bulk"])
    delivered = deliver(eng, clock, iid, starter, AMOUNT["bulk"])

    ordered = [("check_stock", out_of_stock), ("schedule_production", scheduled), *confirmed]
    data = merged(DEAL, form, dmn(EXCLUSIVE, True, "bulk"), *[d for _t, d in reviewed + ordered + payment + delivered])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *reviewed, *ordered, *payment, *delivered]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "production_merge"), *rd("schedule_production"), *gw("stock_merge"),
        *rd("customer_confirmation"), *gw("confirmed_gw"), *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps),
        ("stock_gw", "production_merge", "stock_status == 'out_of_stock' and bulk_order == True"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.3b")
@pytest.mark.rule("P2.SOD")
def test_modified_template_new_variety_trial_sample_accepted_then_produced(sales, clock):
    eng, starter = sales, "rep_hq"  # a sales rep who also sits at headquarters
    iid = start_order(eng, starter)
    form = contract(STANDARD, True, "new_variety")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)

    steps = chain(STANDARD, True)
    assert steps == ["manager_verify", "audit_approval", "vp_template_approval", "hq_template_approval"]
    reviewed = approve_chain(eng, clock, iid, starter, steps[:3])
    requester_may_not_work(eng, iid, starter, "hq_template_approval", {"approved": True})
    reviewed += approve_chain(eng, clock, iid, starter, steps[3:])

    new_variety = {"stock_status": "new_variety", "stock_note": "彩色饰面水泥公司尚未生产"}
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", new_variety, iid)
    assert offered_to(eng, "obtain_sample_board", iid) == {starter}
    assert offered_to(eng, "schedule_production", iid) == set()
    board = {"sample_board_received_on": "2026-03-03", "sample_board_description": "米白色饰面样板 2 块，已送技术部"}
    clock.advance(days=1)
    do(eng, starter, "obtain_sample_board", board, iid)
    assert offered_to(eng, "trial_production", iid) == holders("technical")
    trial = {"trial_batch_no": "SZ-2026-007", "trial_completed_on": "2026-03-06", "trial_note": "色差 ΔE 0.8"}
    clock.advance(days=3)
    do(eng, "tech1", "trial_production", trial, iid)
    assert offered_to(eng, "confirm_trial_sample", iid) == {starter}
    sample_ok = {"sample_accepted": True, "sample_feedback": "颜色与样板一致，客户签字确认"}
    clock.advance(days=1)
    do(eng, starter, "confirm_trial_sample", sample_ok, iid)
    assert offered_to(eng, "schedule_production", iid) == holders("production")
    scheduled = {"planned_completion_date": "2026-03-16"}
    clock.advance(hours=4)
    do(eng, "prod1", "schedule_production", scheduled, iid)
    confirmed = customer_accepts(eng, clock, iid)
    payment = pay(eng, clock, iid, AMOUNT["new_variety"])
    delivered = deliver(eng, clock, iid, starter, AMOUNT["new_variety"])

    ordered = [("check_stock", new_variety), ("obtain_sample_board", board), ("trial_production", trial),
               ("confirm_trial_sample", sample_ok), ("schedule_production", scheduled), *confirmed]
    data = merged(DEAL, form, dmn(STANDARD, True, "new_variety"),
                  *[d for _t, d in reviewed + ordered + payment + delivered])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *reviewed, *ordered, *payment, *delivered]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw"), *rd("obtain_sample_board", "trial_production", "confirm_trial_sample"),
        *gw("sample_ok_gw", "production_merge"), *rd("schedule_production"), *gw("stock_merge"),
        *rd("customer_confirmation"), *gw("confirmed_gw"), *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps), ("stock_gw", "obtain_sample_board", "stock_status == 'new_variety'"),
        ("sample_ok_gw", "production_merge", "sample_accepted == True"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.3")
@pytest.mark.rule("P2.6")
@pytest.mark.rule("P2.SOD")
def test_exclusive_distribution_small_order_out_of_stock_waits_for_stock_without_business_key(sales, clock):
    eng, starter = sales, "rep_gm"  # a sales rep who is also a general manager
    iid = start_order(eng, starter, business_key=None)
    form = contract(EXCLUSIVE, False, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)

    steps = chain(EXCLUSIVE, False)
    assert steps == ["manager_verify", "audit_approval", "gm_price_approval", "vp_price_approval"]
    reviewed = approve_chain(eng, clock, iid, starter, steps[:2])
    requester_may_not_work(eng, iid, starter, "gm_price_approval", {"approved": True})
    reviewed += approve_chain(eng, clock, iid, starter, steps[2:])

    # a small order out of stock is not a bulk order: no production, the customer decides whether to wait
    short = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-09",
             "stock_note": "袋装 P·O 42.5 本周售罄，下周一到库"}
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", short, iid)
    assert offered_to(eng, "schedule_production", iid) == set()
    confirmed = customer_accepts(eng, clock, iid)
    payment = pay(eng, clock, iid, AMOUNT["small"])
    delivered = deliver(eng, clock, iid, starter, AMOUNT["small"])

    ordered = [("check_stock", short), *confirmed]
    data = merged(DEAL, form, dmn(EXCLUSIVE, False, "small"),
                  *[d for _t, d in reviewed + ordered + payment + delivered])
    assert_completed(eng, iid, starter, data)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [*review_routes(steps), ("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, f"insale-{iid}", data)  # no business key: the sender's own


# -- rejections: back to the starter, who revises and resubmits or withdraws -------------------------------

STARTER_HOLDING = {"manager_verify": "rep_mgr", "audit_approval": "rep_audit", "vp_template_approval": "rep_vp",
                   "hq_template_approval": "rep_hq", "gm_price_approval": "rep_gm", "vp_price_approval": "rep_vp"}


@pytest.mark.rule("P2.2c")
@pytest.mark.rule("P2.SOD")
@pytest.mark.parametrize("rejecting", APPROVALS)
def test_a_rejection_returns_to_the_starter_who_revises_and_the_whole_chain_runs_again(sales, clock, rejecting):
    eng, starter = sales, STARTER_HOLDING[rejecting]
    iid = start_order(eng, starter)
    form = contract(EXCLUSIVE, True, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    steps = chain(EXCLUSIVE, True)
    before = steps[:steps.index(rejecting)]
    reviewed = approve_chain(eng, clock, iid, starter, before)

    requester_may_not_work(eng, iid, starter, rejecting, {"approved": False, "comment": "自己驳回"})
    task = inbox_task(eng, APPROVER[rejecting], rejecting, iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete(APPROVER[rejecting], task["id"], {"approved": False})
    assert refused.value.fields["comment"]["zh"] == REJECT_MESSAGE
    rejection = {"approved": False, "comment": "包销单价低于区域限价，请按价目表调整后重报"}
    clock.advance(hours=3)
    do(eng, APPROVER[rejecting], rejecting, rejection, iid)

    # back to the starter alone, with the reason; nothing further in the chain is offered
    assert open_names(eng, iid) == {"revise_contract"}
    assert offered_to(eng, "revise_contract", iid) == {starter}
    seen = eng.instance(starter, iid)["data"]
    assert (seen["approved"], seen["comment"]) == (False, rejection["comment"])
    revised_lines = [line("普通硅酸盐水泥", "袋装 50kg", "P·O 42.5", "合格品", 80, 440),
                     line("复合硅酸盐水泥", "散装", "P·C 32.5R", "合格品", 50, 380)]
    revised = {**form, "order_lines": revised_lines, "amount_yuan": 54200, "resubmit": True,
               "revision_note": "单价按区域限价上调：P·O 42.5 至 440 元/吨，P·C 32.5R 至 380 元/吨"}
    clock.advance(hours=2)
    do(eng, starter, "revise_contract", revised, iid)

    # the revised contract goes through the whole chain again, from the sales manager
    again = approve_chain(eng, clock, iid, starter, steps)
    ordered = confirm_in_stock(eng, clock, iid)
    payment = pay(eng, clock, iid, 54200)
    delivered = deliver(eng, clock, iid, starter, 54200)

    after = [*reviewed, (rejecting, rejection), ("revise_contract", revised), *again, *ordered, *payment, *delivered]
    data = merged(DEAL, form, dmn(EXCLUSIVE, True, "small"), *[d for _t, d in after])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *after]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps, rejected_at=rejecting),
        *rd("revise_contract"), *gw("resubmit_gw"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps, rejected_at=rejecting), ("resubmit_gw", "review_merge", "resubmit == True"),
        *review_routes(steps), ("stock_gw", "stock_merge", "default"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.2c")
def test_a_rejected_contract_withdrawn_by_the_starter_ends_cancelled(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    assert offered_to(eng, "manager_verify", iid) == holders("sales_manager")
    rejection = {"approved": False, "comment": "客户资信未核实，暂不签约"}
    clock.advance(hours=1)
    do(eng, "mgr1", "manager_verify", rejection, iid)

    assert offered_to(eng, "revise_contract", iid) == {starter}
    revise = inbox_task(eng, starter, "revise_contract", iid)
    with pytest.raises(InvalidData) as refused:  # resubmitting needs the whole contract again
        eng.complete(starter, revise["id"], {"resubmit": True, "revision_note": "重新提交"})
    assert {"contract_no", "order_lines", "amount_yuan"} <= set(refused.value.fields)
    with pytest.raises(InvalidData) as refused:  # withdrawing needs a reason
        eng.complete(starter, revise["id"], {"resubmit": False})
    assert set(refused.value.fields) == {"revision_note"}
    withdrawn = {"resubmit": False, "revision_note": "客户暂缓采购，合同撤销"}
    clock.advance(hours=1)
    do(eng, starter, "revise_contract", withdrawn, iid)

    assert offered_to(eng, "check_stock", iid) == set()
    assert offered_to(eng, "manager_verify", iid) == set()
    data = merged(DEAL, form, dmn(STANDARD, False, "small"), rejection, withdrawn)
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), ("manager_verify", rejection),
                                     ("revise_contract", withdrawn)]
    steps = chain(STANDARD, False)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps, rejected_at="manager_verify"),
        *rd("revise_contract"), *gw("resubmit_gw"), ("ended", None)]
    assert routes(eng, iid) == [*review_routes(steps, rejected_at="manager_verify"),
                                ("resubmit_gw", "contract_cancelled", "default")]
    assert end_events(eng, iid) == ["contract_cancelled"]
    assert events(eng, iid, "message_sent") == []  # no archive for a contract that never was
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.3")
@pytest.mark.rule("P2.2c")
def test_the_customer_does_not_accept_the_stock_situation_and_the_contract_is_withdrawn(sales, clock):
    eng, starter = sales, "rep2"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    steps = chain(STANDARD, False)
    reviewed = approve_chain(eng, clock, iid, starter, steps)

    short = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-30",
             "stock_note": "袋装 P·O 42.5 月底前无货"}
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", short, iid)
    task = inbox_task(eng, "clerk1", "customer_confirmation", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("clerk1", task["id"], {"customer_accepted": False})
    assert set(refused.value.fields) == {"confirmation_note"}
    declined = {"customer_accepted": False, "confirmation_note": "客户工期紧，不能等到月底"}
    clock.advance(hours=2)
    do(eng, "clerk1", "customer_confirmation", declined, iid)

    assert offered_to(eng, "confirm_payment", iid) == set()  # no order, no payment
    assert offered_to(eng, "revise_contract", iid) == {starter}
    withdrawn = {"resubmit": False, "revision_note": "客户改向他厂采购，合同撤销"}
    clock.advance(hours=1)
    do(eng, starter, "revise_contract", withdrawn, iid)

    data = merged(DEAL, form, dmn(STANDARD, False, "small"), *[d for _t, d in reviewed], short, declined, withdrawn)
    assert_completed(eng, iid, starter, data)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps), *rd("check_stock"),
        *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw", "rejected_merge"),
        *rd("revise_contract"), *gw("resubmit_gw"), ("ended", None)]
    assert routes(eng, iid) == [*review_routes(steps), ("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "rejected_merge", "default"),
                                ("resubmit_gw", "contract_cancelled", "default")]
    assert end_events(eng, iid) == ["contract_cancelled"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.3b")
@pytest.mark.rule("P2.2c")
def test_the_customer_rejects_the_trial_sample_and_the_revised_contract_for_a_stocked_variety_is_delivered(
        sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "new_variety")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    steps = chain(STANDARD, False)
    first = approve_chain(eng, clock, iid, starter, steps)

    new_variety = {"stock_status": "new_variety", "stock_note": "彩色饰面水泥公司尚未生产"}
    board = {"sample_board_received_on": "2026-03-03", "sample_board_description": "浅灰色样板 1 块"}
    trial = {"trial_batch_no": "SZ-2026-009", "trial_completed_on": "2026-03-06"}
    rejected = {"sample_accepted": False, "sample_feedback": "颜色偏深，客户不认可，改订现有白色水泥"}
    for user, task, data in (("clerk1", "check_stock", new_variety), (starter, "obtain_sample_board", board),
                             ("tech1", "trial_production", trial)):
        clock.advance(days=1)
        do(eng, user, task, data, iid)
    sample = inbox_task(eng, starter, "confirm_trial_sample", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, sample["id"], {"sample_accepted": False})
    assert set(refused.value.fields) == {"sample_feedback"}
    clock.advance(days=1)
    do(eng, starter, "confirm_trial_sample", rejected, iid)

    assert offered_to(eng, "schedule_production", iid) == set()
    assert offered_to(eng, "revise_contract", iid) == {starter}
    white = [line("白色硅酸盐水泥", "袋装 25kg", "P·W 42.5", "一级", 60, 900)]
    revised = {**form, "order_lines": white, "amount_yuan": 54000, "resubmit": True,
               "revision_note": "客户改订现有白色硅酸盐水泥"}
    clock.advance(hours=2)
    do(eng, starter, "revise_contract", revised, iid)
    second = approve_chain(eng, clock, iid, starter, steps)
    ordered = confirm_in_stock(eng, clock, iid)
    payment = pay(eng, clock, iid, 54000)
    delivered = deliver(eng, clock, iid, starter, 54000)

    after = [*first, ("check_stock", new_variety), ("obtain_sample_board", board), ("trial_production", trial),
             ("confirm_trial_sample", rejected), ("revise_contract", revised), *second, *ordered, *payment,
             *delivered]
    data = merged(DEAL, form, dmn(STANDARD, False, "new_variety"), *[d for _t, d in after])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *after]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw"), *rd("obtain_sample_board", "trial_production", "confirm_trial_sample"),
        *gw("sample_ok_gw", "rejected_merge"), *rd("revise_contract"), *gw("resubmit_gw"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps), ("stock_gw", "obtain_sample_board", "stock_status == 'new_variety'"),
        ("sample_ok_gw", "rejected_merge", "default"), ("resubmit_gw", "review_merge", "resubmit == True"),
        *review_routes(steps), ("stock_gw", "stock_merge", "default"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


# -- payment: the term, the reminder, the cancellation ------------------------------------------------------


def to_payment(eng: Engine, clock, iid: int, starter: str, form: dict) -> list[tuple[str, dict]]:  # noqa: ANN001
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    return [*approve_chain(eng, clock, iid, starter, chain(STANDARD, False)), *confirm_in_stock(eng, clock, iid)]


@pytest.mark.rule("P2.4")
@pytest.mark.rule("P2.4a")
def test_the_payment_term_expires_the_starter_is_reminded_then_finance_confirms_and_the_goods_go(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "small", term=10)
    before = to_payment(eng, clock, iid, starter, form)
    ready = parse(open_task(eng, iid, "confirm_payment")["created_at"])
    assert ready == clock.now()

    clock.set(ready + timedelta(days=10) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "payment_reminder", iid) == set()
    clock.set(ready + timedelta(days=10, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "payment_reminder", iid) == {starter}
    assert offered_to(eng, "confirm_payment", iid) == holders("finance")  # the payment task stays open
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (
        "payment_overdue", "confirm_payment", False)
    reminder = inbox_task(eng, starter, "payment_reminder", iid)
    assert (reminder["role"], reminder["assignee"]) == ("initiator", starter)
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, reminder["id"], {})
    assert set(refused.value.fields) == {"reminder_note"}
    reminded = {"reminder_note": "电话催款，客户财务称资金周转，承诺三日内电汇", "promised_payment_date": "2026-03-18"}
    clock.advance(hours=2)
    do(eng, starter, "payment_reminder", reminded, iid)
    assert eng.instance(starter, iid)["status"] == "running"

    payment = pay(eng, clock, iid, AMOUNT["small"], after=timedelta(days=3))
    payment_timers_gone(eng, clock, iid)  # the cancellation deadline died with the payment task
    delivered = deliver(eng, clock, iid, starter, AMOUNT["small"])
    data = merged(DEAL, form, dmn(STANDARD, False, "small"), *[d for _t, d in before], reminded,
                  *[d for _t, d in payment + delivered])
    assert_completed(eng, iid, starter, data)
    assert submissions(eng, iid) == [("draft_contract", form), *before, ("payment_reminder", reminded), *payment,
                                     *delivered]
    steps = chain(STANDARD, False)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        ("task_ready", "confirm_payment"), ("timers_due", None), ("timer_fired", "payment_overdue"),
        ("escalated", "payment_overdue"), *rd("payment_reminder"), ("completed", "confirm_payment"),
        *DELIVERY_TRAIL]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


@pytest.mark.rule("P2.4a")
@pytest.mark.rule("P2.4b")
def test_still_unpaid_a_week_after_the_term_the_order_is_cancelled(sales, clock):
    eng, starter = sales, "rep2"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, "small")  # the default term: 7 days
    before = to_payment(eng, clock, iid, starter, form)
    ready = parse(open_task(eng, iid, "confirm_payment")["created_at"])

    clock.set(ready + timedelta(days=7, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, "payment_reminder", iid) == {starter}
    payment_task = open_task(eng, iid, "confirm_payment")
    # nobody pays and the reminder is left undone: one week after the term the order is cancelled
    clock.set(ready + timedelta(days=14) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(ready + timedelta(days=14, minutes=1))
    assert eng.fire_due_timers() == 1

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["tasks"]) == ("completed", [])
    assert {t["name"]: t["status"] for t in inst["history_tasks"]
            if t["name"] in ("confirm_payment", "payment_reminder")} == {
        "confirm_payment": "cancelled", "payment_reminder": "cancelled"}
    assert offered_to(eng, "confirm_payment", iid) == set()
    assert offered_to(eng, "payment_reminder", iid) == set()
    with pytest.raises(Conflict):  # a payment confirmed too late is refused
        eng.complete("fin1", payment_task["id"], paid(AMOUNT["small"]))
    assert inst["data"] == merged(DEAL, form, dmn(STANDARD, False, "small"), *[d for _t, d in before])
    steps = chain(STANDARD, False)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        ("task_ready", "confirm_payment"), ("timers_due", None), ("timer_fired", "payment_overdue"),
        ("escalated", "payment_overdue"), ("task_ready", "payment_reminder"),
        ("timers_due", None), ("task_cancelled", "confirm_payment"), ("task_cancelled", "payment_reminder"),
        ("timer_fired", "payment_cancel_deadline"), ("escalated", "payment_cancel_deadline"), ("ended", None)]
    [cancelled] = [e for e in events(eng, iid, "escalated") if e["task"] == "payment_cancel_deadline"]
    assert cancelled["payload"] == {"attached_to": "confirm_payment", "interrupting": True}
    assert end_events(eng, iid) == ["order_cancelled_unpaid"]
    assert events(eng, iid, "message_sent") == []
    assert offered_to(eng, "build_archive") == set()  # no delivery, no archive
    assert_audit_intact(eng, iid)


# -- forms ----------------------------------------------------------------------------------------------------


@pytest.mark.rule("P2.1")
def test_the_contract_form_refuses_an_incomplete_or_inconsistent_contract(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    task = inbox_task(eng, starter, "draft_contract", iid)
    good = contract(STANDARD, True, "small")

    def refused(data: dict) -> set[str]:
        with pytest.raises(InvalidData) as caught:
            eng.complete(starter, task["id"], data)
        return set(caught.value.fields)

    assert refused({k: v for k, v in good.items() if k != "template_changes"}) == {"template_changes"}
    assert refused({**good, "order_lines": []}) == {"order_lines"}
    assert refused({**good, "order_lines": [{**SMALL_LINES[0], "quantity": 0}]}) == {"order_lines"}
    assert refused({**good, "contract_type": "consignment"}) == {"contract_type"}
    assert refused({**good, "payment_term_days": 0}) == {"payment_term_days"}
    assert refused({**good, "payment_term_days": 91}) == {"payment_term_days"}
    assert refused({**good, "delivery_date": company_day(T0)}) == {"delivery_date"}
    assert refused({**good, "discount_pct": 5}) == {"discount_pct"}
    assert eng.instance(starter, iid)["data"] == DEAL  # nothing refused was stored
    assert open_names(eng, iid) == {"draft_contract"}
    do(eng, starter, "draft_contract", good, iid)
    assert open_names(eng, iid) == {"manager_verify"}


@pytest.mark.rule("P2.1")
def test_an_incomplete_order_line_is_reported_on_the_order_lines_field_with_its_message(sales):
    """The form's fields are the top-level names: a line without a grade is an error of order_lines,
    shown with the form's own message, not of a field called grade that the form does not have."""
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    task = inbox_task(eng, starter, "draft_contract", iid)
    no_grade = [{k: v for k, v in SMALL_LINES[0].items() if k != "grade"}]
    with pytest.raises(InvalidData) as caught:
        eng.complete(starter, task["id"], {**contract(), "order_lines": no_grade})
    assert caught.value.fields == {"order_lines": {
        "zh": "每条订货明细须填写产品名称、规格、型号、等级、数量和单价",
        "en": "Every order line needs product, specification, model, grade, quantity and unit price"}}


# -- started by a thrown deal_won -----------------------------------------------------------------------------

SENDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="deal_sender_definitions" targetNamespace="http://salesflow.example/test">
  <bpmn:message id="msg_deal_won" name="deal_won"/>
  <bpmn:process id="deal_sender" name="测试成交" isExecutable="true" camunda:candidateStarterGroups="sales_rep">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="sales_rep" name="销售代表">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>won</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="开始"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateThrowEvent id="won" name="成交">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="won_message" messageRef="msg_deal_won"
          camunda:expression="PAYLOAD"/>
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end" name="完成"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="won"/>
    <bpmn:sequenceFlow id="f2" sourceRef="won" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".replace("PAYLOAD", "{" + ", ".join(f"'{k}': {k}" for k in ("customer_name", "customer_class", "company", "contact",
                                                                 "address", "products", "amount_yuan")) + "}")


@pytest.mark.rule("P2.1")
def test_a_thrown_deal_won_starts_insale_for_the_same_business_key_with_the_deal_as_data(sales, clock):
    """The message presale throws when a deal is won (here from a minimal sender with presale's payload shape)."""
    eng, starter = sales, "rep2"
    [deployed] = eng.deploy("system", files=[SourceFile("deal_sender.bpmn", "bpmn", SENDER.encode())])
    assert deployed.key == "deal_sender"
    deal = {**DEAL, "company": "芜湖商砼有限公司采购部", "products": "P·O 42.5 散装水泥", "amount_yuan": 51600}
    sender = eng.start(starter, "deal_sender", deal, business_key="INQ-2026-0042")

    [sent] = events(eng, sender, "message_sent")
    assert {k: sent["payload"][k] for k in ("name", "payload", "business_key", "delivered")} == {
        "name": "deal_won", "payload": deal, "business_key": "INQ-2026-0042", "delivered": []}
    [iid] = sent["payload"]["started"]
    order = eng.instance(AUDITOR, iid)
    assert (order["process_key"], order["business_key"], order["started_by"], order["status"]) == (
        KEY, "INQ-2026-0042", starter, "running")
    assert order["data"] == deal
    [started] = events(eng, iid, "started")
    assert started["payload"]["via_message"] == {"name": "deal_won", "from_instance": sender}
    assert eng.instance(AUDITOR, sender)["status"] == "completed"
    # the contract is the thrower's to draft, with the deal's data already there
    assert offered_to(eng, "draft_contract", iid) == {starter}
    form = contract(STANDARD, False, "small")
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)
    assert eng.instance(starter, iid)["data"] == merged(deal, form, dmn(STANDARD, False, "small"))
    assert offered_to(eng, "manager_verify", iid) == holders("sales_manager")
    assert trail(eng, iid) == [("started", None), *rd("draft_contract"), *gw("review_merge"),
                               ("task_ready", "manager_verify")]
    assert_audit_intact(eng, iid)
    assert_audit_intact(eng, sender)
