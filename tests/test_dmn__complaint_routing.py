"""DMN complaint_routing (processes/complaint_routing.dmn): every row, evaluated by running the
deployed complaint process (P4) from its start form, through the severity review (the table runs on the
registered grade, then again on the confirmed one), to the first-response task the row routes to."""

from __future__ import annotations

import pytest
from lxml import etree

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
AUDITOR = "aud"
PEOPLE = {"svc": ["customer_service"], "mgr": ["sales_manager"], "dir": ["sales_director"], "vp": ["sales_vp"],
          "off": ["office"], "aud": ["auditor"]}
REVIEWS = {"quality": ("review_severity_by_director", "dir"), "service": ("review_severity_by_office", "off")}

# (complaint_kind, severity) -> (complaint_route, the first task, who is offered it, the branch condition)
ROWS = {
    ("quality", "minor"): ("quality_sales_manager", "take_quality_by_manager", {"mgr"},
                           "complaint_route == 'quality_sales_manager'"),
    ("quality", "major"): ("quality_sales_director", "take_quality_by_director", {"dir"},
                           "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
    ("quality", "critical"): ("quality_general_manager", "take_quality_by_director", {"dir"},
                              "complaint_route in ('quality_sales_director', 'quality_general_manager')"),
    ("service", "minor"): ("service_sales_manager", "propose_service_by_manager", {"mgr"},
                           "complaint_route == 'service_sales_manager'"),
    ("service", "major"): ("service_sales_vp", "propose_service_by_vp", {"vp"}, "default"),
    ("service", "critical"): ("service_sales_vp", "propose_service_by_vp", {"vp"}, "default"),
}


def table_rows() -> dict[tuple[str, str], str]:
    """The rows as written in the DMN file: (kind, severity) -> route (literals unquoted)."""
    tree = etree.parse(str(ROOT / "processes" / "complaint_routing.dmn"))
    [table] = tree.getroot().iter(f"{{{DMN}}}decisionTable")
    assert table.get("hitPolicy") == "UNIQUE"
    inputs = [i.findtext(f"{{{DMN}}}inputExpression/{{{DMN}}}text") for i in table.iter(f"{{{DMN}}}input")]
    assert inputs == ["complaint_kind", "severity"]
    assert [o.get("name") for o in table.iter(f"{{{DMN}}}output")] == ["complaint_route"]
    rows = {}
    for rule in table.iter(f"{{{DMN}}}rule"):
        kind, severity = (e.findtext(f"{{{DMN}}}text").strip().strip('"') for e in rule.iter(f"{{{DMN}}}inputEntry"))
        [route] = (e.findtext(f"{{{DMN}}}text").strip().strip('"') for e in rule.iter(f"{{{DMN}}}outputEntry"))
        assert (kind, severity) not in rows, "UNIQUE: one row per combination"
        rows[(kind, severity)] = route
    return rows


def test_the_table_has_exactly_one_row_per_kind_and_severity():
    assert table_rows() == {key: value[0] for key, value in ROWS.items()}


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """The repository deployed with PEOPLE: built once per worker, then restored (tests/deployed_state.py)."""
    assert ("complaint", 1, "deployed") in prepared(engine, "complaint routing: the repository and PEOPLE", _deploy)
    return engine


def _deploy(engine: Engine) -> set[tuple[str, int, str]]:
    deployed = {(d.key, d.version, d.status) for d in engine.deploy("system", [ROOT / "processes", ROOT / "forms"])}
    add_users(engine, PEOPLE)
    return deployed


def registration(kind: str, severity: str) -> dict:
    form = {"customer_name": "芜湖商砼有限公司", "customer_class": "local", "complaint_kind": kind,
            "severity": severity, "description": "投诉内容"}
    if kind == "quality":
        return {**form, "receipt_no": "XS-1", "product": "P·O 42.5", "spec": "袋装 50kg", "quantity": 30,
                "grade": "一等品", "colour_no": "-", "purchase_date": "2026-02-20"}
    return {**form, "complained_party": "销售一部"}


@pytest.mark.rule("P4.2a")
@pytest.mark.rule("P4.3")
@pytest.mark.rule("P4.REVIEW")
@pytest.mark.parametrize(("kind", "severity"), list(ROWS), ids=[f"{k}-{s}" for k, s in ROWS])
def test_each_row_routes_the_complaint_to_its_taker(deployed, kind, severity):
    route, first_task, offered, condition = ROWS[(kind, severity)]
    iid = deployed.start("svc", "complaint", registration(kind, severity))

    assert deployed.instance(AUDITOR, iid)["data"] == {**registration(kind, severity), "complaint_route": route}
    review, reviewer = REVIEWS[kind]
    [task] = deployed.instance(AUDITOR, iid)["tasks"]
    assert task["name"] == review
    deployed.complete(reviewer, task["id"], {"severity": severity})  # confirmed: the same row again

    view = deployed.instance(AUDITOR, iid)
    assert view["data"] == {**registration(kind, severity), "complaint_route": route}
    assert [t["name"] for t in view["tasks"]] == [first_task]
    assert {u for u in PEOPLE if any(t["instance_id"] == iid for t in deployed.inbox(u))} == offered
    gateway = [e for e in deployed.history(AUDITOR, iid) if e["kind"] == "gateway_taken"][-1]
    assert (gateway["task"], gateway["payload"]["taken"], gateway["payload"]["conditions"]) == (
        "route_gateway", [first_task], {first_task: condition})
    assert deployed.replay(iid).verified
