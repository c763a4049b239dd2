"""DMN contract_review and order_size (processes/contract_review.dmn, processes/order_size.dmn).

contract_review: the review chain of a sales contract. Each case runs the deployed in-sale process (P2
insale, started by presale's deal_won from a test sender): the starter drafts the contract, the table's
outputs are stored (needs_vp_template, needs_hq, needs_gm_price, needs_vp_price), and the review then offers
exactly the approvals the row asks for, one after the other (an exclusive-distribution contract ending with
the sales manager's signature), then the seal, before the order clerk checks the stock. Every row is hit.

order_size: whether an order is a bulk order (200,000 yuan or more, our own choice); an out-of-stock order
goes to production only when it is. Both sides of the threshold are run.
"""

from __future__ import annotations

import pytest
from lxml import etree

from engine import Engine
from tests.conftest import ROOT
from tests.scenarios.insale_steps import QUOTE, contract, deploy_sales, do, open_names, start_order

DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
APPROVER = {"manager_verify": "mgr1", "audit_approval": "audit1", "vp_template_approval": "vp1",
            "hq_template_approval": "hq1", "gm_price_approval": "bgm1", "vp_price_approval": "vp1",
            "manager_sign": "mgr2"}
OUTPUTS = ("needs_vp_template", "needs_hq", "needs_gm_price", "needs_vp_price")
BASE = ["manager_verify", "audit_approval"]
TEMPLATE = ["vp_template_approval", "hq_template_approval"]
PRICES = ["gm_price_approval", "vp_price_approval", "manager_sign"]

# (contract type, template modified, the row that decides, the approvals in order)
CASES = [
    ("standard", False, "std_template", BASE),
    ("standard", True, "std_modified", BASE + TEMPLATE),
    ("exclusive_distribution", False, "excl_template", BASE + PRICES),
    ("exclusive_distribution", True, "excl_modified", BASE + TEMPLATE + PRICES),
]
# (quantity at the list price of 500 yuan, bulk order)
SIZES = [(399.98, False), (400, True), (10000, True)]
AT_500 = dict(QUOTE, list_price_yuan=500, discount_pct=0, unit_price_yuan=500)


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    return deploy_sales(engine)


def table_rows(name: str) -> tuple[list[str], dict[str, tuple[list[str], dict[str, str]]]]:
    """(input expressions, row id -> (input entries, {output name: entry})) as written in the file."""
    root = etree.parse(str(ROOT / "processes" / f"{name}.dmn")).getroot()
    [table] = root.findall(".//dmn:decisionTable", DMN_NS)
    assert table.get("hitPolicy") == "UNIQUE"
    names = [o.get("name") for o in table.findall("dmn:output", DMN_NS)]
    inputs = [i.findtext("dmn:inputExpression/dmn:text", namespaces=DMN_NS) for i in table.findall("dmn:input", DMN_NS)]
    rows = {}
    for rule in table.findall("dmn:rule", DMN_NS):
        entries = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:inputEntry", DMN_NS)]
        outputs = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:outputEntry", DMN_NS)]
        rows[rule.get("id").removeprefix(f"{name}_rule_")] = (entries, dict(zip(names, outputs, strict=True)))
    return inputs, rows


def expected(contract_type: str, modified: bool) -> dict[str, bool]:
    exclusive = contract_type == "exclusive_distribution"
    return {"needs_vp_template": modified, "needs_hq": modified, "needs_gm_price": exclusive,
            "needs_vp_price": exclusive}


def test_the_cases_hit_every_row_of_both_tables():
    inputs, rows = table_rows("contract_review")
    assert inputs == ["contract_type", "template_modified"]  # the amount plays no part in the review
    assert {row for *_, row, _chain in CASES} == set(rows)
    for contract_type, modified, row, _chain in CASES:
        entries, outputs = rows[row]
        assert entries == [f'"{contract_type}"', str(modified)]
        assert outputs == {k: str(v) for k, v in expected(contract_type, modified).items()}
    inputs, rows = table_rows("order_size")
    assert inputs == ["amount_yuan"]
    assert rows == {"small": (["< 200000"], {"bulk_order": "False"}), "bulk": ([">= 200000"], {"bulk_order": "True"})}


@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.2d")
@pytest.mark.parametrize(("contract_type", "modified", "row", "approvals"), CASES, ids=[c[2] for c in CASES])
def test_contract_review_route(deployed, clock, contract_type, modified, row, approvals):
    eng = deployed
    iid = start_order(eng, "rep1", f"DMN-{row}")
    do(eng, "rep1", "draft_contract", contract(contract_type, modified), iid)
    data = eng.instance("aud", iid)["data"]
    assert {k: data[k] for k in OUTPUTS} == expected(contract_type, modified)
    offered = []
    while open_names(eng, iid) != {"seal_contract"}:
        [step] = open_names(eng, iid)
        offered.append(step)
        assert len(offered) <= 7, offered
        do(eng, APPROVER[step], step, {"approved": True, "comment": "同意"}, iid)
    assert offered == approvals
    assert eng.replay(iid, actor="aud").verified


@pytest.mark.rule("P2.3a")
@pytest.mark.parametrize(("quantity", "bulk"), SIZES)
def test_order_size_decides_whether_an_out_of_stock_order_goes_to_production(deployed, clock, quantity, bulk):
    eng = deployed
    iid = start_order(eng, "rep1", f"SIZE-{quantity}", quote=AT_500)
    do(eng, "rep1", "draft_contract", contract("standard", False, quantity=quantity, price=500), iid)
    data = eng.instance("aud", iid)["data"]
    assert (data["amount_yuan"], data["bulk_order"]) == (round(quantity * 500, 2), bulk)
    for step in BASE:
        do(eng, APPROVER[step], step, {"approved": True}, iid)
    do(eng, "off1", "seal_contract", {"contract_sealed": True, "sealed_on": "2026-03-02"}, iid)
    do(eng, "clerk1", "check_stock", {"stock_status": "out_of_stock", "stock_note": "库存不足"}, iid)
    assert open_names(eng, iid) == ({"schedule_production"} if bulk else {"customer_confirmation"})
    assert eng.replay(iid, actor="aud").verified
