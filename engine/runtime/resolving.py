"""Resolving incidents (administrators): retry the step that failed, or cancel the instance.

A retry runs the incident's step again, now, as a command of its own (one transaction, the
instance locked). On success the step is recorded as a `retried` event, which replay runs like the
step it repeats (fire the due timers, deliver the kept message, or start the instance); the
incident is resolved as `retried`, and the instance runs again (it stays halted while another of
its incidents is open). On failure the step is rolled back and the incident stays open with the new
message and one more attempt, recorded by another `incident` event. The usual fix: deploy a
corrected version, migrate the halted instance to it (migration accepts halted instances), retry.
A kept message the instance no longer waits for (a second message parked while it was halted,
when the retry of the first moved it on) is dropped by its retry (`dropped` on the event), as
routing drops any message nothing waits for.

A cancel needs a reason and cancels the instance as it stands, without running the failed step.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, outcomes
from engine.errors import Conflict, NotFound
from engine.process import workflow
from engine.runtime import access, commands, incidents, messaging
from engine.runtime.loading import latest_version, load_workflow, lock_instance, specs_for
from engine.runtime.step import Step
from engine.store.models import Incident, Instance
from engine.users import get_actor

if TYPE_CHECKING:
    from engine.runtime.context import Context



def retry_incident(ctx: Context, actor: str, incident_id: int) -> dict:
    """Run the incident's step again; the incident afterwards (resolved, or open with the new error)."""
    with ctx.db.write() as s:
        access.check_may_resolve_incidents(get_actor(s, actor))
        row, inst = _lock(s, incident_id)
        at = clock.now()
        error = incidents.isolated(s, lambda: _rerun(ctx, s, inst, row, actor, at))
        if error is None:
            incidents.resolve([row], actor, at, "retried")
            incidents.fresh_attempts(s, inst.id)
        else:
            message, element = incidents.locate(s, inst, error, fallback=row.element)
            incidents.update(s, inst, row, message, element)
            row.attempts += 1
            incidents.record(s, inst, row, at, {"retry": True}, actor=actor)
        return incidents.incident_dict(s, row, inst)


def cancel_incident(ctx: Context, actor: str, incident_id: int, reason: str) -> dict:
    """Cancel the halted instance (with a reason), without running the step that failed."""
    with ctx.db.write() as s:
        user = get_actor(s, actor)
        access.check_may_resolve_incidents(user)
        reason = commands.required_reason(reason)
        row, inst = _lock(s, incident_id)
        if not incidents.never_started(inst):  # who may cancel the process (a complaint: the GM) holds here too
            access.cancel_outcome(s, user, inst, commands.model_of(s, ctx, inst))
        commands.cancel_step(ctx, s, inst, actor, reason, outcomes.CANCELLED)
        return incidents.incident_dict(s, row, inst)


def _lock(s: Session, incident_id: int) -> tuple[Incident, Instance]:
    """The open incident and its instance, read again once the instance's lock is held."""
    row = s.get(Incident, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    inst = lock_instance(s, row.instance_id)
    row = s.scalar(select(Incident).where(Incident.id == incident_id).execution_options(populate_existing=True))
    if row.status != incidents.OPEN or inst.status != incidents.HALTED:
        raise Conflict(f"incident {incident_id} is already resolved ({row.resolution or inst.status})")
    return row, inst


def _rerun(ctx: Context, s: Session, inst: Instance, row: Incident, actor: str, at) -> None:  # noqa: ANN001
    """The incident's step, recorded as `retried` with what replay needs to run it again."""
    step_info = json.loads(row.step)
    kind = step_info.get("step")
    if kind == "started":
        pv = latest_version(s, inst.process_key)  # the version the message would start now
        specs = specs_for(s, ctx.specs, pv.id)
        step = Step(s, inst, specs, None, actor, at)
        step.wf = workflow.start(specs, dict(step_info["data"]))
        inst.process_version_id = pv.id
        payload = {"process_key": pv.key, "version": pv.version, "version_id": pv.id,
                   "business_key": inst.business_key, "data": step_info["data"],
                   "via_message": step_info.get("via_message")}
    else:
        specs = specs_for(s, ctx.specs, inst.process_version_id)
        step = Step(s, inst, specs, load_workflow(inst, specs), actor, at)
        if kind == "message":
            payload = {"name": step_info["name"], "payload": step_info["payload"],
                       "from_instance": step_info.get("from_instance")}
            if workflow.waits_for_message(step.wf, step_info["name"]):
                workflow.send_message(step.wf, step_info["name"], dict(step_info["payload"]))
            else:  # another retry moved it on: a message nothing waits for is dropped, as routing drops it
                payload["dropped"] = True
        else:
            workflow.fire_timers(step.wf)
            payload = {}
    others = [r for r in incidents.open_incidents(s, inst.id) if r.id != row.id]
    ended = step.wf.is_completed()
    status = None if ended else (incidents.HALTED if others else "running")
    derived = step.finish("retried", None, {"incident_id": row.id, "step": kind, **payload}, status=status)
    if kind == "timers_due":
        commands.after_timers(ctx, s, step, derived)
    else:
        messaging.route(s, ctx, step)
    if ended and others:  # nothing is left for them to do
        incidents.resolve(others, actor, at, "cancelled", f"the case ended when incident {row.id} was retried")
