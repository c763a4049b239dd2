"""Steps and data shared by the P1 presale scenario tests (tests/scenarios/test_presale__*.py).

Each test module asks for the `sales` fixture as `deploy_sales(engine)`: processes/ and forms/ deployed
as they are in the repository, the people of driver.PEOPLE, and tests/fixtures/prices/list.csv as the
company's price list (P·O 42.5 散装 一等品 at 420 yuan a tonne until 2026-03-31 and 440 from 2026-04-01;
P·O 42.5 袋装 50kg 450; P·O 52.5 散装 430; P·C 32.5R 散装 合格品 360, ended 2026-02-28).
"""

from __future__ import annotations

from engine import Engine
from tests.conftest import FIXTURES
from tests.scenarios.driver import AUDITOR, branches, inbox_task, offered_to
from tests.scenarios.repository import deploy_repository

KEY = "presale"
ROUTING_GATEWAYS = {"special_requirements_gateway", "agreement_gateway", "sample_gateway", "visit_gateway",
                    "discount_approver_gateway", "authority_gateway", "discount_approved_gateway", "outcome_gateway"}
STANDARD_TERMS = "无特殊技术要求：按公司标准产品及技术条件供货"
UNVERIFIED = "须先核实客户身份，防止竞争对手冒名打探信息"
DISCOUNT_APPROVALS = ("manager_discount_approval", "director_discount_approval", "vp_discount_approval")
# what P2 relies on (the in-sale helper's brief), and the keys the message carried before the price list
PAYLOAD_FIELDS = ("customer_name", "customer_class", "company", "contact", "address", "products", "requirements",
                  "agreement", "quotation_no", "product", "spec", "grade", "unit", "quantity", "quantity_t",
                  "list_price_yuan", "discount_pct", "unit_price_yuan", "list_amount_yuan", "amount_yuan")
PRICE_LIST = FIXTURES / "prices" / "list.csv"
NO_UNAUTHORISED_QUOTE = {"quoted_without_authority": False}


def deploy_sales(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository (P1 with the P5 and P6 it calls), PEOPLE,
    and the test price list (imported by the sales director, who keeps it)."""
    deployed = deploy_repository(engine)
    needed = {("presale", 1, "deployed"), ("sample_request", 1, "deployed"), ("customer_visit", 1, "deployed")}
    assert needed <= deployed
    engine.import_prices("dir", PRICE_LIST.read_bytes(), PRICE_LIST.name)
    return engine


def inquiry(customer_class: str, channel: str = "phone") -> dict:
    """The inquiry as the sales rep registers it (客户咨询登记表)."""
    return {"customer_name": "芜湖商砼有限公司", "customer_class": customer_class, "company": "芜湖商砼有限公司采购部",
            "contact": "李明 0553-5551234", "address": "安徽省芜湖市弋江区中山南路 88 号",
            "products": "P·O 42.5 散装水泥",
            "requirements": "年需求约 6000 吨，要求 3 天强度不低于 27 MPa", "channel": channel,
            "inquiry_purpose": "了解年度供货价格与供货能力", "identity_checked": True}


def needs(special: bool = False, sample: bool = False, visit: bool = False) -> dict:
    data = {"needs_summary": "商砼站扩产，需稳定的早强水泥供应",
            "products_introduced": "介绍 P·O 42.5 性能、出厂价格政策与售后服务",
            "special_requirements": special, "sample_wanted": sample, "visit_wanted": visit}
    if special:
        data["special_requirements_detail"] = "3 天抗压强度 ≥ 30 MPa，氯离子 ≤ 0.04%，每车附质保书"
    return data


def quotation(unit_price: float | None = None, product: str = "P·O 42.5", spec: str = "散装", grade: str = "一等品",
              quantity: float = 500, number: str = "BJ-2026-0031") -> dict:
    """The quotation as the rep fills it in: the item and quantity, and a unit price only below the list price."""
    data = {"quotation_no": number, "product": product, "spec": spec, "grade": grade, "quantity": quantity,
            "discount_requested": unit_price is not None}
    if unit_price is not None:
        data.update(unit_price_yuan=unit_price, discount_reason="年度框架协议，量大且现款")
    return data


def priced(eng: Engine, quoted: dict, day: str) -> dict:
    """The quotation as the trail records it: with the list price the engine filled in from the price row
    valid that day, the row itself (so that replay needs no price table) and its unit."""
    [row] = [r for r in eng.prices(AUDITOR, on=day)
             if (r["product"], r["spec"], r["grade"]) == (quoted["product"], quoted["spec"], quoted["grade"])]
    yuan = row["price_fen"] // 100 if row["price_fen"] % 100 == 0 else row["price_fen"] / 100
    used = {k: row[k] for k in ("id", "product", "spec", "grade", "unit", "price_fen", "valid_from", "valid_to")}
    return {**quoted, "list_price_yuan": yuan, "unit": row["unit"],
            "list_price_row": {**used, "on": day, "price_yuan": yuan}}


def deal_payload(data: dict) -> dict:
    return {**{name: data[name] for name in PAYLOAD_FIELDS}, "list_price_id": data["list_price_row"]["id"]}




def routes(eng: Engine, iid: int) -> list[tuple]:
    return [b for b in branches(eng, iid) if b[0] in ROUTING_GATEWAYS]


def open_names(eng: Engine, iid: int) -> set[str]:
    return {t["name"] for t in eng.instance(AUDITOR, iid)["tasks"]}


def assert_only_starter(eng: Engine, iid: int, starter: str, task_name: str) -> dict:
    """The task belongs to the representative who registered the inquiry, and to nobody else."""
    assert offered_to(eng, task_name, iid) == {starter}
    task = inbox_task(eng, starter, task_name, iid)
    assert (task["role"], task["assignee"], task["process_key"]) == ("initiator", starter, KEY)
    return task


def reach_quotation(eng: Engine, starter: str, customer_class: str = "key_account",
                    business_key: str | None = None) -> int:
    """Register an inquiry and analyse it (no special requirements, no sample, no visit): the
    quotation is the starter's next task."""
    iid = eng.start(starter, KEY, inquiry(customer_class), business_key=business_key)
    eng.complete(starter, inbox_task(eng, starter, "analyse_needs", iid)["id"], needs())
    return iid
