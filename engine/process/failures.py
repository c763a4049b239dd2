"""Where a step failed: the diagram element an exception points at, for the incident people read.

The runtime turns SpiffWorkflow's errors into `ProcessError`s whose message names the element, but
an incident also keeps the element's id (to show its name and to count incidents per element), so
it is looked for, most precise first: the element (or SpiffWorkflow task) an exception in the chain
carries, a task the workflow left in ERROR state, an element id the message names, and else the
element that was waiting for what arrived (the timer that fell due, the message's catch event).
"""

from __future__ import annotations

import re

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.process import waits

_MAX_CHAIN = 20  # exceptions raised while handling others: a short chain, never a cycle


def _chain(exc: BaseException):  # noqa: ANN202 - the exception and those it was raised from or during
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _task_element(exc: BaseException) -> str | None:
    for link in _chain(exc):
        element = getattr(link, "element", None)  # an error that says which element it is about
        if isinstance(element, str) and element:
            return element
        task = getattr(link, "task", None)
        bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        if isinstance(bpmn_id, str) and bpmn_id:
            return bpmn_id
    return None


def _named_element(message: str, elements: set[str]) -> str | None:
    """The longest known element id the message names as a whole word."""
    for element in sorted(elements, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(element)}(?![\w-])", message):
            return element
    return None


def _errored(wf: BpmnWorkflow | None) -> str | None:
    if wf is None:
        return None
    try:
        tasks = wf.get_tasks(state=TaskState.ERROR)
    except Exception:  # a half-run workflow only helps to locate the failure
        return None
    return next((t.task_spec.bpmn_id for t in tasks if t.task_spec.bpmn_id), None)


def failed_element(exc: BaseException, elements: set[str], wf: BpmnWorkflow | None = None,
                   fallback: str | None = None) -> str | None:
    """The BPMN id of the element this failure belongs to (see the module's docstring), or None."""
    return _task_element(exc) or _errored(wf) or _named_element(describe(exc), elements) or fallback


def describe(exc: BaseException) -> str:
    """The failure in one line for people: our errors say what failed; anything else gets its type."""
    from engine.errors import SalesflowError

    text = " ".join(str(exc).split())
    if isinstance(exc, SalesflowError) and text:
        return text[:2000]
    return f"{type(exc).__name__}: {text}"[:2000] if text else type(exc).__name__


def message_catcher(wf: BpmnWorkflow, name: str) -> str | None:
    """The BPMN id of the catch event that waits for message `name`, or None."""
    waiter = waits.message_waiter(wf, name)
    return waits.message_element(waiter[0], name) if waiter else None
