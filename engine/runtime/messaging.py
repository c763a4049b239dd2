"""Routing the messages an instance throws and nothing inside it catches.

A running instance with the same business key that waits for the message gets it;
otherwise every process whose start event is a message start for that name is
started. Both happen in the sender's transaction, so a message is never lost
between two processes. The sender's trail records `message_sent` with where it went.

A receiver's failure is the receiver's: each delivery (and each start) runs in a SAVEPOINT, and
when it fails only it is rolled back. The receiver is then halted by an incident that keeps the
message (a message-started instance is created halted, with the message as its start data), and
the sender's command succeeds. The alternatives were worse: failing the sender for a fault in
another process's diagram (what happened before), or dropping the message. A receiver already
halted by an incident runs nothing: the message is kept on a new incident of its own, and a retry
delivers it. `message_sent` lists the halted receivers under `halted`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.current import current_versions
from engine.definitions.model import start_event
from engine.errors import ProcessError
from engine.process import failures, workflow
from engine.process.specs import SpecSet
from engine.runtime import incidents
from engine.runtime.loading import load_workflow, lock_instance, specs_for
from engine.runtime.step import Step
from engine.store.models import Instance, ProcessVersion

if TYPE_CHECKING:
    from engine.runtime.context import Context

MAX_DEPTH = 8  # a chain of processes starting each other deeper than this is a modelling loop


def route(session: Session, ctx: Context, step: Step, depth: int = 0) -> None:
    for name, payload in step.thrown:
        if depth >= MAX_DEPTH:
            raise ProcessError(f"message {name}: processes start each other more than {MAX_DEPTH} levels deep")
        business_key = step.instance.business_key or f"{step.instance.process_key}-{step.instance.id}"
        delivered, halted = _deliver_to_waiting(session, ctx, step, name, payload, business_key, depth)
        started, failed = ([], []) if delivered else _start_receivers(session, ctx, step, name, payload,
                                                                      business_key, depth)
        outcome = {"delivered": delivered, "started": started}
        if halted or failed:
            outcome["halted"] = halted + failed  # receivers halted by an incident that keeps the message
        step.event("message_sent", None, {"name": name, "payload": payload, "business_key": business_key,
                                          **outcome})


def _deliver_to_waiting(session: Session, ctx: Context, sender: Step, name: str, payload: dict,
                        business_key: str, depth: int) -> tuple[list[int], list[int]]:
    """(instances that took the message, those of them now halted by an incident)."""
    ids = session.scalars(select(Instance.id).where(Instance.business_key == business_key,
                                                    Instance.status.in_(incidents.LIVE), Instance.rev > 0,
                                                    Instance.id != sender.instance.id).order_by(Instance.id))
    delivered, halted = [], []
    for iid in list(ids):
        inst = lock_instance(session, iid)
        specs = specs_for(session, ctx.specs, inst.process_version_id)
        wf = load_workflow(inst, specs)
        catcher = failures.message_catcher(wf, name)
        if catcher is None:
            continue
        delivered.append(iid)
        retry = {"step": "message", "name": name, "payload": payload, "from_instance": sender.instance.id}
        if inst.status == incidents.HALTED:  # it runs nothing until its incident is resolved: keep the message
            incidents.open_incident(session, inst, "message", retry, sender.at,
                                    f"message {name} arrived while the case was halted by an earlier incident; "
                                    "a retry delivers it", catcher)
            halted.append(iid)
            continue

        def deliver(inst: Instance = inst, specs: SpecSet = specs, wf: BpmnWorkflow = wf) -> None:
            step = Step(session, inst, specs, wf, sender.actor, sender.at)
            workflow.send_message(wf, name, payload)
            step.finish("message", None, {"name": name, "payload": payload, "from_instance": sender.instance.id})
            route(session, ctx, step, depth + 1)

        error = incidents.isolated(session, deliver)
        if error is not None:  # the receiver is as it was: the message waits on its incident
            message, element = incidents.locate(session, inst, error, wf, catcher)
            incidents.open_incident(session, inst, "message", retry, sender.at, message, element)
            halted.append(iid)
    return delivered, halted


def _receivers(session: Session, ctx: Context, name: str) -> list[ProcessVersion]:
    latest = current_versions(session)  # a draft never starts on a message
    result = []
    for pv in latest.values():
        start = start_event(_model(pv))
        if start is not None and start.event == "message" and start.message == name:
            result.append(pv)
    return result


def _model(pv: ProcessVersion):  # noqa: ANN202 - ProcessModel
    from engine.definitions.model import stored_model

    return stored_model(pv.model_json, pv.key)


def _start_receivers(session: Session, ctx: Context, sender: Step, name: str, payload: dict,
                     business_key: str, depth: int) -> tuple[list[int], list[int]]:
    """(instances started, those of them halted because their first step failed)."""
    from engine.runtime.starting import begin, begin_halted

    started, halted = [], []
    for pv in _receivers(session, ctx, name):
        specs = specs_for(session, ctx.specs, pv.id)
        via = {"name": name, "from_instance": sender.instance.id}
        made: list[Instance] = []

        def start(pv: ProcessVersion = pv, specs: SpecSet = specs, via: dict = via, made: list = made) -> None:
            made.append(begin(session, ctx, pv, specs, sender.actor, payload, business_key, via, depth + 1))

        error = incidents.isolated(session, start)
        if error is None:
            started.append(made[0].id)
            continue
        inst = begin_halted(session, pv, sender.actor, payload, business_key, via, error, sender.at)
        started.append(inst.id)
        halted.append(inst.id)
    return started, halted
