"""DMN `return_approval` (processes/return_approval.dmn): who approves a return or an exchange.

Every row of the table is evaluated by the engine through a tiny process (start → the
business rule task → end) deployed with the real table file, and the output is read
from the instance's data. The rows asserted here must be exactly the table's rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.errors import NotFound, ProcessError
from tests.conftest import ROOT, add_users

TABLE = ROOT / "processes" / "return_approval.dmn"
DMN_NS = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="probe_defs" targetNamespace="t">
  <bpmn:process id="return_approval_probe" name="退换货审批人测试" isExecutable="true"
                camunda:candidateStarterGroups="customer_service">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="customer_service" name="客服专员">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide" name="确定退换货审批人" camunda:decisionRef="return_approval">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

# (rule id, kind, amount_yuan or None when the request names no amount, expected return_approver)
ROWS = [
    ("return_approval_rule_installation", "installation", None, "none"),
    ("return_approval_rule_repair", "repair", None, "none"),
    ("return_approval_rule_maintenance", "maintenance", None, "none"),
    ("return_approval_rule_usage_question", "usage_question", None, "none"),
    ("return_approval_rule_return_small", "return", 4800, "sales_manager"),
    ("return_approval_rule_return_large", "return", 36000, "sales_director"),
    ("return_approval_rule_exchange_small", "exchange", 1250.5, "sales_manager"),
    ("return_approval_rule_exchange_large", "exchange", 88000, "sales_director"),
]

# the edges of the amount column: 20,000 yuan is the sales director's, anything below the manager's
EDGES = [
    ("return_approval_rule_return_small", "return", 19999.99, "sales_manager"),
    ("return_approval_rule_return_large", "return", 20000, "sales_director"),
    ("return_approval_rule_exchange_small", "exchange", 0.01, "sales_manager"),
    ("return_approval_rule_exchange_large", "exchange", 20000.0, "sales_director"),
    # an amount given for another kind changes nothing: no approval
    ("return_approval_rule_repair", "repair", 50000, "none"),
    ("return_approval_rule_installation", "installation", 20000, "none"),
]


@pytest.fixture
def probe(engine, tmp_path: Path):
    (tmp_path / "probe.bpmn").write_text(PROBE, encoding="utf-8")
    deployed = engine.deploy("system", [tmp_path / "probe.bpmn", TABLE])
    assert [(d.key, d.status) for d in deployed] == [("return_approval_probe", "deployed")]
    add_users(engine, {"svc": ["customer_service"], "aud": ["auditor"]})
    return engine


def decide(eng, kind: str, amount: float | None) -> str:
    data = {"kind": kind} if amount is None else {"kind": kind, "amount_yuan": amount}
    iid = eng.start("svc", "return_approval_probe", data)
    inst = eng.instance("aud", iid)
    assert inst["status"] == "completed"
    assert set(inst["data"]) == {*data, "return_approver"}  # the table adds its one output and nothing else
    return inst["data"]["return_approver"]


def table_rows() -> list[tuple[str, list[str], str]]:
    """(rule id, input entries, output entry) as the file has them."""
    tree = etree.parse(str(TABLE))
    rows = []
    for rule in tree.getroot().iterfind(".//dmn:decision[@id='return_approval']//dmn:rule", DMN_NS):
        inputs = [e.findtext("dmn:text", namespaces=DMN_NS).strip() for e in rule.iterfind("dmn:inputEntry", DMN_NS)]
        output = rule.find("dmn:outputEntry", DMN_NS).findtext("dmn:text", namespaces=DMN_NS).strip()
        rows.append((rule.get("id"), inputs, output))
    return rows


def test_the_rows_tested_are_exactly_the_rows_of_the_table():
    rows = table_rows()
    assert [r[0] for r in rows] == [r[0] for r in ROWS]
    for (rule_id, inputs, output), (_id, kind, _amount, approver) in zip(rows, ROWS, strict=True):
        assert inputs[0] == f'"{kind}"', rule_id
        assert output == f'"{approver}"', rule_id
    tree = etree.parse(str(TABLE))
    [table] = tree.getroot().iterfind(".//dmn:decisionTable", DMN_NS)
    assert table.get("hitPolicy") == "UNIQUE"
    assert [o.get("name") for o in table.iterfind("dmn:output", DMN_NS)] == ["return_approver"]


@pytest.mark.rule("P3.3b")
@pytest.mark.parametrize(("rule_id", "kind", "amount", "approver"), ROWS, ids=[r[0].removeprefix(
    "return_approval_rule_") for r in ROWS])
def test_each_row(probe, rule_id, kind, amount, approver):
    assert decide(probe, kind, amount) == approver


@pytest.mark.rule("P3.3b")
@pytest.mark.parametrize(("rule_id", "kind", "amount", "approver"), EDGES, ids=[
    f"{r[1]}_{r[2]}" for r in EDGES])
def test_amount_edges(probe, rule_id, kind, amount, approver):
    assert decide(probe, kind, amount) == approver


def test_a_return_without_an_amount_fails_the_step_instead_of_guessing(probe):
    """The registration form requires amount_yuan for a return or an exchange; were it
    missing, the table does not guess an approver: the step fails and nothing starts."""
    with pytest.raises(ProcessError):
        probe.start("svc", "return_approval_probe", {"kind": "return"})
    with pytest.raises(NotFound):
        probe.instance("aud", 1)
