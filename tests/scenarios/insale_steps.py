"""Steps of P2 insale (售中服务) for its scenario tests: the deal that starts it, the contract, the review
chain, the seal, the stock, the payment and the delivery, each asserting who is offered the work.

The process starts only from presale's message deal_won. The tests throw it from a minimal sender
(`deal_sender`) whose start data is the payload presale sends: the customer and the approved quotation
(product, specification, grade, unit, quantity, list price, discount, unit price after the discount,
amount, quotation number). The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.definitions.bundle import SourceFile, load_paths
from engine.errors import Forbidden
from tests.conftest import ROOT, T0, add_users
from tests.deployed_state import prepared
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    branches,
    company_day,
    dated,
    events,
    inbox_of,
    kept_history,
    offered_among,
    parse,
)

KEY, ARCHIVE, SENDER_KEY = "insale", "aftersale_archive", "deal_sender"
BK = "DEAL-2026-0302-01"  # the business key the deal carries from presale
STANDARD, EXCLUSIVE = "standard", "exclusive_distribution"

# the shared PEOPLE, and the branch general manager seed 416 names (分公司总经理, not the general manager)
STAFF: dict[str, list[str]] = {**PEOPLE, "bgm1": ["branch_general_manager"], "bgm2": ["branch_general_manager"],
                               "rep_bgm": ["sales_rep", "branch_general_manager"],
                               "rep_off": ["sales_rep", "office"], "rep_dir": ["sales_rep", "sales_director"]}

PAYLOAD_FIELDS = ("customer_name", "customer_class", "company", "contact", "address", "requirements", "agreement",
                  "product", "spec", "grade", "unit", "quantity", "list_price_yuan", "discount_pct",
                  "unit_price_yuan", "amount_yuan", "quotation_no")
QUOTE = {"customer_name": "芜湖商砼有限公司", "customer_class": "key_account", "company": "芜湖商砼有限公司物资部",
         "contact": "李明 0553-5551234", "address": "安徽省芜湖市弋江区中山南路 88 号",
         "requirements": "3 天抗压强度不低于 27 MPa", "agreement": "按报价单供货，散装罐车运输",
         "product": "普通硅酸盐水泥", "spec": "散装", "grade": "42.5", "unit": "吨", "quantity": 120,
         "list_price_yuan": 450, "discount_pct": 4, "unit_price_yuan": 432, "amount_yuan": 51840,
         "quotation_no": "BJ-2026-0042"}

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
      <camunda:property name="outcome" value="won"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="won"/>
    <bpmn:sequenceFlow id="f2" sourceRef="won" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".replace("PAYLOAD", "{" + ", ".join(f"'{k}': {k}" for k in PAYLOAD_FIELDS) + "}")

INSALE_FILES = [ROOT / "processes" / "insale.bpmn", ROOT / "processes" / "contract_review.dmn",
                ROOT / "processes" / "order_size.dmn", ROOT / "processes" / "discount_approval.dmn",
                *sorted((ROOT / "forms").glob("insale_*.yaml"))]
ARCHIVE_FILES = [ROOT / "processes" / "aftersale_archive.bpmn",
                 *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]


def sender_file() -> SourceFile:
    return SourceFile("deal_sender.bpmn", "bpmn", SENDER.encode())


def deploy_sales(engine: Engine, extra: list | None = None) -> Engine:
    """P2 as it is in the repository, the P3A it starts, the deal sender, and STAFF. Only these: other
    processes armed by a timer start (the monthly survey) would fire on the same clock."""
    def build(eng: Engine) -> set[tuple[str, str]]:
        files = load_paths([*INSALE_FILES, *ARCHIVE_FILES, *(extra or [])]) + [sender_file()]
        deployed = {(d.key, d.status) for d in eng.deploy("system", files=files)}
        add_users(eng, STAFF)
        return deployed

    # built once per worker, then restored (tests/deployed_state.py)
    deployed = prepared(engine, "in-sale: " + " ".join(str(path) for path in extra or []), build)
    assert {(KEY, "deployed"), (ARCHIVE, "deployed"), (SENDER_KEY, "deployed")} <= deployed
    return engine


# -- who is offered what -------------------------------------------------------------------------------------
def holders(role: str) -> set[str]:
    return {name for name, roles in STAFF.items() if role in roles}


def offered(eng: Engine, task_name: str, iid: int | None = None) -> set[str]:
    """The people (of STAFF) whose inbox shows a ready task with this element id (of this instance)."""
    return offered_among(eng, STAFF, task_name, iid)


def task_of(eng: Engine, user: str, task_name: str, iid: int) -> dict:
    found = [t for t in inbox_of(eng, user) if t["name"] == task_name and t["instance_id"] == iid]
    assert len(found) == 1, f"{user}'s inbox has {len(found)} task(s) {task_name}"
    return dict(found[0])  # the caller's copy: the kept inbox stays as read


def do(eng: Engine, user: str, task_name: str, data: dict, iid: int) -> dict:
    task = task_of(eng, user, task_name, iid)
    eng.complete(user, task["id"], data)
    return task


def requester_may_not_work(eng: Engine, iid: int, requester: str, task_name: str, data: dict) -> None:
    """Separation of duties: the requester, although he holds the task's role, may neither claim nor
    complete it, and trying leaves the task as it was (driver.requester_may_not_work, over STAFF)."""
    [task] = [t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == task_name]
    assert task["role"] in STAFF[requester], "the requester must hold the task's role for this proof"
    with pytest.raises(Forbidden):
        eng.claim(requester, task["id"])
    with pytest.raises(Forbidden):
        eng.complete(requester, task["id"], data)
    [after] = [t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == task_name]
    assert (after["id"], after["status"], after["assignee"]) == (task["id"], "ready", None)


def open_names(eng: Engine, iid: int) -> set[str]:
    return {t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]}


# -- the deal and the contract -------------------------------------------------------------------------------
def start_order(eng: Engine, starter: str, business_key: str | None = BK, quote: dict | None = None) -> int:
    """presale's deal_won arrives (thrown by the sender): the contract is the starter's to draft."""
    sender = eng.start(starter, SENDER_KEY, dict(quote or QUOTE), business_key=business_key)
    [sent] = events(eng, sender, "message_sent")
    [iid] = sent["payload"]["started"]
    assert offered(eng, "draft_contract", iid) == {starter}
    return iid


def contract(kind: str = STANDARD, modified: bool = False, quantity: float = 120, price: float = 432,
             term: int = 7) -> dict:
    """The contract as the starter drafts it: what the quotation does not say."""
    form = {"contract_no": "XS-2026-0318", "model": "P·O", "contract_quantity": quantity,
            "contract_unit_price_yuan": price, "delivery_date": company_day(T0, 30),
            "delivery_address": "芜湖市弋江区商砼站二号罐区", "contract_type": kind, "template_modified": modified,
            "payment_term_days": term, "special_requirements": "每车随货附质保书"}
    if modified:
        form["template_changes"] = "第七条违约责任：逾期交货违约金由每日千分之三改为千分之一"
    return form


BULK = 500  # 500 t at 432 yuan: 216,000 yuan, a bulk order


def priced(form: dict, quote: dict | None = None) -> dict:
    """What price_contract and the two tables add to the data for this contract."""
    quote = quote or QUOTE
    quantity, price = form["contract_quantity"], form["contract_unit_price_yuan"]
    amount = round(price * quantity, 2)
    return {"amount_yuan": amount,
            "discount_pct": round((quote["list_price_yuan"] - price) * 100 / quote["list_price_yuan"], 2),
            "below_quote": price < quote["unit_price_yuan"],
            "order_lines": [{"product": quote["product"], "spec": quote["spec"], "model": form["model"],
                             "grade": quote["grade"], "unit": quote["unit"], "quantity": quantity,
                             "unit_price": price}],
            "bulk_order": amount >= 200000}


def reviewers(kind: str, modified: bool) -> dict:
    """What contract_review must decide for this contract."""
    exclusive = kind == EXCLUSIVE
    return {"needs_vp_template": modified, "needs_hq": modified, "needs_gm_price": exclusive,
            "needs_vp_price": exclusive}


DISCOUNT_TASK = {"sales_manager": "contract_discount_manager", "sales_director": "contract_discount_director",
                 "sales_vp": "contract_discount_vp"}


def chain(kind: str, modified: bool, discount: str | None = None) -> list[str]:
    """The approvals in order (the seal follows them)."""
    steps = [DISCOUNT_TASK[discount]] if discount else []
    steps += ["manager_verify", "audit_approval"]
    if modified:
        steps += ["vp_template_approval", "hq_template_approval"]
    if kind == EXCLUSIVE:
        steps += ["gm_price_approval", "vp_price_approval", "manager_sign"]
    return steps


ROLE_OF = {"contract_discount_manager": "sales_manager", "contract_discount_director": "sales_director",
           "contract_discount_vp": "sales_vp", "manager_verify": "sales_manager", "audit_approval": "audit_dept",
           "vp_template_approval": "sales_vp", "hq_template_approval": "headquarters",
           "gm_price_approval": "branch_general_manager", "vp_price_approval": "sales_vp",
           "manager_sign": "sales_manager", "seal_contract": "office"}
APPROVER = {"contract_discount_manager": "mgr1", "contract_discount_director": "dir",
            "contract_discount_vp": "vp1", "manager_verify": "mgr2", "audit_approval": "audit1",
            "vp_template_approval": "vp1", "hq_template_approval": "hq1", "gm_price_approval": "bgm1",
            "vp_price_approval": "vp1", "manager_sign": "mgr1", "seal_contract": "off1"}
OPINION = {"contract_discount_manager": "客户年用量大，同意让价", "contract_discount_director": "同意按此价签约",
           "contract_discount_vp": "战略客户，特批", "manager_verify": "规格、型号、等级与报价单一致，核实无误",
           "audit_approval": "价格与已批准报价一致，核定", "vp_template_approval": "违约金条款修改合理，同意报总公司",
           "hq_template_approval": "同意本合同使用修改后的违约条款", "gm_price_approval": "包销价格在授权范围内，批准",
           "vp_price_approval": "同意包销价格", "manager_sign": "价格已批准，签字"}
OK_GW = {"contract_discount_manager": "discount_ok_gw", "contract_discount_director": "discount_ok_gw",
         "contract_discount_vp": "discount_ok_gw", "manager_verify": "manager_ok_gw", "audit_approval": "audit_ok_gw",
         "vp_template_approval": "vp_template_ok_gw", "hq_template_approval": "hq_ok_gw",
         "gm_price_approval": "gm_ok_gw", "vp_price_approval": "vp_price_ok_gw", "manager_sign": "sign_ok_gw",
         "seal_contract": "seal_ok_gw"}
SEALED = {"contract_sealed": True, "sealed_on": company_day(T0), "seal_note": "一式四份，已盖合同章"}


def approve_chain(eng: Engine, clock, iid: int, starter: str, steps: list[str]) -> list[tuple[str, dict]]:
    """Every step, one at a time, offered to exactly its role's holders except the starter."""
    done = []
    for step in steps:
        assert open_names(eng, iid) == {step}, open_names(eng, iid)
        assert offered(eng, step, iid) == holders(ROLE_OF[step]) - {starter}
        data = {"approved": True, "comment": OPINION[step]}
        clock.advance(hours=1)
        do(eng, APPROVER[step], step, data, iid)
        done.append((step, data))
    return done


def seal(eng: Engine, clock, iid: int, starter: str) -> list[tuple[str, dict]]:
    """The office seals the approved contract: only then is it in force."""
    assert open_names(eng, iid) == {"seal_contract"}
    assert offered(eng, "seal_contract", iid) == holders("office") - {starter}
    assert eng.instance(AUDITOR, iid)["data"].get("contract_effective") is not True
    clock.advance(hours=1)
    data = dated(SEALED, clock.now(), "sealed_on")
    do(eng, "off1", "seal_contract", data, iid)
    assert eng.instance(AUDITOR, iid)["data"]["contract_effective"] is True
    return [("seal_contract", data)]


def review_and_seal(eng: Engine, clock, iid: int, starter: str, steps: list[str]) -> list[tuple[str, dict]]:
    return [*approve_chain(eng, clock, iid, starter, steps), *seal(eng, clock, iid, starter)]


IN_STOCK = {"stock_status": "in_stock", "stock_note": "成品库存充足"}
ACCEPTED = {"customer_accepted": True, "confirmation_note": "已电话告知库存，客户同意按合同提货"}
NOTE = {"delivery_note_no": "TH-2026-0311", "ledger_recorded": True, "voucher_copy_filed": True}
SHIPPED = {"shipped_on": "2026-03-10", "carrier": "芜湖顺达物流", "waybill_no": "SD-20260310-88",
           "quality_certificate_no": "ZB-2026-0310-07"}
RECORDED = {"customer_informed": True, "delivered_on": "2026-03-11", "tracking_table_recorded": True,
            "delivery_feedback": "到货及时，包装完好"}
SCHEDULED = {"planned_completion_date": "2026-03-18", "production_note": "二号磨插单生产"}
PRODUCED = {"production_completed_on": "2026-03-17", "production_batch_no": "PC-2026-0317",
            "production_report_note": "出厂检验合格"}


def confirm_in_stock(eng: Engine, clock, iid: int) -> list[tuple[str, dict]]:
    assert open_names(eng, iid) == {"check_stock"}
    assert offered(eng, "check_stock", iid) == holders("order_clerk")
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", IN_STOCK, iid)
    return [("check_stock", IN_STOCK), *customer_accepts(eng, clock, iid)]


def produce(eng: Engine, clock, iid: int) -> list[tuple[str, dict]]:
    """Production schedules the order, then reports it finished."""
    assert offered(eng, "schedule_production", iid) == holders("production")
    clock.advance(hours=4)
    do(eng, "prod1", "schedule_production", SCHEDULED, iid)
    assert offered(eng, "report_production", iid) == holders("production")
    assert offered(eng, "customer_confirmation", iid) == set()
    clock.advance(days=2)
    produced = dated(PRODUCED, clock.now(), "production_completed_on")
    do(eng, "prod1", "report_production", produced, iid)
    return [("schedule_production", SCHEDULED), ("report_production", produced)]


def customer_accepts(eng: Engine, clock, iid: int) -> list[tuple[str, dict]]:
    assert offered(eng, "customer_confirmation", iid) == holders("order_clerk")
    clock.advance(hours=1)
    do(eng, "clerk1", "customer_confirmation", ACCEPTED, iid)
    return [("customer_confirmation", ACCEPTED)]


def paid(amount: float, received_on: str = company_day(T0)) -> dict:
    """The payment record; by default the money came on the first day of the test clock, never ahead of it."""
    return {"paid_amount_yuan": amount, "payment_method": "wire_transfer", "voucher_no": "DH-20260304-0031",
            "received_on": received_on}


def pay(eng: Engine, clock, iid: int, amount: float, after: timedelta = timedelta(days=2)) -> list[tuple[str, dict]]:
    """Finance confirms the payment within the term; nobody else is offered it."""
    assert offered(eng, "confirm_payment", iid) == holders("finance")
    assert offered(eng, "issue_delivery_note", iid) == set()  # no goods before the money
    clock.set(clock.now() + after)
    data = paid(amount, company_day(clock.now()))
    do(eng, "fin2", "confirm_payment", data, iid)
    return [("confirm_payment", data)]


def deliver(eng: Engine, clock, iid: int, starter: str, amount: float) -> list[tuple[str, dict]]:
    """Delivery note, shipment with the quality certificate, invoice, then the starter records the delivery."""
    done = []
    invoice = {"invoice_no": "No.34012678", "invoice_amount_yuan": amount}
    for task, role, user, data, day_field in (("issue_delivery_note", "order_clerk", "clerk1", NOTE, None),
                                              ("ship_goods", "dispatcher", "disp", SHIPPED, "shipped_on"),
                                              ("issue_invoice", "finance", "fin1", invoice, "invoice_date")):
        assert offered(eng, task, iid) == holders(role)
        clock.advance(hours=4)
        data = dated(data, clock.now(), day_field) if day_field else data
        do(eng, user, task, data, iid)
        done.append((task, data))
    assert offered(eng, "record_delivery", iid) == {starter}
    clock.advance(days=1)
    recorded = dated(RECORDED, clock.now(), "delivered_on")
    do(eng, starter, "record_delivery", recorded, iid)
    return [*done, ("record_delivery", recorded)]


def no_timer_until_the_delivery_watch(eng: Engine, clock, iid: int) -> None:
    """Paid: past the payment term and the cancellation deadline nothing fires; the order goes on."""
    ready = parse(next(t for t in eng.instance(AUDITOR, iid)["history_tasks"]
                       if t["name"] == "confirm_payment")["created_at"])
    assert ready + timedelta(days=7 + 7) < clock.now() + timedelta(days=20)
    clock.set(clock.now() + timedelta(days=15))
    assert eng.fire_due_timers() == 0
    assert open_names(eng, iid) == {"issue_delivery_note"}


# -- what the trail says -----------------------------------------------------------------------------------------
ROUTING = {"below_quote_gw", "discount_approver_gw", "discount_ok_gw", "manager_ok_gw", "audit_ok_gw",
           "vp_template_gw", "vp_template_ok_gw", "hq_gw", "hq_ok_gw", "gm_price_gw", "gm_ok_gw", "vp_price_gw",
           "vp_price_ok_gw", "sign_ok_gw", "seal_ok_gw", "resubmit_gw", "stock_gw", "sample_ok_gw", "confirmed_gw"}
# the optional review steps in order: (gateway, condition, approval, the merge after it)
OPTIONAL = (("vp_template_gw", "needs_vp_template == True", "vp_template_approval", "vp_template_merge"),
            ("hq_gw", "needs_hq == True", "hq_template_approval", "hq_merge"),
            ("gm_price_gw", "needs_gm_price == True", "gm_price_approval", "gm_merge"),
            ("vp_price_gw", "needs_vp_price == True", "vp_price_approval", None))
APPROVED_TO = {"manager_verify": "audit_approval", "audit_approval": "vp_template_gw",
               "vp_template_approval": "vp_template_merge", "hq_template_approval": "hq_merge",
               "gm_price_approval": "gm_merge", "vp_price_approval": "manager_sign", "manager_sign": "review_done",
               "contract_discount_manager": "discount_merge", "contract_discount_director": "discount_merge",
               "contract_discount_vp": "discount_merge"}
DISCOUNT_CONDITION = {"contract_discount_manager": "discount_approver == 'sales_manager'",
                      "contract_discount_director": "discount_approver == 'sales_director'",
                      "contract_discount_vp": "default"}


def rd(*tasks: str) -> list[tuple[str, str]]:
    return [pair for t in tasks for pair in (("task_ready", t), ("completed", t))]


def gw(*gateways: str) -> list[tuple[str, str]]:
    return [("gateway_taken", g) for g in gateways]


def trail(eng: Engine, iid: int) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["task"]) for e in kept_history(eng, iid) if e["kind"] != "claimed"]


def routes(eng: Engine, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING]


def review_trail(steps: list[str], rejected_at: str | None = None, sealed: bool = True) -> list[tuple]:
    """The trail of one pass from the merge before the pricing to the seal (or to the rejection)."""
    ev = gw("review_merge", "below_quote_gw")
    discount = [s for s in steps if s.startswith("contract_discount_")]
    if discount:
        ev += gw("discount_approver_gw") + rd(discount[0]) + gw("discount_decided_merge", "discount_ok_gw")
        if rejected_at == discount[0]:
            return ev + gw("rejected_merge")
    ev += gw("discount_merge")
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
            if step == "vp_price_approval":
                ev += rd("manager_sign") + gw("sign_ok_gw")
                if rejected_at == "manager_sign":
                    return ev + gw("rejected_merge")
        if merge:
            ev += gw(merge)
    ev += gw("review_done") + rd("seal_contract") + gw("seal_ok_gw")
    return ev + ([] if sealed else gw("rejected_merge"))


def review_routes(steps: list[str], rejected_at: str | None = None, sealed: bool = True) -> list[tuple]:
    """The routing gateways of one pass, with the branch taken and the condition that chose it."""
    discount = [s for s in steps if s.startswith("contract_discount_")]
    result = []

    def decided(step: str) -> bool:
        if step == rejected_at:
            result.append((OK_GW[step], "rejected_merge", "default"))
            return True
        result.append((OK_GW[step], APPROVED_TO[step], "approved == True"))
        return False

    if discount:
        result += [("below_quote_gw", "determine_discount_approver", "below_quote == True"),
                   ("discount_approver_gw", discount[0], DISCOUNT_CONDITION[discount[0]])]
        if decided(discount[0]):
            return result
    else:
        result.append(("below_quote_gw", "discount_merge", "default"))
    for step in ("manager_verify", "audit_approval"):
        if decided(step):
            return result
    for gate, cond, step, merge in OPTIONAL:
        if step in steps:
            result.append((gate, step, cond))
            if decided(step):
                return result
            if step == "vp_price_approval" and decided("manager_sign"):
                return result
        else:
            result.append((gate, merge or "review_done", "default"))
    if sealed:
        return [*result, ("seal_ok_gw", "contract_in_force", "contract_sealed == True")]
    return [*result, ("seal_ok_gw", "rejected_merge", "default")]


DELIVERY_TRAIL = [*rd("issue_delivery_note", "ship_goods", "issue_invoice", "record_delivery"),
                  ("ended", None), ("message_sent", None)]
ARCHIVE_PAYLOAD = ("customer_name", "customer_class", "contact", "address", "contract_no", "order_lines",
                   "delivered_on")


def merged(*parts: dict) -> dict:
    data: dict = {}
    for part in parts:
        data.update(part)
    return data


def assert_archive_started(eng: Engine, iid: int, starter: str, business_key: str, data: dict) -> int:
    """The recorded delivery threw order_delivered, which started P3A for the same business key."""
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
    assert offered(eng, "build_archive", archive_id) == holders("sales_assistant")
    assert_audit_intact(eng, archive_id)
    return archive_id


def assert_completed(eng: Engine, iid: int, data: dict, outcome: str) -> None:
    """Completed with this outcome, nothing left open, and the data exactly as the steps left it."""
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", outcome, [])
    assert inst["data"] == data
