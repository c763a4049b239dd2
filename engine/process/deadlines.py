"""When a task's boundary timers fall due, read from the workflow as SpiffWorkflow keeps them.

A person's deadline for a task is the earliest boundary timer that watches it: one attached to the
task itself, or to a sub-process or call activity the task runs inside (the complaint's "resolved
within 48 hours" watches every task of the handling). Interrupting or not makes no difference: a
non-interrupting timer is an escalation, and being escalated is being late.

SpiffWorkflow 3.2 puts an internal `<activity>.BoundaryEventSplit` task in front of an activity with
boundary events; the activity and its boundary events are that split's children. A timer event
computes its target time the first time it is checked (it is checked as soon as it is reached,
which is when its activity becomes ready) and keeps it, as a UTC ISO string, in the task's
`internal_data["event_value"]`; a cycle timer keeps {"next": ..., "cycles": ..., "duration": ...}.
A timer that fired keeps its target (a finished cycle drops it), so a task that becomes ready
inside a sub-process whose timer already fired gets that past time: it is late from the start.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.process.workflow import find_task

# a timer still waiting, or one that fired (READY for the instant before it runs, then COMPLETED)
_COUNTED = TaskState.WAITING | TaskState.READY | TaskState.COMPLETED


def task_deadline(due: datetime | None, task) -> datetime | None:  # noqa: ANN001 - a SpiffWorkflow Task
    """A person's deadline for the task: its due date or the earliest boundary timer watching it,
    whichever is earlier; None when it has neither."""
    return min((d for d in (due, boundary_deadline(task)) if d is not None), default=None)


def boundary_deadline(task) -> datetime | None:  # noqa: ANN001 - a SpiffWorkflow Task
    """The earliest target time of the boundary timers on the task and on every activity it runs
    inside, or None when no boundary timer watches it."""
    found = []
    current = task
    while current is not None:
        found.extend(_timer_targets(current))
        current = _enclosing_activity(current)
    return min(found, default=None)


def _timer_targets(task) -> list[datetime]:  # noqa: ANN001
    split = task.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return []
    targets = []
    for event in split.children:
        if event is task or not event.state & _COUNTED:
            continue
        if isinstance(getattr(event.task_spec, "event_definition", None), TimerEventDefinition):
            target = timer_target(event.internal_data.get("event_value"))
            if target is not None:
                targets.append(target)
    return targets


def timer_target(value: object) -> datetime | None:
    """The instant a timer's `event_value` names (a cycle timer's next round), or None."""
    if isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    return TimerEventDefinition.get_datetime(str(value))


def _enclosing_activity(task):  # noqa: ANN001, ANN202 - the sub-process or call activity task, or None
    workflow = task.workflow
    if workflow.parent_task_id is None:
        return None
    return find_task(workflow.top_workflow, str(workflow.parent_task_id))
