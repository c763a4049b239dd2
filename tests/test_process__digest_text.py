"""Issue 17: the replay digest is hashed around the instance data's own text (written once for the row);
it must stay the hash of the JSON body replay has always compared, or no recorded trail would verify."""

from __future__ import annotations

import hashlib
import json

from SpiffWorkflow.util.task import TaskState

from engine.process import observe
from engine.runtime.loading import load_workflow, specs_for
from engine.store.models import Instance
from tests.test_runtime__concurrency import REQUEST, open_task


def digest_as_recorded(wf) -> str:  # the formula every stored trail's digests were made with
    ready = sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True))
    waiting = sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id)
    body = {"ready": ready, "waiting": waiting, "completed": wf.is_completed(), "data": observe.instance_data(wf)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_the_digest_is_the_hash_of_the_body_replay_compares(approval):
    iid = approval.start("rep", "approval", {**REQUEST, "customer_name": "客户 \"甲\" / ACME"})
    seen = []
    for step in ("start", "approve"):
        with approval.db.read() as s:
            inst = s.get(Instance, iid)
            wf = load_workflow(inst, specs_for(s, approval.specs, inst.process_version_id))
        data = observe.instance_data(wf)
        assert observe.digest(wf) == observe.digest(wf, data) == digest_as_recorded(wf)
        assert observe.digest(wf, data, observe.data_json(data)) == digest_as_recorded(wf)
        assert inst.data_json == observe.data_json(data)
        seen.append(step)
        if step == "start":
            approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})
    assert seen == ["start", "approve"]


def test_one_walk_gives_what_spiffworkflows_own_walks_give(approval):
    """A step walks the task tree once (observe.Seen) for its data, its digest and its timers; the tasks in
    each state must be those SpiffWorkflow's own walks for that state return, in their order."""
    iid = approval.start("rep", "approval", REQUEST)
    checked = 0
    for step in ("start", "approve"):
        with approval.db.read() as s:
            inst = s.get(Instance, iid)
            wf = load_workflow(inst, specs_for(s, approval.specs, inst.process_version_id))
        seen = observe.Seen.of(wf)
        assert seen.ready_manual == wf.get_tasks(state=TaskState.READY, manual=True) != []
        assert seen.waiting == wf.get_tasks(state=TaskState.WAITING)
        checked += 1
        if step == "start":
            approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})
    assert checked == 2
