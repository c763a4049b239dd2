"""A step that would wait on two timers is refused at deploy (engine/definitions/one_deadline.py): SpiffWorkflow 3.2
keeps one deadline per waiting task, so "remind after 1 h, escalate after 2 h" behind one event-based gateway would
fire both after 1 h."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.definitions.one_deadline import one_deadline
from engine.errors import Problem
from tests.conftest import add_users
from tests.test_definitions__lint import BPMN, OWNER, approval_with, line_of, refused, sources, versions_deployed

WAIT = '<bpmn:eventBasedGateway id="wait" name="等客户回复">'


def _timer(event: str, name: str, duration: str, target: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{event}" name="{name}"><bpmn:outgoing>{event}_f</bpmn:outgoing>'
            f'<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{duration}"'
            f'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
            f'<bpmn:sequenceFlow id="{event}_f" sourceRef="{event}" targetRef="{target}"/>')


# set_level -> wait (event-based gateway) -> one hour or two hours -> approve
TWO_TIMERS = (f'<bpmn:sequenceFlow id="f2" sourceRef="set_level" targetRef="wait"/>{WAIT}</bpmn:eventBasedGateway>'
              '<bpmn:sequenceFlow id="w1" sourceRef="wait" targetRef="remind"/>'
              '<bpmn:sequenceFlow id="w2" sourceRef="wait" targetRef="escalate"/>'
              + _timer("remind", "一小时后提醒", "PT1H", "approve")
              + _timer("escalate", "两小时后督办", "PT2H", "approve"))
MESSAGE = ("event-based gateway 等客户回复 waits on 2 timers: the engine keeps one deadline for the gateway, so every "
           "one of them would fire at the first one's time; keep one timer after the gateway and wait for the next "
           "one after it")


@pytest.fixture
def owner(engine):
    add_users(engine, {OWNER: ["process_owner"]})
    return engine


def test_two_timers_after_an_event_based_gateway_are_refused_with_what_to_do(owner):
    files = approval_with('<bpmn:sequenceFlow id="f2" sourceRef="set_level" targetRef="approve"/>', TWO_TIMERS)
    found = [p for p in owner.lint(OWNER, sources(files)) if p["element"] == "wait"]
    zh = ("事件网关「等客户回复」等待 2 个定时器：引擎为网关只保留一个截止时间，它们都会在第一个定时器的时间触发；"
          "网关后只保留一个定时器，下一个放在它之后等待")
    assert found == [{"file": BPMN, "element": "wait", "line": line_of(files[BPMN], WAIT), "message": MESSAGE,
                      "messages": {"en": MESSAGE, "zh": zh}, "severity": "error"}]
    assert Problem(BPMN, MESSAGE, "wait", line_of(files[BPMN], WAIT)) in refused(owner, files)
    assert versions_deployed(owner) == 0


def _diagram(body: str) -> etree._Element:
    """A one-process diagram (`p`) holding `body`."""
    return etree.fromstring('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
                            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">'
                            f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>')


def _checked(body: str) -> list[str]:
    return [f.problem.element for f in one_deadline(etree.ElementTree(_diagram(body)), "p.bpmn")]


def test_one_timer_after_the_gateway_and_one_per_event_pass():
    one = (f'{WAIT}</bpmn:eventBasedGateway><bpmn:sequenceFlow id="w1" sourceRef="wait" targetRef="remind"/>'
           + _timer("remind", "一小时后提醒", "PT1H", "end") + _timer("later", "之后", "PT2H", "end"))
    assert _checked(one) == []


def test_an_event_with_two_timers_is_refused():
    timer = '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    assert _checked(f'<bpmn:intermediateCatchEvent id="both" name="两个">{timer}{timer}'
                    '</bpmn:intermediateCatchEvent>') == ["both"]


def test_spiffworkflow_still_keeps_one_deadline_for_the_gateway():
    """Why the check exists, held against the SpiffWorkflow we run: behind one event-based gateway, a 10-minute timer
    listed before a 2-second one sets the gateway's only deadline, 10 minutes away (and the 2-second one then fires
    with it: seen by hand, 2026-12-07). When this fails, SpiffWorkflow keeps a deadline per timer, and the check
    can go."""
    flows = ('<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="wait"/>'
             f'{WAIT}</bpmn:eventBasedGateway>'
             '<bpmn:sequenceFlow id="w1" sourceRef="wait" targetRef="slow"/>'
             '<bpmn:sequenceFlow id="w2" sourceRef="wait" targetRef="fast"/>'
             + _timer("slow", "十分钟", "PT600S", "end") + _timer("fast", "两秒", "PT2S", "end")
             + '<bpmn:endEvent id="end"/>')
    parser = BpmnParser()
    parser.add_bpmn_xml(_diagram(flows), "p.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("p"))
    workflow.do_engine_steps()
    [gateway] = workflow.get_tasks(state=TaskState.WAITING)
    deadline = datetime.fromisoformat(gateway.internal_data["event_value"])
    assert deadline - datetime.now(UTC) > timedelta(minutes=9)
