"""Who is offered a task: lane id = role id; the `initiator` lane is the starter, and so is the
`customer_owner` lane until the runtime, which reads the customer records, sends it on to the customer's
owner (engine/runtime/customers.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.definitions.checks import CUSTOMER_OWNER, INITIATOR
from engine.process.specs import SpecSet
from engine.sandbox import dispatch


@dataclass(frozen=True)
class Offer:
    role: str
    assignee: str | None  # set when the lane names one person (the initiator)
    title: str
    title_en: str
    form_key: str | None
    sod: tuple[str, ...]
    due: str | None  # camunda:dueDate: ISO duration or datetime, or an expression giving one
    owner_lane: bool = False  # the customer_owner lane: the runtime may send it on to the customer's owner


def element_of(specs: SpecSet, task):  # noqa: ANN001, ANN201
    """Our model of the task's diagram element. An embedded subprocess runs as a sub-workflow
    named after the subprocess; its elements belong to the enclosing process's model."""
    workflow = task.workflow
    while workflow is not None:
        if workflow.spec.name in specs.models:
            return specs.element(workflow.spec.name, task.task_spec.bpmn_id)
        workflow = getattr(workflow, "parent_workflow", None)
    return None


def offer(specs: SpecSet, task, started_by: str) -> Offer:  # noqa: ANN001 - a SpiffWorkflow Task
    el = element_of(specs, task)
    lane = el.lane if el else None
    owner_lane = lane == CUSTOMER_OWNER
    role = INITIATOR if owner_lane else lane or INITIATOR
    assignee = started_by if role == INITIATOR else None
    title = (el.name if el else None) or task.task_spec.bpmn_name or task.task_spec.bpmn_id
    if el is None:
        return Offer(role, assignee, title, title, None, (), None)
    return Offer(role, assignee, title, el.name_en or title, el.form_key, tuple(el.sod), el.due, owner_lane)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def due_at(due: str | None, ready_at: datetime, data: Mapping[str, Any] | None = None) -> datetime | None:
    """camunda:dueDate as an ISO duration from when the task became ready, an ISO datetime, or an
    expression over the task's data that gives one (`working_days_after(1)`,
    `local_datetime(visit_date, "09:00", days=-1)`), evaluated in the sandbox at that moment."""
    if not due:
        return None
    text = due.strip().strip("'\"")
    if text.startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        return ready_at + TimerEventDefinition.get_timedelta_from_start(parsed, ready_at)
    if _ISO_DATE.match(text):
        return TimerEventDefinition.get_datetime(text)
    value = dispatch.evaluate(due, data or {}, ready_at)
    return value if isinstance(value, datetime) else TimerEventDefinition.get_datetime(str(value))
