"""Processes started by hand under an existing case (process properties `start_under` and `inherit`,
engine/runtime/under_case.py), and processes that only a message starts.

A follow-up process declares start_under="approval approved": its start must give the business key of an
`approval` case the starter may see, whose data holds approved = true and that did not end negatively;
`inherit` copies names from that case into the start data, and nobody can type them. A business key that
names no such case is refused with the same answer whether the case is missing, unsuitable or hidden.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.definitions.bundle import SourceFile, load_paths
from engine.errors import DefinitionError, Forbidden, InvalidData
from tests.conftest import FIXTURES, add_users

CHILD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="defs_follow_up" targetNamespace="http://salesflow.example/test">
  <bpmn:MESSAGES/>
  <bpmn:process id="follow_up" name="后续订单" isExecutable="true" STARTERS>
    <bpmn:extensionElements><camunda:properties>
      PROPERTIES
    </camunda:properties></bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="initiator" name="申请人">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="下单" START><bpmn:outgoing>f1</bpmn:outgoing>DEFINITION</bpmn:startEvent>
    <bpmn:userTask id="confirm" name="确认" camunda:formKey="follow_up_confirm">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="done" name="完成"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="confirm"/>
    <bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""
START_FORM = """key: follow_up_start
title: {zh: 下单, en: Order}
schema:
  type: object
  additionalProperties: false
  required: [quantity]
  properties:
    quantity: {type: number, exclusiveMinimum: 0}
    FIELD
fields:
  - {name: quantity, label: {zh: 数量, en: Quantity}}
  EXTRA
"""
CONFIRM_FORM = """key: follow_up_confirm
title: {zh: 确认, en: Confirm}
schema: {type: object, additionalProperties: false, properties: {ok: {type: boolean}}}
fields:
  - {name: ok, label: {zh: 确认, en: Confirmed}}
"""
UNDER = '<camunda:property name="start_under" value="approval approved"/>'
INHERIT = '<camunda:property name="inherit" value="customer_name amount_yuan"/>'
NO_CASE = {"business_key": {"zh": "业务编号须为您参与的、仍然有效的“测试审批”案卷的编号",
                            "en": "Give the business key of a case of “测试审批” that is in force and that you take "
                                  "part in"}}


def child(properties: str = UNDER + INHERIT, starters: str = 'camunda:candidateStarterGroups="sales_rep"',
          start: str = 'camunda:formKey="follow_up_start"', definition: str = "", messages: str = "",
          form_field: str = "") -> list[SourceFile]:
    bpmn = (CHILD.replace("PROPERTIES", properties).replace("STARTERS", starters).replace("START", start, 1)
            .replace("DEFINITION", definition).replace("<bpmn:MESSAGES/>", messages))
    start_form = START_FORM.replace("FIELD", f"{form_field}: {{type: string}}" if form_field else "").replace(
        "EXTRA", f"- {{name: {form_field}, label: {{zh: 客户, en: Customer}}}}" if form_field else "")
    return [SourceFile("follow_up.bpmn", "bpmn", bpmn.encode()),
            SourceFile("follow_up_start.yaml", "form", start_form.encode()),
            SourceFile("follow_up_confirm.yaml", "form", CONFIRM_FORM.encode())]


@pytest.fixture
def linked(engine: Engine) -> Engine:
    engine.deploy("system", files=load_paths([FIXTURES / "approval"]) + child())
    add_users(engine, {"rep": ["sales_rep"], "rep2": ["sales_rep"], "mgr": ["sales_manager"], "aud": ["auditor"]})
    return engine


def approval_case(eng: Engine, business_key: str, approved: bool = True, starter: str = "rep") -> int:
    iid = eng.start(starter, "approval", {"customer_name": "ACME", "amount_yuan": 20000}, business_key=business_key)
    task = next(t for t in eng.inbox("mgr") if t["instance_id"] == iid)
    eng.complete("mgr", task["id"], {"approved": approved, **({} if approved else {"comment": "不批准"})})
    return iid


def test_a_start_under_a_case_inherits_its_data_and_records_it(linked):
    case = approval_case(linked, "A-1")
    iid = linked.start("rep", "follow_up", {"quantity": 3}, business_key="A-1")
    inst = linked.instance("aud", iid)
    assert inst["data"] == {"quantity": 3, "customer_name": "ACME", "amount_yuan": 20000}
    [started] = [e for e in linked.history("aud", iid) if e["kind"] == "started"]
    assert started["payload"]["under_case"] == case
    assert linked.replay(iid, actor="aud").verified


def test_no_start_without_a_case_in_force_that_the_starter_takes_part_in(linked):
    approval_case(linked, "A-1")
    approval_case(linked, "A-REJECTED", approved=False)  # ended rejected: a negative outcome
    pending = linked.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 1}, business_key="A-OPEN")
    assert linked.instance("aud", pending)["status"] == "running"

    def refused(starter: str, business_key: str | None, data: dict | None = None) -> dict:
        with pytest.raises(InvalidData) as caught:
            linked.start(starter, "follow_up", data or {"quantity": 1}, business_key=business_key)
        return caught.value.fields

    for key in (None, "NOWHERE", "A-REJECTED", "A-OPEN"):
        assert refused("rep", key) == NO_CASE
    assert refused("rep2", "A-1") == NO_CASE  # the case exists, but rep2 takes no part in it: the same answer
    assert linked.search("aud", {"process": "follow_up"})["total"] == 0


def test_an_inherited_name_is_never_typed_even_without_a_start_form(engine: Engine):
    engine.deploy("system", files=load_paths([FIXTURES / "approval"]) + child(start="")[:1] + child()[2:])
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    approval_case(engine, "A-1")
    with pytest.raises(InvalidData) as caught:
        engine.start("rep", "follow_up", {"amount_yuan": 1}, business_key="A-1")
    assert set(caught.value.fields) == {"amount_yuan"}


@pytest.mark.parametrize(("files", "message"), [
    (lambda: child(properties=INHERIT), "inherit needs start_under"),
    (lambda: child(properties='<camunda:property name="start_under" value="approval"/>'),
     "start_under must be a process key and a data name"),
    (lambda: child(form_field="customer_name"), "inherit names customer_name, which the start form asks for too"),
    (lambda: child(start="", definition='<bpmn:messageEventDefinition id="m" messageRef="msg"/>',
                   messages='<bpmn:message id="msg" name="go"/>'),
     "start_under needs a plain start event"),
])
def test_the_deploy_refuses_a_start_under_that_cannot_work(engine: Engine, files, message):
    with pytest.raises(DefinitionError) as caught:
        engine.deploy("system", files=files())
    assert any(message in p.message for p in caught.value.problems), caught.value.problems


def test_a_process_only_a_message_starts_is_refused_by_hand_and_not_offered(engine: Engine):
    files = child(properties="", starters="", start="",
                  definition='<bpmn:messageEventDefinition id="m" messageRef="msg"/>',
                  messages='<bpmn:message id="msg" name="go"/>')
    engine.deploy("system", files=[files[0], files[2]])
    add_users(engine, {"rep": ["sales_rep"], "adm": ["admin"]})
    for person in ("rep", "adm"):
        assert "follow_up" not in {p["key"] for p in engine.startable(person)}
        with pytest.raises(Forbidden, match="follow_up starts only when the message go arrives, not by hand"):
            engine.start(person, "follow_up", {})
