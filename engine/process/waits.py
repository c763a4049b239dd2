"""What a waiting task waits for, seen through SpiffWorkflow's combined event definitions.

An event-based gateway takes the event definitions of the catch events after it into one
`MultipleEventDefinition` of its own (their specs are left with none) and waits for whichever
comes first; a catch event with several definitions waits the same way. Timers and messages are
looked for inside those too, or such an instance would wait for ever with no timer row and no
message reaching it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import clock


def definitions(spec) -> list:  # noqa: ANN001 - a task spec
    """The event definitions a catching spec waits on: its own, or each one its multiple definition holds."""
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def is_gateway(spec) -> bool:  # noqa: ANN001
    return type(spec).__name__ == "EventBasedGateway"


def gateway_definition(task):  # noqa: ANN001, ANN201 - the definition the gateway holds for this child, or None
    """A catch event after an event-based gateway has lost its definition to the gateway; this is it."""
    parent = task.parent
    if parent is None or not is_gateway(parent.task_spec) or task.task_spec not in parent.task_spec.outputs:
        return None
    return parent.task_spec.event_definition.event_definitions[parent.task_spec.outputs.index(task.task_spec)]


def is_timer(task) -> bool:  # noqa: ANN001
    """Whether the task is a timer: a timer catch event, also one after an event-based gateway, or a completed
    catch event with several definitions that its timer completed."""
    own = getattr(task.task_spec, "event_definition", None)
    return (isinstance(own, TimerEventDefinition) or isinstance(gateway_definition(task), TimerEventDefinition)
            or _won_by_timer(task))


def _won_by_timer(task) -> bool:  # noqa: ANN001
    """Once it ran, a catch event with several definitions has forgotten which one arrived, but it keeps its
    timer's deadline; and a command fires overdue timers before it does anything else, so the event
    completed at or after that deadline was completed by the timer."""
    if is_gateway(task.task_spec) or not waits_on_timer(task) or task.state != TaskState.COMPLETED:
        return False
    due = deadline(task)
    return due is not None and due <= clock.now()


def deadline(holder) -> datetime | None:  # noqa: ANN001 - the task holding a timer's deadline
    value = holder._get_internal_data("event_value")
    if isinstance(value, dict):  # cycle timers keep {"next": ..., "cycles": ...}
        value = value.get("next")
    return TimerEventDefinition.get_datetime(str(value)) if value else None


def waits_on_timer(task) -> bool:  # noqa: ANN001
    return any(isinstance(d, TimerEventDefinition) for d in definitions(task.task_spec))


def timer_tasks(wf: BpmnWorkflow, waiting: list | None = None) -> list:
    """The waiting tasks that wait on a timer (among other events, perhaps), in the tree's order; `waiting`:
    wf.get_tasks(state=TaskState.WAITING) if the caller has them."""
    return [task for task in (wf.get_tasks(state=TaskState.WAITING) if waiting is None else waiting)
            if waits_on_timer(task)]


def timer_waiters(wf: BpmnWorkflow, waiting: list | None = None) -> Iterator[tuple[object, object]]:
    """(the task a timer row is kept for, the waiting task holding the deadline) for every timer waited on;
    `waiting`: timer_tasks(wf) if the caller has them.

    A gateway's timer is kept for the catch event after it: that task completes when the timer wins
    and is removed when another event does, so the row ends as fired or cancelled, naming the timer."""
    for task in timer_tasks(wf) if waiting is None else waiting:
        if is_gateway(task.task_spec):
            for child in task.children:
                if isinstance(gateway_definition(child), TimerEventDefinition):
                    yield child, task
        else:
            yield task, task


def message_waiter(wf: BpmnWorkflow, name: str):  # noqa: ANN201 - (task, definition) or None
    """The waiting task that catches message `name`, and its definition for it."""
    for task in wf.get_tasks(state=TaskState.WAITING):
        for definition in definitions(task.task_spec):
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                return task, definition
    return None


def message_element(task, name: str) -> str | None:  # noqa: ANN001
    """The element that catches message `name` for this waiting task: after a gateway, its catch event."""
    if is_gateway(task.task_spec):
        for child in task.children:
            definition = gateway_definition(child)
            if isinstance(definition, MessageEventDefinition) and definition.name == name:
                return child.task_spec.bpmn_id
    return task.task_spec.bpmn_id
