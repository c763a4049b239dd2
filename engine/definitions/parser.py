"""The BPMN parser: Camunda's, with send and receive tasks read like message events.

CamundaParser leaves receive and send tasks to the plain BPMN parsers, which give them
SpiffWorkflow's plain MessageEventDefinition: the Camunda serializer has no converter for it
(deploy failed with "Object of type MessageEventDefinition is not JSON serializable"), and it
carries no payload expression or result variable. Read with Camunda's message parser, a receive
task waits like a message catch event and a send task throws like a message throw event
(`camunda:expression` for the payload, `camunda:resultVariable` for where it lands), so the
runtime routes them with no code of its own.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser, SendTaskParser
from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask, SendTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser


class _SendTaskParser(CamundaEventDefinitionParser, SendTaskParser):
    def create_task(self) -> SendTask:
        return SendTaskParser.create_task(self)


class _ReceiveTaskParser(CamundaEventDefinitionParser, ReceiveTaskParser):
    def create_task(self) -> ReceiveTask:
        return ReceiveTaskParser.create_task(self)


class Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("sendTask"): (_SendTaskParser, SendTask),
        full_tag("receiveTask"): (_ReceiveTaskParser, ReceiveTask),
    }
