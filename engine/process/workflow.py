"""Creating, loading, saving and advancing one workflow."""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util.diff import migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import scripting
from engine.definitions.serializer import SERIALIZER, SERIALIZER_VERSION
from engine.errors import Conflict, NotFound, ProcessError
from engine.process import limits, pruning, waits
from engine.process.specs import SpecSet
from engine.sandbox.guards import LimitExceeded


def _advance(wf: BpmnWorkflow) -> None:
    with _failures_as_process_errors():
        wf.refresh_timers()
        wf.do_engine_steps(will_complete_task=_Budget())


class _Budget:
    """Stops a command whose engine steps never reach a wait (limits.MAX_ENGINE_STEPS, MAX_COMMAND_SECONDS),
    naming the element it was about to run again."""

    def __init__(self) -> None:
        self.steps, self.deadline = 0, time.monotonic() + limits.MAX_COMMAND_SECONDS

    def __call__(self, task) -> None:  # noqa: ANN001 - a SpiffWorkflow Task
        _check_call_depth(task)
        self.steps += 1
        if self.steps > limits.MAX_ENGINE_STEPS or time.monotonic() > self.deadline:
            what = (f"more than {limits.MAX_ENGINE_STEPS:,} steps" if self.steps > limits.MAX_ENGINE_STEPS
                    else f"longer than {limits.MAX_COMMAND_SECONDS:g} s")
            raise scripting.failure(task, LimitExceeded(
                f"the process ran {what} without waiting for a person, a timer or a message "
                "(a loop with no task in it?)"), "step")


def _check_call_depth(task) -> None:  # noqa: ANN001 - a SpiffWorkflow Task
    """A call activity that calls its own process (directly or through others) starts one more sub-workflow
    per step, each costlier than the last: stop at limits.MAX_CALL_DEPTH, naming the call activity."""
    depth = getattr(task.workflow, "depth", 0)  # 0 at the top; a sub-workflow knows how deeply it is nested
    if depth <= limits.MAX_CALL_DEPTH:
        return
    caller = task.workflow.top_workflow.get_task_from_id(task.workflow.parent_task_id)
    raise scripting.failure(caller, LimitExceeded(
        f"call activities are nested more than {limits.MAX_CALL_DEPTH} levels deep; does it call its own "
        f"process ({caller.task_spec.spec}), directly or through others?"), "call")


@contextlib.contextmanager
def _failures_as_process_errors() -> Iterator[None]:
    """Whatever the diagram's code or SpiffWorkflow raised while advancing is the process's failure:
    the command is refused (422) and nothing is saved. Our own bugs are not caught here."""
    try:
        yield
    except scripting.ScriptFailure as exc:
        raise ProcessError(f"the process failed: {exc}", exc.element, exc.element_name) from None
    except scripting.FAILURES as exc:  # code run without a task (SpiffWorkflow calls the environment directly)
        raise ProcessError(f"the process failed: {exc}") from None
    except SpiffWorkflowException as exc:
        raise ProcessError(f"the process failed: {exc}") from None
    except (PermissionError, NameError, TypeError, ValueError, LookupError, AttributeError, ArithmeticError,
            RecursionError) as exc:
        raise ProcessError(f"the process failed: {type(exc).__name__}: {exc}") from None


def start(specs: SpecSet, data: dict) -> BpmnWorkflow:
    """A new workflow with this start data. A process whose start event is a message start
    event is started as if that message arrived with the data as its payload."""
    wf = BpmnWorkflow(specs.spec, specs.subprocess_specs)
    scripting.attach(wf)
    wf.task_tree.data.update(data)
    _advance(wf)
    waiting = _waiting_start_message(wf)
    if waiting is not None:
        _deliver(wf, waiting, {})
        for task in wf.get_tasks():  # the data is already the payload: drop the empty copy
            task.data.pop(waiting.name, None)
    return wf


def _waiting_start_message(wf: BpmnWorkflow):  # noqa: ANN202
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if type(task.task_spec).__name__ == "StartEvent" and isinstance(definition, MessageEventDefinition):
            return definition
    return None


def take_messages(wf: BpmnWorkflow) -> list[tuple[str, dict]]:
    """The messages this workflow threw that nothing inside it caught, as (name, payload)."""
    thrown = []
    for event in wf.get_events():
        definition = event.event_definition
        if isinstance(definition, MessageEventDefinition):
            payload = event.payload.get("payload") if isinstance(event.payload, dict) else event.payload
            thrown.append((definition.name, payload if isinstance(payload, dict) else {"value": payload}))
    return thrown


def load(specs: SpecSet, state_json: str, serializer_version: str) -> BpmnWorkflow:
    state = json.loads(state_json)
    if serializer_version != SERIALIZER_VERSION:
        state[SERIALIZER.VERSION_KEY] = serializer_version
        SERIALIZER.migrate(state)
    state["spec"] = specs.spec  # restored objects pass through the registry unchanged
    state["subprocess_specs"] = specs.subprocess_specs
    wf = SERIALIZER.from_dict(state)
    scripting.attach(wf)
    return wf


def dump(wf: BpmnWorkflow) -> str:
    state = _state(wf)
    # Key order matters: tasks are restored in order and each one rebuilds its data
    # from its parent's, so parents must stay before their children (no sort_keys).
    try:
        return _STATE_TEXT.encode(state)
    except (TypeError, ValueError) as exc:  # scripts cannot leave such values; a DMN output or a bug could
        raise ProcessError(f"the process left data that cannot be stored: {exc}") from None


_STATE_TEXT = json.JSONEncoder(allow_nan=False)  # json.dumps(state, allow_nan=False)'s encoder, kept


def full_state(wf: BpmnWorkflow) -> dict:
    """SpiffWorkflow's own serialization of the workflow without its specs (the version keeps those): what
    `_state` must equal, key for key and in the same order (tests/scenarios check every state they save)."""
    state = SERIALIZER.to_dict(wf)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    return state


def _state(wf: BpmnWorkflow) -> dict:
    """`full_state`, without converting the specs only to drop them: that was 40 % of serializing a small
    instance at every command. The part of SpiffWorkflow's BpmnWorkflowConverter.to_dict that is kept, in
    its order (the typename last, as its registry adds it)."""
    converter = _workflow_converter()
    if converter is None or type(wf) is not BpmnWorkflow:
        return full_state(wf)
    state = WorkflowConverter.to_dict(converter, wf) if _task_converter() is None else _workflow_dict(converter, wf)
    state["subprocesses"] = converter.mapping_to_dict(wf.subprocesses)
    state["bpmn_events"] = converter.registry.convert(wf.bpmn_events)
    state["typename"] = converter.typename
    return state


def _workflow_dict(converter: BpmnWorkflowConverter, wf: BpmnWorkflow) -> dict:
    """WorkflowConverter.to_dict(converter, wf), its tasks written by `_task_dict` (same keys, same order)."""
    registry = converter.registry
    return {"data": registry.convert(registry.clean(wf.data)), "correlations": wf.correlations,
            "last_task": str(wf.last_task.id) if wf.last_task is not None else None, "success": wf.success,
            "completed": wf.completed, "tasks": _tasks_dict(registry, wf.tasks),
            "root": str(wf.task_tree.id)}


def _tasks_dict(registry: object, tasks: dict) -> dict:
    """`mapping_to_dict(tasks)`: each task as SpiffWorkflow's TaskConverter writes it, then its typename, as the
    registry's `_obj_to_dict` adds it, without the registry's dispatch per task and with each id written once
    (a task's key is its id). A task of another class goes through the registry."""
    convert = registry.convert
    out = {}
    for key, task in tasks.items():
        if type(task) is not Task:
            out[str(key)] = convert(task)
            continue
        task_id = str(task.id)
        out[task_id if key is task.id else str(key)] = _task_dict(convert, task, task_id)
    return out


def _task_dict(convert: Callable[[object], object], task: Task, task_id: str) -> dict:
    """SpiffWorkflow 3.2's TaskConverter.to_dict(task) (the data of a task with a parent as its changes against
    the parent's: DeepMerge.get_updated_keys and get_deleted_keys), then "typename"."""
    parent = task.parent
    data = task.data
    if parent is None:
        delta: dict = {}
    else:
        before = parent.data
        delta = {"updates": {k: data[k] for k in data if k not in before or data[k] != before[k]},
                 "deletions": [k for k in before if k not in data]}
        data = {}
    internal = task.internal_data
    return {"id": task_id, "parent": str(task._parent) if parent is not None else None,
            "children": [str(child) for child in task._children], "last_state_change": task.last_state_change,
            "state": task.state, "task_spec": task.task_spec.name, "triggered": task.triggered,
            "internal_data": {} if type(internal) is dict and not internal else convert(internal),
            "data": data, "delta": delta, "typename": "Task"}


@functools.cache
def _task_converter() -> TaskConverter | None:
    """The registry's converter of tasks when it is SpiffWorkflow's own TaskConverter under the typename "Task"
    (what `_task_dict` writes), else None: the registry's own conversion then runs."""
    registry = SERIALIZER.registry
    to_dict = registry.convert_to_dict.get(registry.typenames.get(Task))
    if not isinstance(to_dict, functools.partial) or to_dict.args[:1] != ("Task",):
        return None
    converter = getattr(to_dict.args[-1], "__self__", None)
    method = getattr(to_dict.args[-1], "__func__", None)
    if type(converter) is not TaskConverter or method is not TaskConverter.to_dict:
        return None
    return converter


@functools.cache
def _workflow_converter() -> BpmnWorkflowConverter | None:
    """The converter SERIALIZER has for BpmnWorkflow, when it is SpiffWorkflow's own (else `_state` does not
    know what it writes: None, and the full conversion runs)."""
    registry = SERIALIZER.registry
    to_dict = registry.convert_to_dict.get(registry.typenames.get(BpmnWorkflow))
    method = to_dict.args[-1] if isinstance(to_dict, functools.partial) and to_dict.args else None
    converter = getattr(method, "__self__", None)
    return converter if type(converter) is BpmnWorkflowConverter and not registry._encoder_mode else None


def find_task(wf: BpmnWorkflow, task_id: str):  # noqa: ANN201 - a SpiffWorkflow Task or None
    """The task with this id anywhere in the workflow, or None.

    (BpmnWorkflow.get_task_from_id raises as soon as one sub-workflow lacks the id.)"""
    try:
        key = UUID(str(task_id))
    except ValueError:
        return None
    if key in wf.tasks:
        return wf.tasks[key]
    for sub in wf.subprocesses.values():
        if key in sub.tasks:
            return sub.tasks[key]
    return None


def ready_task(wf: BpmnWorkflow, task_id: str):  # noqa: ANN201 - a SpiffWorkflow Task
    """The READY human task with this id. `Task.run()` checks nothing itself, so we do."""
    task = find_task(wf, task_id)
    if task is None:
        raise NotFound(f"task {task_id} is not part of this instance")
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(f"task {task_id} is no longer ready ({TaskState.get_name(task.state)})")
    return task


def complete(wf: BpmnWorkflow, task_id: str, data: dict) -> dict:
    """Complete a ready human task with data; returns its data before the submission."""
    task = ready_task(wf, task_id)
    pruning.prune(wf)  # before the task runs: only what was finished before this command can go
    before = dict(task.data)
    task.set_data(**data)
    with _failures_as_process_errors():
        task.run()
    _advance(wf)
    return before


def fire_timers(wf: BpmnWorkflow) -> None:
    pruning.prune(wf)
    _advance(wf)


def send_message(wf: BpmnWorkflow, name: str, payload: dict) -> None:
    """Deliver a message to a catch event waiting for it. The payload is stored in the
    data under the event's camunda:resultVariable, or else under the message's name."""
    waiter = waits.message_waiter(wf, name)
    if waiter is None:
        raise Conflict(f"this instance is not waiting for message {name}")
    pruning.prune(wf)
    task, definition = waiter
    _deliver(wf, definition, payload, task)


def _deliver(wf: BpmnWorkflow, definition, payload: dict, task=None) -> None:  # noqa: ANN001
    result_var = getattr(definition, "result_var", None) or definition.name
    wf.send_event(BpmnEvent(type(definition)(definition.name),
                            payload={"payload": payload, "result_var": result_var}))
    if task is not None and _drops_payload(task):
        task.data[result_var] = payload
    _advance(wf)


def _drops_payload(task) -> bool:  # noqa: ANN001
    """A catch event with several definitions records which arrived but merges no payload into the data
    (SpiffWorkflow's MultipleEventDefinition has no update_task_data); an event-based gateway does merge it."""
    return isinstance(task.task_spec.event_definition, MultipleEventDefinition) and not waits.is_gateway(task.task_spec)


def waits_for_message(wf: BpmnWorkflow, name: str) -> bool:
    return waits.message_waiter(wf, name) is not None


def cancel(wf: BpmnWorkflow) -> None:
    wf.cancel()


def waiting_timers(wf: BpmnWorkflow, waiting: list | None = None) -> list[tuple[object, datetime]]:
    """(task, when it is due) for every timer this workflow waits on; a timer after an event-based gateway
    is its catch event's task, the deadline the gateway's (see `waits.timer_waiters`). `waiting`:
    waits.timer_tasks(wf) if the caller has them."""
    result = []
    for task, holder in waits.timer_waiters(wf, waiting):
        due = waits.deadline(holder)
        if due is not None:
            result.append((task, due))
    return result


# -- moving a running workflow to another version's specs ----------------------------------------
# The state references task specs by name, so a workflow can move to a version whose specs have the
# same names. Open tasks (ready, waiting, started) keep their ids and are reset under the new specs,
# which makes SpiffWorkflow drop what it had predicted after them and predict again from the new
# flow (`SpiffWorkflow.bpmn.util.diff.migrate_workflow`); what already ran keeps its history.
MIGRATE_MASK = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class Gap:
    """Why a task cannot move: its element is missing from the new version, or is another kind of element."""

    element: str
    state: str  # the task's state name (READY, COMPLETED, ...)
    problem: str  # "missing" | "type" | "called" | "boundary"
    detail: str = ""


def element_id(spec) -> str:  # noqa: ANN001
    """The diagram element a spec stands for (internal specs are named `<element>.BoundaryEventSplit` etc.)."""
    return spec.bpmn_id or spec.name.split(".", 1)[0]


def _kept(task):  # noqa: ANN001, ANN202 - the tasks that keep their place: open tasks' futures are predicted anew
    yield task
    if task.state & MIGRATE_MASK:
        return
    for child in task.children:
        yield from _kept(child)


def _parts(wf: BpmnWorkflow, specs: SpecSet) -> list[tuple[object, object, object]]:
    """(workflow or sub-workflow, its task running it or None, the spec it gets in `specs` or None)."""
    parts: list[tuple[object, object, object]] = [(wf, None, specs.spec)]
    for sp_id, sp in wf.subprocesses.items():
        parent = find_task(wf, str(sp_id))
        parts.append((sp, parent, specs.subprocess_specs.get(sp.spec.name)))
    return parts


def migration_gaps(wf: BpmnWorkflow, specs: SpecSet) -> list[Gap]:
    """Every task that must keep its spec (open tasks and what already ran) but has no spec of the
    same name and kind in `specs`; empty when `migrate` can move the workflow."""
    gaps: list[Gap] = []
    for part, parent, target in _parts(wf, specs):
        if target is None:
            gaps.append(Gap(element_id(parent.task_spec) if parent else part.spec.name,
                            TaskState.get_name(parent.state) if parent else "", "missing", part.spec.name))
            continue
        if part is wf:  # finished tasks cut from a long instance's tree (engine/process/pruning.py)
            for name, state in pruning.record(wf)["specs"].items():
                if name not in target.task_specs:
                    old = wf.spec.task_specs.get(name)
                    gaps.append(Gap(element_id(old) if old is not None else name.split(".", 1)[0], state, "missing"))
        for task in _kept(part.task_tree):
            new = target.task_specs.get(task.task_spec.name)
            state = TaskState.get_name(task.state)
            if new is None:
                gaps.append(Gap(element_id(task.task_spec), state, "missing"))
            elif task.state & MIGRATE_MASK and _kind(new) != _kind(task.task_spec):
                gaps.append(Gap(element_id(task.task_spec), state, "type",
                                f"{_kind(task.task_spec)} -> {_kind(new)}"))
            elif getattr(new, "spec", None) != getattr(task.task_spec, "spec", None):  # its sub-process is kept
                gaps.append(Gap(element_id(task.task_spec), state, "called",
                                f"{task.task_spec.spec} -> {new.spec}"))
            elif task.state & MIGRATE_MASK and _bounded(new) != _bounded(task.task_spec):
                # the task runs inside the split its boundary events hang on: an open task cannot gain or lose
                # that split (completing it would look for a split that never ran)
                gaps.append(Gap(element_id(task.task_spec), state, "boundary",
                                "gains" if _bounded(new) else "loses"))
    return gaps


def _bounded(spec) -> bool:  # noqa: ANN001 - whether boundary events hang on this task (it sits inside their split)
    return any(isinstance(parent, BoundaryEventSplit) for parent in spec.inputs)


def _kind(spec) -> str:  # noqa: ANN001 - the spec's class, and its event's (a timer must stay that timer)
    definition = getattr(spec, "event_definition", None)
    return type(spec).__name__ + (f" ({type(definition).__name__})" if definition is not None else "")


class _SameName:
    """The part of SpiffWorkflow's WorkflowDiff that `migrate_workflow` reads: each task's new spec,
    aligned by name (the rule `migration_gaps` checks)."""

    def __init__(self, part, target) -> None:  # noqa: ANN001
        self.alignment = {t: target.task_specs.get(t.task_spec.name) for t in part.tasks.values()}


def migrate(wf: BpmnWorkflow, specs: SpecSet) -> None:
    """Move the workflow to `specs` in place (check `migration_gaps` first), then run it to its next wait.

    A timer that is already waiting keeps its deadline: the reset would otherwise start it again."""
    deadlines = {}
    for part, _parent, _target in _parts(wf, specs):
        for task in part.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
            if waits.waits_on_timer(task):  # also an event-based gateway's timer
                deadlines[task.id] = (_kind(task.task_spec), task.internal_data.get("event_value"))
    for part, _parent, target in _parts(wf, specs):
        migrate_workflow(_SameName(part, target), part, target, reset_mask=MIGRATE_MASK)
    wf.subprocess_specs = specs.subprocess_specs
    for sp_id, sp in wf.subprocesses.items():
        parent = find_task(wf, str(sp_id))
        if not sp.completed and parent is not None and not parent.state & TaskState.FINISHED_MASK:
            parent._set_state(TaskState.STARTED)  # the reset made it FUTURE; its sub-workflow still runs
    for part, _parent, _target in _parts(wf, specs):
        for task in part.get_tasks(state=TaskState.WAITING, skip_subprocesses=True):
            kind, deadline = deadlines.get(task.id, (None, None))
            if deadline is not None and kind == _kind(task.task_spec):
                task.internal_data["event_value"] = deadline
    _advance(wf)
