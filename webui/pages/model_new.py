"""The diagram /model/new starts from: an executable process in a pool with one lane and a start event."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

NEW_KEY = "new_process"
NEW_FILE = NEW_KEY + ".bpmn"

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" \
id="{key}_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="{key}_collaboration">
    <bpmn:participant id="{key}_participant" name={name} processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name={name} isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="{lane}" name={lane_name}>
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name={start_name} />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collaboration">
      <bpmndi:BPMNShape id="{key}_participant_di" bpmnElement="{key}_participant" isHorizontal="true">
        <dc:Bounds x="120" y="80" width="900" height="250" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{lane}_di" bpmnElement="{lane}" isHorizontal="true">
        <dc:Bounds x="150" y="80" width="870" height="250" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="212" y="187" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def new_diagram(lane: str, lane_name: str, name: str, start_name: str) -> str:
    """The BPMN of a new process: isExecutable="true", one lane (a role of the catalogue) holding the start."""
    return _TEMPLATE.format(key=NEW_KEY, lane=lane, lane_name=quoteattr(lane_name), name=quoteattr(name),
                            start_name=quoteattr(start_name))
