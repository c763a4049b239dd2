"""The runtime commands. Each runs in one transaction with the instance locked.

Signature convention: `command(ctx, actor, ...)` where ctx carries the database,
the clock and the spec cache (engine/runtime/context.py; the Engine is one).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy.orm import Session

from engine import clock, forms, outcomes, reasons
from engine.definitions.checks import INITIATOR
from engine.definitions.model import start_event
from engine.errors import Conflict, Forbidden, InvalidData, ProcessError, SalesflowError
from engine.notify import events as notify
from engine.prices.book import PricesOn, company_day
from engine.process import failures, observe, workflow
from engine.process.specs import SpecSet
from engine.reasons import MAX_REASON
from engine.runtime import access, customers, idempotency, incidents, messaging, queries, starting, under_case
from engine.runtime.loading import (
    form_of,
    latest_version_as,
    load_workflow,
    lock_instance,
    lock_task_as,
    require_ready,
    require_running,
    specs_for,
)
from engine.runtime.step import Step
from engine.store.models import Instance, Task
from engine.tokens import Bearer
from engine.users import get_actor, roles_of

if TYPE_CHECKING:
    from engine.runtime.context import Context

SYSTEM = starting.SYSTEM


def load_step(ctx: Context, session: Session, inst: Instance, actor: str, overdue: str = "fire") -> Step:
    """Load the instance for a command. Timers that fell due before this instant fire
    first, as their own step: a deadline that passed is never skipped because the
    worker had not come round yet.

    `overdue`: "fire" (a failing timer fails the command, as a ProcessError), "try" (a cancel: a
    failing timer is left unfired and the command goes on without it) or "skip" (an instance
    halted by an incident: its failed step waits for an administrator's retry)."""
    specs = specs_for(session, ctx.specs, inst.process_version_id)
    (wf, standing), at = warm_standing(ctx, inst, specs), clock.now()
    timers = standing.timers if standing is not None else workflow.waiting_timers(wf)
    if overdue != "skip" and any(due < at for _task, due in timers):
        def fire(kept: observe.Standing | None = standing) -> None:
            _fire(ctx, session, Step(session, inst, specs, wf, SYSTEM, at, ctx.workflows, standing=kept))

        standing = None  # the timers change the workflow (or a failed one leaves it half run: restored)
        if overdue == "try":
            if incidents.isolated(session, fire) is not None:
                wf = load_workflow(inst, specs)  # as it was before the failed timers
        else:
            try:
                fire()
            except (SalesflowError, *incidents.NOT_THE_INSTANCE):
                raise
            except Exception as exc:  # e.g. a state that cannot be saved: the person gets a 422
                raise ProcessError(f"an overdue timer of instance {inst.id} failed: {failures.describe(exc)}") from exc
    return Step(session, inst, specs, wf, actor, at, ctx.workflows, standing=standing)


def warm_workflow(ctx: Context, inst: Instance, specs: SpecSet) -> BpmnWorkflow:
    """The instance's workflow for a command: kept from its last command in this process when the database
    still holds the state it was saved as, else restored (engine/runtime/warm_workflows.py)."""
    return warm_standing(ctx, inst, specs)[0]


def warm_standing(ctx: Context, inst: Instance, specs: SpecSet) -> tuple[BpmnWorkflow, observe.Standing | None]:
    """`warm_workflow`, with what the step that kept it knew of it (None for a restored one)."""
    kept = ctx.workflows.take_standing(inst.id, inst.state_json)
    return kept if kept is not None else (load_workflow(inst, specs), None)


def _fire(ctx: Context, session, step: Step) -> int:  # noqa: ANN001
    workflow.fire_timers(step.wf)
    fired = [d for d in observe.derive(step.specs, step.wf, step.before, step.instance.started_by)
             if d.kind == "timer_fired"]
    if fired:
        after_timers(ctx, session, step, step.finish("timers_due", None, {"fired": [d.task for d in fired]}))
    return len(fired)


def after_timers(ctx: Context, session, step: Step, derived: list[observe.Derived]) -> None:  # noqa: ANN001
    """What follows a recorded step that fired timers: its messages are routed, and a timer-started
    process whose start timer fired gets its next armed instance."""
    messaging.route(session, ctx, step)
    key = step.instance.process_key
    start = start_event(step.specs.models[key])
    if start is not None and start.id in {d.task for d in derived if d.kind == "timer_fired"}:
        starting.arm(session, ctx, key)  # this one has started: the next one waits for its time


def start(ctx: Context, actor: str, key: str, data: dict | None = None, business_key: str | None = None) -> int:
    with ctx.db.write() as s:
        return _start(ctx, s, actor, key, data, business_key).id


def start_once(ctx: Context, caller: str | Bearer, key: str, data: dict | None, business_key: str | None,
               idempotency_key: str | None) -> idempotency.Answer:
    """Start; the answer is the instance right after (its summary), kept under the key if one is given."""
    once = idempotency.request(idempotency_key, "start", {"process": key, "data": data, "business_key": business_key})
    return idempotency.run(ctx, caller, once, lambda s, actor: queries.instance_summary(
        s, _start(ctx, s, actor, key, data, business_key), clock.now()))


def _start(ctx: Context, s: Session, actor: str, key: str, data: dict | None, business_key: str | None) -> Instance:
    data = data or {}
    pv, user = latest_version_as(s, key, actor)
    specs = specs_for(s, ctx.specs, pv.id)
    model = specs.models[key]
    start_el = start_event(model)
    access.check_may_start(user, model)
    if business_key is not None and (not isinstance(business_key, str) or not 0 < len(business_key) <= 128
                                     or not forms.storable(business_key)):
        raise InvalidData("business_key must be a text of 1-128 characters",
                          {"business_key": {"zh": "业务编号须为1-128个字符", "en": "1-128 characters"}})
    form = form_of(s, pv.id, start_el.form_key if start_el else None, ctx.specs)
    data = forms.validate(form, data, _prices(s)) if form else forms.check_data_keys(data)
    data, case = under_case.inherit(s, user, model, business_key, data)
    customers.check_new(s, key, data)
    return starting.begin(s, ctx, pv, specs, actor, data, business_key, under_case=case)


def _prices(s: Session) -> PricesOn:
    """The price list as it stands on the command's day (company time), for fields a form fills from it."""
    return PricesOn(s, company_day(clock.now()))


def claim(ctx: Context, actor: str, task_id: str) -> None:
    with ctx.db.write() as s:
        _claim(s, actor, task_id)


def claim_once(ctx: Context, caller: str | Bearer, task_id: str, idempotency_key: str | None) -> idempotency.Answer:
    """Claim; the answer is the task right after, kept under the key if one is given."""
    once = idempotency.request(idempotency_key, "claim", {"task": task_id})
    return idempotency.run(ctx, caller, once,
                           lambda s, actor: queries.task_dict(_claim(s, actor, task_id), clock.now()))


def _claim(s: Session, actor: str, task_id: str) -> Task:
    row, inst, user = lock_task_as(s, task_id, actor)
    access.check_may_know_task(s, user, row, inst)
    require_ready(row)
    if row.assignee == actor:
        return row
    if row.role == INITIATOR:
        raise Forbidden(f"task {task_id} belongs to the requester {row.assignee}")
    if row.assignee:
        raise Conflict(f"task {task_id} is already claimed by {row.assignee}")
    access.check_may_work(s, user, row, inst)
    row.assignee = actor
    Step(s, inst, None, None, actor, clock.now()).event("claimed", row.bpmn_id, {"task_id": row.id})
    return row


def unclaim(ctx: Context, actor: str, task_id: str) -> None:
    with ctx.db.write() as s:
        row, inst, user = lock_task_as(s, task_id, actor)
        access.check_may_know_task(s, user, row, inst)
        require_ready(row)
        if row.role == INITIATOR:
            raise Conflict("this task belongs to the requester and cannot be released")
        if row.assignee is None:
            raise Conflict(f"task {task_id} is not claimed")
        if row.assignee != actor:
            access.check_may_manage(s, user, row)
        previous, row.assignee = row.assignee, None
        Step(s, inst, None, None, actor, clock.now()).event("unclaimed", row.bpmn_id,
                                                                 {"task_id": row.id, "from": previous})


def reassign(ctx: Context, actor: str, task_id: str, to_user: str) -> None:
    with ctx.db.write() as s:
        row, inst, user = lock_task_as(s, task_id, actor)
        access.check_may_know_task(s, user, row, inst)
        require_ready(row)
        access.check_may_manage(s, user, row)
        target = get_actor(s, to_user)
        if row.role not in roles_of(target):
            raise Forbidden(f"{to_user} does not hold role {row.role}")
        reason = access.sod_violation(s, target, inst, row.sod_tokens)
        if reason:
            raise Forbidden(f"{to_user}: {reason}")
        previous, row.assignee = row.assignee, to_user
        Step(s, inst, None, None, actor, clock.now()).event("reassigned", row.bpmn_id,
                                                            {"task_id": row.id, "from": previous, "to": to_user})
        notify.task_assigned(s, row, inst, actor, clock.now())


def complete(ctx: Context, actor: str, task_id: str, data: dict | None) -> int:
    """Complete a task; an unclaimed task offered to one of the actor's roles is claimed in the same step."""
    with ctx.db.write() as s:
        return _complete(ctx, s, actor, task_id, data).id


def complete_once(ctx: Context, caller: str | Bearer, task_id: str, data: dict | None,
                  idempotency_key: str | None) -> idempotency.Answer:
    """Complete; the answer is the instance right after (its summary), kept under the key if one is given."""
    once = idempotency.request(idempotency_key, "complete", {"task": task_id, "data": data})
    return idempotency.run(ctx, caller, once, lambda s, actor: queries.instance_summary(
        s, _complete(ctx, s, actor, task_id, data), clock.now()))


def _complete(ctx: Context, s: Session, actor: str, task_id: str, data: dict | None) -> Instance:
    data = {} if data is None else data
    row, inst, user = lock_task_as(s, task_id, actor)
    access.check_may_know_task(s, user, row, inst)
    require_ready(row)
    require_running(inst)
    access.check_may_work(s, user, row, inst)
    form = form_of(s, inst.process_version_id, row.form_key, ctx.specs)
    data = forms.validate(form, data, _prices(s), json.loads(inst.data_json)) if form else forms.check_data_keys(data)
    step = load_step(ctx, s, inst, actor)
    require_ready(row)  # an overdue interrupting timer may just have cancelled it
    if row.assignee is None:
        row.assignee = actor
        step.later("claimed", row.bpmn_id, {"task_id": row.id, "auto": True})
    workflow.complete(step.wf, task_id, data)
    row.completed_by, row.completed_at = actor, step.at
    step.finish("completed", row.bpmn_id, {"task_id": row.id, "data": data})
    messaging.route(s, ctx, step)
    return inst


def comment(ctx: Context, actor: str, task_id: str, text: str) -> None:
    """A remark on a task, kept in the instance's trail (it changes no data)."""
    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        raise InvalidData("a comment is 1-2000 characters",
                          {"text": {"zh": "评论须为1-2000个字符", "en": "1-2000 characters"}})
    with ctx.db.write() as s:
        row, inst, user = lock_task_as(s, task_id, actor)
        access.check_may_know_task(s, user, row, inst)
        access.check_may_comment(s, user, inst)
        Step(s, inst, None, None, actor, clock.now()).event("commented", row.bpmn_id,
                                                            {"task_id": row.id, "text": text.strip()})


def required_reason(reason: object) -> str:
    """Ending a case early always says why: the reason goes into its trail."""
    return reasons.required_reason(
        reason, f"a reason of 1-{MAX_REASON} characters is required to cancel or withdraw a case",
        {"zh": f"请填写原因（1-{MAX_REASON}个字符）", "en": f"A reason of 1-{MAX_REASON} characters is required"})


def cancel(ctx: Context, actor: str, instance_id: int, reason: str = "") -> str:
    """End an instance early, with a reason; returns its outcome: `withdrawn` when its requester withdrew
    it, else `cancelled` (who may do which: access.cancel_outcome)."""
    with ctx.db.write() as s:
        inst = lock_instance(s, instance_id)
        user = get_actor(s, actor)
        access.check_may_see(s, user, inst)
        if inst.status != incidents.HALTED:
            require_running(inst)
        outcome = access.cancel_outcome(s, user, inst, model_of(s, ctx, inst))
        cancel_step(ctx, s, inst, actor, required_reason(reason), outcome)
        return outcome


def model_of(session, ctx: Context, inst: Instance):  # noqa: ANN001, ANN201 - a ProcessModel
    return specs_for(session, ctx.specs, inst.process_version_id).models[inst.process_key]


def cancel_step(ctx: Context, session, inst: Instance, actor: str, reason: str,  # noqa: ANN001
                outcome: str = outcomes.CANCELLED) -> None:
    """Cancel a running or halted instance. A halted one is cancelled as it stands, without running the
    step that failed; its open incidents are resolved as cancelled."""
    halted = incidents.open_incidents(session, inst.id) if inst.status == incidents.HALTED else []
    payload: dict = {"reason": reason, "outcome": outcome}
    if halted:
        payload["incidents"] = [row.id for row in halted]
    if incidents.never_started(inst):  # no workflow yet: nothing to cancel in it
        step = Step(session, inst, None, None, actor, clock.now())
        step.event("cancelled", None, payload)
        inst.status, inst.outcome, inst.ended_at = "cancelled", outcome, step.at
        notify.after_step(session, inst, [], True, actor, step.at)
    else:
        step = load_step(ctx, session, inst, actor, overdue="skip" if inst.status == incidents.HALTED else "try")
        workflow.cancel(step.wf)
        step.finish("cancelled", None, payload, status="cancelled", outcome=outcome)
    incidents.resolve(halted, actor, step.at, "cancelled", reason)


def deliver_message(ctx: Context, actor: str, instance_id: int, name: str, payload: dict | None = None) -> None:
    payload = forms.check_data_keys(payload or {})
    with ctx.db.write() as s:
        inst = lock_instance(s, instance_id)
        user = None if actor == SYSTEM else get_actor(s, actor)
        if user is not None:
            access.check_may_see(s, user, inst)
        require_running(inst)
        if user is not None and not access.is_admin(user) and user.username != inst.started_by:
            raise Forbidden("only the requester, an administrator or the system may send messages")
        step = load_step(ctx, s, inst, actor)
        workflow.send_message(step.wf, name, payload)
        step.finish("message", None, {"name": name, "payload": payload})
        messaging.route(s, ctx, step)


def fire_timers(ctx: Context, instance_id: int) -> int:
    """Fire every timer of this instance that is due by the clock; returns how many fired.

    Workers skip an instance whose row another worker holds, and a worker that
    gets the row after another fired its timers finds nothing due: each timer
    fires exactly once however many workers run."""
    with ctx.db.write() as s:
        inst = lock_instance(s, instance_id, skip_locked=True)
        if inst is None or inst.status != "running":
            return 0
        specs = specs_for(s, ctx.specs, inst.process_version_id)
        return _fire(ctx, s, Step(s, inst, specs, warm_workflow(ctx, inst, specs), SYSTEM, clock.now(), ctx.workflows))


