"""Creating instances: by a person, by a message another instance threw, or armed by the
engine itself for a process whose start event is a timer."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.definitions.model import start_event, stored_model
from engine.process import workflow
from engine.process.specs import SpecSet
from engine.runtime import customer_names, incidents
from engine.runtime.loading import latest_version, specs_for
from engine.runtime.step import Step
from engine.store.models import Instance, ProcessVersion, Timer
from engine.users import SYSTEM

if TYPE_CHECKING:
    from engine.definitions.current import VersionRef
    from engine.runtime.context import Context



def begin(session: Session, ctx: Context, pv: ProcessVersion | VersionRef, specs: SpecSet, actor: str, data: dict,
          business_key: str | None, via: dict | None = None, depth: int = 0,
          under_case: int | None = None) -> Instance:
    """Create the instance row, run the process to its first wait and record it; the
    messages it throws are routed before this returns (`depth`: how many processes started
    each other to get here, see messaging.MAX_DEPTH; `under_case`: the case whose data it
    inherited, see under_case.py)."""
    from engine.runtime import messaging  # messaging starts instances: a cycle resolved at call time

    at = clock.now()
    inst = Instance(process_version_id=pv.id, process_key=pv.key, business_key=business_key, status="running",
                    started_by=actor, started_at=at, state_json="{}", serializer_version="", rev=0)
    session.add(inst)  # inserted by step.finish with its first state
    step = Step(session, inst, specs, None, actor, at, ctx.workflows, new=True)
    step.wf = workflow.start(specs, dict(data))
    payload = {"process_key": pv.key, "version": pv.version, "business_key": business_key, "data": data}
    if via:
        payload["via_message"] = via
    if under_case is not None:
        payload["under_case"] = under_case
    step.finish("started", None, payload)
    messaging.route(session, ctx, step, depth)
    return inst


def begin_halted(session: Session, pv: ProcessVersion, actor: str, data: dict, business_key: str | None,
                 via: dict, error: BaseException, at: datetime) -> Instance:
    """The instance a message started whose first step failed (and was rolled back): created halted
    by an incident that keeps the message, with no workflow state yet; a retry starts it (on the
    latest version, as the message would now)."""
    inst = Instance(process_version_id=pv.id, process_key=pv.key, business_key=business_key,
                    status=incidents.HALTED, started_by=actor, started_at=at, state_json="{}",
                    serializer_version="", rev=0, data_json=json.dumps(data, ensure_ascii=False, sort_keys=True,
                                                                      default=str))
    inst.customer_name = customer_names.copied(data.get("customer_name"))
    if inst.customer_name is not None:
        customer_names.remember(session, inst.customer_name)
    session.add(inst)
    session.flush()
    start = start_event(stored_model(pv.model_json, pv.key))
    message, element = incidents.locate(session, inst, error, fallback=start.id if start else None)
    retry = {"step": "started", "data": data, "business_key": business_key, "via_message": via}
    incidents.open_incident(session, inst, "message", retry, at, message, element,
                            event={"process_key": pv.key, "version": pv.version, "business_key": business_key,
                                   "data": data, "via_message": via})
    return inst


def timer_started(specs: SpecSet, key: str) -> bool:
    el = start_event(specs.models[key])
    return el is not None and el.event == "timer"


def arm(session: Session, ctx: Context, key: str) -> Instance | None:
    """Keep exactly one armed instance (waiting at its start timer) of the latest version
    of a timer-started process; older armed instances are cancelled."""
    pv = latest_version(session, key)
    specs = specs_for(session, ctx.specs, pv.id)
    if not timer_started(specs, key):
        return None
    current = None
    for inst in _armed(session, ctx, key):
        if inst.process_version_id == pv.id and current is None:
            current = inst
        else:
            _disarm(session, ctx, inst)
    return current or begin(session, ctx, pv, specs, SYSTEM, {}, None)


def _armed(session: Session, ctx: Context, key: str) -> list[Instance]:
    """Running instances of `key` whose start event's timer still waits."""
    rows = session.execute(
        select(Instance, Timer.bpmn_id).join(Timer, Timer.instance_id == Instance.id)
        .where(Instance.process_key == key, Instance.status == "running", Timer.status == "waiting")
        .order_by(Instance.id))
    armed: dict[int, Instance] = {}
    for inst, bpmn_id in rows:
        start = start_event(specs_for(session, ctx.specs, inst.process_version_id).models[key])
        if start is not None and start.id == bpmn_id:
            armed[inst.id] = inst
    return list(armed.values())


def _disarm(session: Session, ctx: Context, inst: Instance) -> None:
    from engine.runtime.loading import load_workflow

    specs = specs_for(session, ctx.specs, inst.process_version_id)
    step = Step(session, inst, specs, load_workflow(inst, specs), SYSTEM, clock.now())
    workflow.cancel(step.wf)
    step.finish("cancelled", None, {"reason": "a newer version was deployed"}, status="cancelled")
