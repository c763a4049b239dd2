"""The one serializer configuration: it must match the parser family (Camunda)."""

from __future__ import annotations

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
SERIALIZER_VERSION = VERSION
