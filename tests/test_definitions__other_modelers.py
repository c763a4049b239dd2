"""Diagrams as Camunda Modeler draws them: a sub-process's tasks listed in no lane inherit the sub-process's
lane, `embedded:` form keys name the form file's bare name, names wrapped over lines read on one line, and
a process nobody could start is refused with what to add."""

from __future__ import annotations

import pytest

from engine.definitions.bundle import SourceFile
from engine.definitions.labels import read_flows
from engine.definitions.model import form_key_of
from engine.errors import DefinitionError
from tests.conftest import FIXTURES, add_users

FORMS = [FIXTURES / "approval" / "approval_request.yaml", FIXTURES / "approval" / "approval_decision.yaml"]
STARTERS = 'camunda:candidateStarterGroups="sales_rep"'
LANES = """<bpmn:laneSet id="lanes">
      <bpmn:lane id="sales_rep" name="销售&#10;代表">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review_sub</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>"""
DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_review" targetNamespace="t">
  <bpmn:process id="review" name="客户&#10;复核" isExecutable="true" STARTERS>
    <bpmn:documentation>zh: 复核。
en: Review.</bpmn:documentation>
    LANES
    <bpmn:startEvent id="start" name="提交" camunda:formKey="embedded:deployment:approval_request.html">
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:subProcess id="review_sub" name="复核">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:startEvent id="s_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:userTask id="check" name="经理&#10;审核 the&#10;request"
                     camunda:formKey="embedded:app:forms/approval_decision.html">
        <bpmn:incoming>s1</bpmn:incoming><bpmn:outgoing>s2</bpmn:outgoing></bpmn:userTask>
      <bpmn:endEvent id="s_end"><bpmn:incoming>s2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="s1" sourceRef="s_start" targetRef="check"/>
      <bpmn:sequenceFlow id="s2" sourceRef="check" targetRef="s_end"/>
    </bpmn:subProcess>
    <bpmn:endEvent id="end"><bpmn:extensionElements><camunda:properties>
      <camunda:property name="outcome" value="completed"/></camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review_sub"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review_sub" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def bundle(starters: str = STARTERS, lanes: str = LANES, forms: list = FORMS) -> list[SourceFile]:
    bpmn = DIAGRAM.replace("STARTERS", starters).replace("LANES", lanes)
    return [SourceFile("review.bpmn", "bpmn", bpmn.encode())] + [SourceFile(p.name, "form", p.read_bytes())
                                                                  for p in forms]


@pytest.fixture
def people(engine):
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    return engine


def test_a_task_inside_a_sub_process_is_offered_to_the_sub_processs_lane_with_its_embedded_form(people):
    [result] = people.deploy("system", files=bundle())
    assert result.status == "deployed"
    iid = people.start("rep", "review", {"customer_name": "ACME", "amount_yuan": 100})
    [task] = [t for t in people.inbox("rep") if t["instance_id"] == iid]
    assert (task["title"], task["role"], task["form_key"]) == ("经理审核 the request", "sales_rep",
                                                               "approval_decision")
    assert [p["name"] for p in people.processes()] == ["客户复核"]
    assert not [t for t in people.inbox("mgr") if t["instance_id"] == iid]
    people.complete("rep", task["id"], {"approved": True})
    assert people.instance("rep", iid)["status"] == "completed"


def test_an_embedded_form_key_whose_form_is_missing_suggests_a_file_name_without_a_colon(engine):
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle(forms=FORMS[:1]))
    [problem] = info.value.problems
    assert (problem.file, problem.element) == ("review.bpmn", "check")
    assert problem.message == "form approval_decision is not in the bundle (forms/approval_decision.yaml)"


@pytest.mark.parametrize(("written", "key"), [
    ("embedded:app:forms/offer.html", "offer"), ("embedded:deployment:offer.html", "offer"),
    ("camunda-forms:deployment:offer.form", "offer"), ("offer", "offer"),
])
def test_a_camunda_form_key_is_read_as_the_form_files_bare_name(written, key):
    assert form_key_of(written) == key


def test_a_process_without_lanes_or_starters_is_refused_with_what_to_add(engine):
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle(starters="", lanes=""))
    problems = [p for p in info.value.problems if p.element == "review"]
    assert [p.message for p in problems] == [
        'nobody may start process review: it names no starter role and its start event is in no lane; add '
        'camunda:candidateStarterGroups="<role id>" to the process, or put the start event in a lane whose id '
        'is a role (roles: processes/roles.yaml)']
    assert problems[0].line == 4 and "camunda:candidateStarterGroups" in problems[0].messages()["zh"]


def test_a_process_without_starters_whose_start_event_is_in_a_role_lane_deploys(engine):
    [result] = engine.deploy("system", files=bundle(starters=""))
    assert result.status == "deployed"


def test_a_flow_name_wrapped_over_lines_is_shown_on_one_line():
    bpmn = DIAGRAM.replace("STARTERS", STARTERS).replace("LANES", LANES).replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="review_sub" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f2" name="复核&#10;完成" sourceRef="review_sub" targetRef="end">'
        '<bpmn:extensionElements><camunda:properties><camunda:property name="name_en" value="Review&#10;done"/>'
        '</camunda:properties></bpmn:extensionElements></bpmn:sequenceFlow>')
    assert read_flows(bpmn, "review.bpmn")[("review_sub", "end")] == {"zh": "复核完成", "en": "Review done"}
