"""Cutting the finished part of a long instance's task tree (issue 17, bounded instance cost).

SpiffWorkflow 3.2 keeps every task that ever ran: each round of a loop adds its tasks, three levels
deeper, and every step walks the whole tree several times, so a command on round 500 cost 13x one on
round 10. At the start of a command (`workflow.complete`, `fire_timers`, `send_message`, which the
runtime and replay both call, so both cut at the same points) the finished part above the live part
is cut: L, the lowest common ancestor of every task not yet finished, is hung directly under the
tree's root task, and every other task except the root goes. The audit trail keeps the history and
replay rebuilds it; nothing observable changes:

- `observe.instance_data` (and so the replay digest): the root task takes the data the cut tasks
  folded to, which must equal the data of L's old parent, so every remaining task's contribution is
  the one it had; and every cut task ran before every remaining one, so the fold comes first either
  way. Both are checked; otherwise nothing is cut.
- what reads finished tasks: the elements that ran (`observe.highlights`), the end events reached
  (`observe.outcome`) and the specs of finished tasks (`workflow.migration_gaps`) are kept in the
  root task's internal data (`record`), a few names, not one entry per round.
- what SpiffWorkflow itself reads (its 3.2 source): an inclusive gateway counts finished tasks of
  its own spec anywhere in the tree, and a parallel gateway those outside its own ancestry; both,
  and the process's end join, merge into their task the data of the finished tasks of their spec
  outside its ancestry (UnstructuredJoin._run_hook): no cut may hold an inclusive gateway, nor a
  parallel gateway or an end join off L's ancestry (a branch that ended beside the main path, such
  as a reminder that fired, stops the cutting above it). Boundary and start event joins find their
  split among their ancestors: it must stay. Call activities and embedded sub-processes keep their
  sub-workflow in `wf.subprocesses` (and migration checks it): a cut holding one is not made. Ad hoc
  processes read the root's children: not cut at all.

It only pays when the tree is large: below MIN_CUT finished tasks nothing is cut, so short instances
(every scenario process) keep their whole tree, and a long loop's tree stays between a few and
MIN_CUT + a few tasks (a command then costs about what it cost on round MIN_CUT / 6).
"""

from __future__ import annotations

import copy

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

# Finished tasks a cut must remove at least. A loop round of loop.bpmn is 3 tasks; task 10 of it runs
# on a tree of ~35 tasks, so with 60 the tree of a long instance stays about that size on average.
MIN_CUT = 60
_DONE = TaskState.COMPLETED | TaskState.CANCELLED  # ERROR counts as live: it is an incident to retry
_SEEN = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED  # observe.instance_data
KEY = "salesflow_pruned"  # in the root task's internal_data


def record(wf: BpmnWorkflow) -> dict:
    """What the cut tasks leave behind: `done` (elements that completed), `ends` ({end event: when it was
    last reached}), `specs` ({spec name: state name} of every task cut)."""
    return wf.task_tree.internal_data.get(KEY) or {"done": [], "ends": {}, "specs": {}}


def prune(wf: BpmnWorkflow | None, min_cut: int | None = None) -> int:
    """Cut the finished part of the top-level task tree when it is safe and pays; returns how many
    tasks went (0: nothing was cut)."""
    min_cut = MIN_CUT if min_cut is None else min_cut
    if wf is None or len(wf.tasks) < min_cut + 2 or hasattr(wf.spec, "completion_condition"):
        return 0
    root = wf.task_tree
    top = _live_top(wf, root)
    if top is None or top is root:
        return 0
    path = []  # L's ancestors below the root, nearest first
    t = top.parent
    while t is not root:
        path.append(t)
        t = t.parent
    kept = {root.id}
    stack = [top]
    while stack:
        t = stack.pop()
        kept.add(t.id)
        stack.extend(t.children)
    cut = [t for t in wf.tasks.values() if t.id not in kept]
    if len(cut) < min_cut or not _safe(wf, cut, {t.id for t in path}, kept):
        return 0
    parent_data = top.parent.data
    folded = _folded(wf, root, cut, kept)
    if folded is None or folded != parent_data:
        return 0
    _note(root, cut)
    for t in cut:
        del wf.tasks[t.id]
    # the fold, not L's old parent's data: they are equal by ==, which is how instance_data and the serializer's
    # deltas compare, but may differ in type (4 and 4.0), and instance_data keeps the value first set
    root.data = copy.deepcopy(folded)
    root._children = [top.id]
    top._parent = root.id
    if wf.last_task is not None and wf.last_task.id not in wf.tasks:
        wf.last_task = None  # read only when a sub-workflow ends (its own last task) and by Workflow.run_next
    return len(cut)


def _live_top(wf: BpmnWorkflow, root):  # noqa: ANN001, ANN202 - the lowest common ancestor of the unfinished tasks
    common: list | None = None  # root .. the ancestor common so far
    for task in wf.tasks.values():
        if task.state & _DONE:
            continue
        chain = []
        t = task
        while t is not None:
            chain.append(t)
            t = t.parent
        chain.reverse()
        if common is None:
            common = chain
            continue
        n = 0
        while n < len(common) and n < len(chain) and common[n] is chain[n]:
            n += 1
        common = common[:n]
        if not common:
            return None
    return common[-1] if common else None


def _safe(wf: BpmnWorkflow, cut: list, on_path: set, kept: set) -> bool:
    for t in cut:
        spec = t.task_spec
        if isinstance(spec, (InclusiveGateway, SubWorkflowTask)) or t.id in wf.subprocesses:
            return False
        if isinstance(spec, UnstructuredJoin) and t.id not in on_path:
            return False
    for tid in kept:
        t = wf.tasks[tid]
        split = getattr(t.task_spec, "split_task", None)
        if isinstance(t.task_spec, Join) and split and not t.state & _DONE:
            ancestor = t.find_ancestor(split)
            if ancestor is not None and ancestor.id not in kept:
                return False
    return True


def _folded(wf: BpmnWorkflow, root, cut: list, kept: set) -> dict | None:  # noqa: ANN001
    """The data `observe.instance_data` had folded from the root and the cut tasks, or None when some
    remaining task ran before a cut one (or before the root): then the fold would move in the order."""
    cut_ids = {t.id for t in cut}
    seen = wf.get_tasks(state=_SEEN)  # in the order instance_data sorts them in (a stable sort)
    seen_cut = sorted((t for t in seen if t.id in cut_ids), key=lambda t: t.last_state_change)
    if not seen_cut:
        return dict(root.data)
    first_kept = min((t.last_state_change for t in seen if t is not root and t.id not in cut_ids), default=None)
    if root.last_state_change > seen_cut[0].last_state_change:
        return None
    if first_kept is not None and first_kept <= seen_cut[-1].last_state_change:
        return None
    data = dict(root.data)
    for t in seen_cut:
        data.update(DeepMerge.get_updated_keys(t.parent.data, t.data))
    return data


def _note(root, cut: list) -> None:  # noqa: ANN001
    old = record(root.workflow)
    done = set(old["done"])
    ends = dict(old["ends"])  # the last time each end event was reached: all that `observe.outcome` needs
    specs = dict(old["specs"])
    for t in cut:
        spec = t.task_spec
        specs[spec.name] = TaskState.get_name(t.state)
        if t.state == TaskState.COMPLETED and spec.bpmn_id:
            done.add(spec.bpmn_id)
            if type(spec).__name__ == "EndEvent":
                ends[spec.bpmn_id] = max(ends.get(spec.bpmn_id, 0.0), t.last_state_change)
    root.internal_data[KEY] = {"done": sorted(done), "ends": ends, "specs": specs}
