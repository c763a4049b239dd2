"""DMN discount_approval (processes/discount_approval.dmn): who approves a quotation's discount.

Each case runs the deployed presale process (P1) from the registered inquiry to the
discount-approver gateway, quoting a unit price below the list price of 400 yuan a tonne so that
the engine computes the discount: the table's output is stored as `discount_approver`, the
gateway takes the branch for it, and the approval lands in that role's inbox only
(or, at the list price, nobody approves and the outcome is the rep's next task).
Every row of the table is hit, on both sides of each threshold.
"""

from __future__ import annotations

import pytest
from lxml import etree

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared

DMN = ROOT / "processes" / "discount_approval.dmn"
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
USERS = {"rep": ["sales_rep"], "mgr": ["sales_manager"], "dir": ["sales_director"], "vp": ["sales_vp"],
         "aud": ["auditor"]}
APPROVAL_TASK = {"sales_manager": "manager_discount_approval", "sales_director": "director_discount_approval",
                 "sales_vp": "vp_discount_approval"}
APPROVER_USER = {"sales_manager": "mgr", "sales_director": "dir", "sales_vp": "vp"}

# (customer class, discount %, the approver, the table row that decides)
CASES = [
    ("key_account", 0, "none", "list_price"),
    ("key_account", 0.5, "sales_manager", "key_account_manager"),
    ("key_account", 5, "sales_manager", "key_account_manager"),
    ("key_account", 5.5, "sales_director", "key_account_director"),
    ("key_account", 10, "sales_director", "key_account_director"),
    ("key_account", 10.01, "sales_vp", "key_account_vp"),
    ("key_account", 50, "sales_vp", "key_account_vp"),
    ("local", 0, "none", "list_price"),
    ("local", 1, "sales_manager", "local_manager"),
    ("local", 3, "sales_manager", "local_manager"),
    ("local", 3.5, "sales_director", "local_director"),
    ("local", 6, "sales_director", "local_director"),
    ("local", 6.01, "sales_vp", "local_vp"),
    ("local", 99.5, "sales_vp", "local_vp"),
]

INQUIRY = {"customer_name": "马鞍山建工集团", "company": "马鞍山建工集团物资部", "contact": "周强 0555-2221234",
           "address": "安徽省马鞍山市花山区湖东中路 1 号", "products": "P·C 32.5 袋装水泥", "requirements": "工地直送",
           "channel": "phone", "inquiry_purpose": "询价", "identity_checked": True}
NEEDS = {"needs_summary": "工程用量稳定", "products_introduced": "P·C 32.5 性能与价格政策",
         "special_requirements": False, "sample_wanted": False, "visit_wanted": False}


PRICE = "product,spec,grade,unit,price_yuan,valid_from\nP·C 32.5,袋装 50kg,合格品,吨,400.00,2026-01-01\n"


def _deploy(engine: Engine) -> None:
    engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(engine, USERS)
    engine.import_prices("dir", PRICE.encode("utf-8"), "price.csv")


def table_rows() -> dict[str, tuple[list[str], str]]:
    """Row id (without the table prefix) -> (input entries, output) as written in the file."""
    tree = etree.parse(str(DMN))
    [table] = tree.getroot().findall(".//dmn:decisionTable", DMN_NS)
    assert table.get("hitPolicy") == "UNIQUE"
    rows = {}
    for rule in table.findall("dmn:rule", DMN_NS):
        entries = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:inputEntry", DMN_NS)]
        [output] = [e.findtext("dmn:text", namespaces=DMN_NS) for e in rule.findall("dmn:outputEntry", DMN_NS)]
        rows[rule.get("id").removeprefix("discount_approval_rule_")] = (entries, output)
    return rows


def offered(eng: Engine, task_name: str, iid: int) -> set[str]:
    return {u for u in USERS if any(t["name"] == task_name and t["instance_id"] == iid for t in eng.inbox(u))}


def to_the_quotation(eng: Engine, customer_class: str) -> int:
    """The deployed state and one inquiry of this class, its needs analysed: the quotation is the rep's task.
    The same for every case of a class: built once per worker and class, then restored."""
    def build(eng: Engine) -> int:
        prepared(eng, "discount approval: the repository, USERS and one price", _deploy)  # one deploy for both
        iid = eng.start("rep", "presale", {**INQUIRY, "customer_class": customer_class})
        [analysis] = [t for t in eng.inbox("rep") if t["name"] == "analyse_needs"]
        eng.complete("rep", analysis["id"], NEEDS)
        return iid

    return prepared(eng, f"discount approval: a {customer_class} inquiry at its quotation", build)


def run_to_the_gateway(eng: Engine, customer_class: str, discount_pct: float) -> int:
    iid = to_the_quotation(eng, customer_class)
    [quote] = [t for t in eng.inbox("rep") if t["name"] == "prepare_quotation"]
    data = {"quotation_no": "BJ-1", "product": "P·C 32.5", "spec": "袋装 50kg", "grade": "合格品", "quantity": 100,
            "discount_requested": bool(discount_pct)}
    if discount_pct:  # the unit price that is this discount below the list's 400 yuan
        data.update(unit_price_yuan=round(400 * (100 - discount_pct) / 100, 2), discount_reason="工程项目投标")
    eng.complete("rep", quote["id"], data)
    assert eng.instance("aud", iid)["data"]["discount_pct"] == discount_pct
    return iid


def test_the_cases_hit_every_row_of_the_table():
    rows = table_rows()
    assert {row for *_, row in CASES} == set(rows)
    assert {output for _entries, output in rows.values()} == {'"none"', '"sales_manager"', '"sales_director"',
                                                              '"sales_vp"'}
    for _class, _pct, approver, row in CASES:
        assert rows[row][1] == f'"{approver}"'


@pytest.mark.rule("P1.5a")
@pytest.mark.parametrize(("customer_class", "discount_pct", "approver", "row"), CASES,
                         ids=[f"{c}-{p}%-{r}" for c, p, _a, r in CASES])
def test_discount_approver(engine, customer_class, discount_pct, approver, row):
    eng = engine
    iid = run_to_the_gateway(eng, customer_class, discount_pct)

    inst = eng.instance("aud", iid)
    assert inst["data"]["discount_approver"] == approver
    assert inst["data"]["amount_yuan"] == round(40000 * (100 - discount_pct) / 100, 2)
    [choice] = [e["payload"] for e in eng.history("aud", iid)
                if e["kind"] == "gateway_taken" and e["task"] == "discount_approver_gateway"]
    open_tasks = {t["name"] for t in inst["tasks"]}
    if approver == "none":
        assert choice["taken"] == ["quotation_approved_merge"]
        assert open_tasks == {"record_outcome"}
        assert offered(eng, "record_outcome", iid) == {"rep"}
        return
    task = APPROVAL_TASK[approver]
    assert choice["taken"] == [task]
    # the highest approver is the gateway's default, so that no table result can skip approval
    assert choice["conditions"][task] == ("default" if approver == "sales_vp" else f"discount_approver == '{approver}'")
    assert open_tasks == {task}
    assert offered(eng, task, iid) == {APPROVER_USER[approver]}
    for other in set(APPROVAL_TASK.values()) - {task}:
        assert offered(eng, other, iid) == set()
