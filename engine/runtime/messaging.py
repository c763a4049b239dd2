"""Routing the messages an instance throws and nothing inside it catches.

A running instance with the same business key that waits for the message gets it;
otherwise every process whose start event is a message start for that name is
started. Both happen in the sender's transaction, so a message is never lost
between two processes. The sender's trail records `message_sent` with where it went.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.model import start_event
from engine.errors import ProcessError
from engine.process import workflow
from engine.runtime.loading import load_workflow, lock_instance, specs_for
from engine.runtime.step import Step
from engine.store.models import Instance, ProcessVersion

if TYPE_CHECKING:
    from engine.api import Engine

MAX_DEPTH = 8  # a chain of processes starting each other deeper than this is a modelling loop


def route(session: Session, ctx: Engine, step: Step, depth: int = 0) -> None:
    for name, payload in step.thrown:
        if depth >= MAX_DEPTH:
            raise ProcessError(f"message {name}: processes start each other more than {MAX_DEPTH} levels deep")
        business_key = step.instance.business_key or f"{step.instance.process_key}-{step.instance.id}"
        delivered = _deliver_to_waiting(session, ctx, step, name, payload, business_key, depth)
        started = [] if delivered else _start_receivers(session, ctx, step, name, payload, business_key)
        step.event("message_sent", None, {"name": name, "payload": payload, "business_key": business_key,
                                          "delivered": delivered, "started": started})


def _deliver_to_waiting(session: Session, ctx: Engine, sender: Step, name: str, payload: dict,
                        business_key: str, depth: int) -> list[int]:
    ids = session.scalars(select(Instance.id).where(Instance.business_key == business_key,
                                                    Instance.status == "running",
                                                    Instance.id != sender.instance.id).order_by(Instance.id))
    delivered = []
    for iid in list(ids):
        inst = lock_instance(session, iid)
        specs = specs_for(session, ctx.specs, inst.process_version_id)
        wf = load_workflow(inst, specs)
        if not workflow.waits_for_message(wf, name):
            continue
        step = Step(session, inst, specs, wf, sender.actor, sender.at)
        workflow.send_message(wf, name, payload)
        step.finish("message", None, {"name": name, "payload": payload, "from_instance": sender.instance.id})
        route(session, ctx, step, depth + 1)
        delivered.append(iid)
    return delivered


def _receivers(session: Session, ctx: Engine, name: str) -> list[ProcessVersion]:
    latest: dict[str, ProcessVersion] = {}
    for pv in session.scalars(select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version.desc())):
        latest.setdefault(pv.key, pv)
    result = []
    for pv in latest.values():
        start = start_event(_model(pv))
        if start is not None and start.event == "message" and start.message == name:
            result.append(pv)
    return result


def _model(pv: ProcessVersion):  # noqa: ANN202 - ProcessModel
    from engine.definitions.model import ProcessModel

    return ProcessModel.from_dict(json.loads(pv.model_json)[pv.key])


def _start_receivers(session: Session, ctx: Engine, sender: Step, name: str, payload: dict,
                     business_key: str) -> list[int]:
    from engine.runtime.starting import begin

    started = []
    for pv in _receivers(session, ctx, name):
        specs = specs_for(session, ctx.specs, pv.id)
        via = {"name": name, "from_instance": sender.instance.id}
        started.append(begin(session, ctx, pv, specs, sender.actor, payload, business_key, via).id)
    return started
