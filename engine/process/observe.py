"""What a step did: compare the task states before and after it.

The events derived here (task ready, gateway taken, timer fired, escalated,
task cancelled, ended) go into the audit trail, and replay derives them again
to prove that re-running the recorded commands gives the same history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine import outcomes
from engine.process import pruning, waits
from engine.process.routing import element_of, offer
from engine.process.specs import SpecSet

_GATEWAYS = ("ExclusiveGateway", "InclusiveGateway")
_NOT_TAKEN = TaskState.MAYBE | TaskState.LIKELY | TaskState.CANCELLED


@dataclass
class Derived:
    kind: str
    task: str | None
    payload: dict = field(default_factory=dict)
    task_id: str | None = None


@dataclass(frozen=True)
class Snapshot:
    states: dict[str, int]
    completed: bool
    waits_on_timers: bool = False  # whether the step may have timer rows to settle

    def get(self, task_id: str) -> int | None:
        return self.states.get(task_id)


def snapshot(wf: BpmnWorkflow | None, seen: Seen | None = None) -> Snapshot:
    """Every task's state; `seen`: seen(wf) if the caller has it (it spares a walk)."""
    if wf is None:
        return Snapshot({}, False)
    waiting = (seen or Seen.of(wf)).waiting
    return Snapshot({str(t.id): t.state for t in wf.get_tasks()}, wf.is_completed(),
                    any(waits.waits_on_timer(t) for t in waiting))


_SEEN = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class Seen:
    """The tasks `wf.get_tasks(state=_SEEN)` returns, in its order. SpiffWorkflow's walk for any states that
    are definite or finished but not predicted visits the same tasks whatever those states (it stops below
    predicted tasks alike), and only filters what it returns; so its READY and WAITING walks are this one's
    tasks in those states, and one walk serves instance_data, digest and the timer tasks of a step."""

    tasks: list

    @classmethod
    def of(cls, wf: BpmnWorkflow) -> Seen:
        return cls(wf.get_tasks(state=_SEEN))

    @property
    def ready_manual(self) -> list:  # wf.get_tasks(state=TaskState.READY, manual=True)
        return [t for t in self.tasks if t.state == TaskState.READY and t.task_spec.manual]

    @property
    def waiting(self) -> list:  # wf.get_tasks(state=TaskState.WAITING)
        return [t for t in self.tasks if t.state == TaskState.WAITING]


@dataclass(frozen=True)
class Standing:
    """What a step that saved a workflow knew of it at the end, as the next step would compute it again from
    the unchanged workflow: `snapshot(wf)`, `instance_data(wf)` and `waiting_timers(wf)` (each walks the task
    tree). Kept with the workflow between commands (engine/runtime/warm_workflows.py), and only there."""

    snapshot: Snapshot
    data: dict
    timers: list


# json.dumps(value, **options) is JSONEncoder(**options).encode(value): an encoder per set of options, kept,
# instead of one built at every call (a step writes a dozen small texts)
_SAFE_TEXT = json.JSONEncoder(default=str, sort_keys=True)
_DATA_TEXT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_IDS_TEXT = json.JSONEncoder(ensure_ascii=False)


def _json_safe(value):  # noqa: ANN001, ANN202
    return json.loads(_SAFE_TEXT.encode(value))


def instance_data(wf: BpmnWorkflow, seen: Seen | None = None) -> dict:
    """The data a person means by "the instance's data": the latest value of every field.

    Each task carries a copy of its branch's data, and a branch that forked earlier (a
    reminder beside the main path) carries old values. So only what each task *changed*
    against its parent counts, applied in the order the tasks ran. `seen`: Seen.of(wf) if the caller has it."""
    data: dict = {}
    for task in sorted((seen or Seen.of(wf)).tasks, key=lambda t: t.last_state_change):
        parent = task.parent
        if parent is None:
            data.update(task.data)
            continue
        # deletions are not applied: a task whose parent is another branch's end lacks that
        # branch's fields without anyone having deleted them
        data.update(DeepMerge.get_updated_keys(parent.data, task.data))
    return _json_safe(data)


def changes(old: dict, new: dict) -> dict:
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def digest(wf: BpmnWorkflow, data: dict | None = None, data_text: str | None = None,
           seen: Seen | None = None, completed: bool | None = None) -> str:
    """The state a step left, as replay compares it; `data` is `instance_data(wf)` when the
    caller has it already (computing it walks the whole task tree), `data_text` its `data_text` if written
    already (the instance row keeps it), `seen` Seen.of(wf), `completed` wf.is_completed() (which walks the
    tree while the workflow runs)."""
    seen = seen or Seen.of(wf)
    ready = sorted(t.task_spec.bpmn_id for t in seen.ready_manual)
    waiting = sorted(t.task_spec.bpmn_id for t in seen.waiting if t.task_spec.bpmn_id)
    if data_text is None:
        data_text = data_json(instance_data(wf, seen) if data is None else data)
    # json.dumps of {"completed", "data", "ready", "waiting"} with sorted keys, around the data's own text
    body = (f'{{"completed": {json.dumps(wf.is_completed() if completed is None else completed)}, "data": {data_text}, '
            f'"ready": {_IDS_TEXT.encode(ready)}, "waiting": {_IDS_TEXT.encode(waiting)}}}')
    return hashlib.sha256(body.encode()).hexdigest()


def data_json(data: dict) -> str:
    """The instance data as text: the instance row's `data_json`, and the digest's part for it."""
    return _DATA_TEXT.encode(data)


def _element_id(spec) -> str:  # noqa: ANN001
    """The diagram element a spec stands for. SpiffWorkflow puts an internal
    `<activity>.BoundaryEventSplit` in front of an activity that has boundary events."""
    if spec.bpmn_id:
        return spec.bpmn_id
    return spec.name.removesuffix(".BoundaryEventSplit")


def _gateway_choice(task) -> dict:  # noqa: ANN001
    taken = [_element_id(c.task_spec) for c in task.children if not c.state & _NOT_TAKEN]
    conditions = {}
    for cond, target in getattr(task.task_spec, "cond_task_specs", []) or []:
        target_spec = task.workflow.spec.task_specs.get(target)
        target_id = _element_id(target_spec) if target_spec else target
        if target_id in taken:
            conditions[target_id] = cond.args[0] if cond is not None and getattr(cond, "args", None) else "default"
    return {"taken": taken, "conditions": conditions}


def _newly(before: Snapshot, task, task_id: str, state: int) -> bool:  # noqa: ANN001
    return task.state == state and before.get(task_id) != state


def derive(specs: SpecSet, wf: BpmnWorkflow, before: Snapshot, started_by: str,
           states: dict[str, int] | None = None, completed: bool | None = None) -> list[Derived]:
    """The events the step caused; `states`, if given, is filled with every task's state as `snapshot` takes
    them (the same walk); `completed`: wf.is_completed() if the caller has it."""
    events: list[Derived] = []
    for task in wf.get_tasks():
        task_id = str(task.id)  # once per task: a UUID writes its text anew at every str()
        if states is not None:
            states[task_id] = task.state
        spec = task.task_spec
        bpmn_id = spec.bpmn_id
        if bpmn_id is None:
            continue
        if _newly(before, task, task_id, TaskState.COMPLETED):
            if type(spec).__name__ in _GATEWAYS:
                events.append(Derived("gateway_taken", bpmn_id, _gateway_choice(task)))
            elif waits.is_timer(task):
                events.append(Derived("timer_fired", bpmn_id, {}))
                el = element_of(specs, task)
                if el is not None and el.attached_to:
                    events.append(Derived("escalated", bpmn_id, {"attached_to": el.attached_to,
                                                                   "interrupting": el.cancel_activity}))
        if spec.manual and _newly(before, task, task_id, TaskState.READY):
            o = offer(specs, task, started_by)
            events.append(Derived("task_ready", bpmn_id, {"role": o.role, "assignee": o.assignee,
                                                         "title": o.title}, task_id))
        if spec.manual and task.state == TaskState.CANCELLED and before.get(task_id) == TaskState.READY:
            events.append(Derived("task_cancelled", bpmn_id, {}, task_id))
    if (wf.is_completed() if completed is None else completed) and not before.completed:
        ends = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED)
                if type(t.task_spec).__name__ == "EndEvent" and t.task_spec.bpmn_id
                and before.get(str(t.id)) != TaskState.COMPLETED]
        events.append(Derived("ended", None, {"end_events": ends, "success": bool(wf.success)}))
    return events


def outcome(specs: SpecSet, wf: BpmnWorkflow, key: str) -> str:
    """How a completed workflow ended: the outcome its last top-level end event declares (an end
    event closing a reminder branch declares none, so it never overrides the case's own)."""
    elements = specs.models[key].elements
    declared = []
    for task in wf.tasks.values():  # the top level only: sub-workflows end into their callers
        el = elements.get(task.task_spec.bpmn_id or "")
        if task.state == TaskState.COMPLETED and el is not None and el.type == "endEvent" and el.outcome:
            declared.append((task.last_state_change, el.outcome))
    for bpmn_id, when in pruning.record(wf)["ends"].items():  # end events cut from a long instance's tree
        el = elements.get(bpmn_id)
        if el is not None and el.type == "endEvent" and el.outcome:
            declared.append((when, el.outcome))
    return max(declared)[1] if declared else outcomes.COMPLETED


def highlights(wf: BpmnWorkflow) -> tuple[list[str], list[str]]:
    """(elements that ran, elements that wait now) for drawing the instance on its diagram."""
    done = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}
    done.update(pruning.record(wf)["done"])  # and those cut from a long instance's tree
    active = {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
              if t.task_spec.bpmn_id}
    return sorted(done), sorted(active)
