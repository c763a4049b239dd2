"""DMN contract_review (processes/contract_review.dmn): the review chain of a sales contract.

Each case runs the deployed in-sale process (P2 insale): the starter drafts the contract, the
table's outputs are stored (needs_vp_template, needs_hq, needs_gm_price, needs_vp_price,
bulk_order), and the review then offers exactly the approvals the row asks for, one after the
other, before the order clerk checks the stock; an out-of-stock order then goes to production
only when the row made it a bulk order (200,000 yuan or more). Every row of the table is hit,
on both sides of the amount threshold.
"""

from __future__ import annotations

import pytest
from lxml import etree

from engine import Engine
from tests.conftest import ROOT, T0, add_users
from tests.scenarios.driver import company_day

DMN = ROOT / "processes" / "contract_review.dmn"
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
FILES = [ROOT / "processes" / "insale.bpmn", ROOT / "processes" / "aftersale_archive.bpmn", DMN,
         *sorted((ROOT / "forms").glob("insale_*.yaml")), *sorted((ROOT / "forms").glob("aftersale_archive_*.yaml"))]
USERS = {"rep": ["sales_rep"], "mgr": ["sales_manager"], "audit": ["audit_dept"], "vp": ["sales_vp"],
         "hq": ["headquarters"], "gm": ["general_manager"], "clerk": ["order_clerk"], "prod": ["production"],
         "aud": ["auditor"]}
APPROVER = {"manager_verify": "mgr", "audit_approval": "audit", "vp_template_approval": "vp",
            "hq_template_approval": "hq", "gm_price_approval": "gm", "vp_price_approval": "vp"}
OUTPUTS = ("needs_vp_template", "needs_hq", "needs_gm_price", "needs_vp_price", "bulk_order")
BASE = ["manager_verify", "audit_approval"]
TEMPLATE = ["vp_template_approval", "hq_template_approval"]
PRICES = ["gm_price_approval", "vp_price_approval"]

# (contract type, template modified, amount, the row that decides, the approvals in order, bulk order)
CASES = [
    ("standard", False, 51600, "std_template_small", BASE, False),
    ("standard", False, 199999.99, "std_template_small", BASE, False),
    ("standard", False, 200000, "std_template_bulk", BASE, True),
    ("standard", True, 1000, "std_modified_small", BASE + TEMPLATE, False),
    ("standard", True, 288000, "std_modified_bulk", BASE + TEMPLATE, True),
    ("exclusive_distribution", False, 51600, "excl_template_small", BASE + PRICES, False),
    ("exclusive_distribution", False, 200000, "excl_template_bulk", BASE + PRICES, True),
    ("exclusive_distribution", True, 199999, "excl_modified_small", BASE + TEMPLATE + PRICES, False),
    ("exclusive_distribution", True, 5_000_000, "excl_modified_bulk", BASE + TEMPLATE + PRICES, True),
]


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy("system", FILES)
    add_users(engine, USERS)
    return engine


def table_rows() -> dict[str, tuple[list[str], dict[str, str]]]:
    """Row id (without the table prefix) -> (input entries, {output name: entry}) as written in the file."""
    root = etree.parse(str(DMN)).getroot()
    [table] = root.findall(".//dmn:decisionTable", DMN_NS)
    assert table.get("hitPolicy") == "UNIQUE"
    names = [o.get("name") for o in table.findall("dmn:output", DMN_NS)]
    inputs = [i.findtext("dmn:inputExpression/dmn:text", namespaces=DMN_NS) for i in table.findall("dmn:input", DMN_NS)]
    assert (inputs, names) == (["contract_type", "template_modified", "amount_yuan"], list(OUTPUTS))
    rows = {}
    for rule in table.findall("dmn:rule", DMN_NS):
        entries = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:inputEntry", DMN_NS)]
        outputs = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:outputEntry", DMN_NS)]
        rows[rule.get("id").removeprefix("contract_review_rule_")] = (entries, dict(zip(names, outputs, strict=True)))
    return rows


def expected(contract_type: str, modified: bool, bulk: bool) -> dict[str, bool]:
    exclusive = contract_type == "exclusive_distribution"
    return {"needs_vp_template": modified, "needs_hq": modified, "needs_gm_price": exclusive,
            "needs_vp_price": exclusive, "bulk_order": bulk}


def contract(contract_type: str, modified: bool, amount: float) -> dict:
    form = {"contract_no": "XS-2026-0400", "customer_name": "铜陵建材经销部", "customer_class": "local",
            "contact": "陈刚 0562-2881234", "address": "安徽省铜陵市义安大道 9 号",
            "order_lines": [{"product": "普通硅酸盐水泥", "spec": "散装", "model": "P·O 42.5", "grade": "合格品",
                             "quantity": 100, "unit_price": 420}],
            "amount_yuan": amount, "delivery_date": company_day(T0, 20), "delivery_address": "铜陵市搅拌站",
            "contract_type": contract_type, "template_modified": modified, "payment_term_days": 7}
    if modified:
        form["template_changes"] = "交货地点条款改为买方指定地点"
    return form


def open_tasks(eng: Engine, iid: int) -> set[str]:
    return {t["name"] for t in eng.instance("aud", iid)["tasks"]}


def only_task(eng: Engine, user: str, name: str, iid: int) -> dict:
    [task] = [t for t in eng.inbox(user) if t["name"] == name and t["instance_id"] == iid]
    return task


def test_the_cases_hit_every_row_of_the_table():
    rows = table_rows()
    assert {row for *_, row, _chain, _bulk in CASES} == set(rows)
    assert len(rows) == 8  # 2 contract types x template modified or not x below or from 200,000 yuan
    for contract_type, modified, _amount, row, _chain, bulk in CASES:
        entries, outputs = rows[row]
        assert entries[:2] == [f'"{contract_type}"', str(modified)]
        assert entries[2] == (">= 200000" if bulk else "< 200000")
        assert outputs == {k: str(v) for k, v in expected(contract_type, modified, bulk).items()}


@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.3a")
@pytest.mark.parametrize(("contract_type", "modified", "amount", "row", "approvals", "bulk"), CASES,
                         ids=[f"{row}-{amount}" for _t, _m, amount, row, _c, _b in CASES])
def test_contract_review_route(deployed, contract_type, modified, amount, row, approvals, bulk):
    eng = deployed
    iid = eng.start("rep", "insale", {}, business_key=f"DMN-{row}-{amount}")
    eng.complete("rep", only_task(eng, "rep", "draft_contract", iid)["id"], contract(contract_type, modified, amount))

    data = eng.instance("aud", iid)["data"]
    assert {k: data[k] for k in OUTPUTS} == expected(contract_type, modified, bulk)
    offered = []
    while open_tasks(eng, iid) != {"check_stock"}:
        [step] = open_tasks(eng, iid)
        offered.append(step)
        assert len(offered) <= 6, offered
        eng.complete(APPROVER[step], only_task(eng, APPROVER[step], step, iid)["id"],
                     {"approved": True, "comment": "同意"})
    assert offered == approvals

    # the amount decides whether an out-of-stock order is a bulk order for production
    eng.complete("clerk", only_task(eng, "clerk", "check_stock", iid)["id"],
                 {"stock_status": "out_of_stock", "stock_note": "库存不足"})
    assert open_tasks(eng, iid) == ({"schedule_production"} if bulk else {"customer_confirmation"})
    assert eng.replay(iid, actor="aud").verified
