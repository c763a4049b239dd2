"""Rule changes (P13): a changed process is a draft until the general manager approves it.

With governance on (engine/definitions/governance.py), a process owner's deploy stores the changed
processes as drafts and starts one instance of `rule_change` for the whole upload: the request. Its
instance id is stored on every draft (`change_request_id`), and that link, never the instance's data,
says which versions the decision applies to. When the request ends (effects.HANDLERS), the drafts become
active or returned; when it is withdrawn or cancelled (effects.ON_CANCEL), withdrawn. Before anything
changes, the database must show that the deciding task was completed by an active general manager who
is not the submitter (access.check_rule_change_decider): a process owner could otherwise deploy a
version of `rule_change` that approves itself.

An administrator's emergency deploy is active at once (the reason kept on each version and in the
deployments chain); a request of the same process asks the general manager to acknowledge it afterwards.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.chain import DEPLOYMENTS, append, instance_chain
from engine.clock import iso
from engine.definitions import deploy as deploy_mod
from engine.definitions.change_summary import summary_row
from engine.definitions.compiler import CompiledProcess
from engine.definitions.current import ACTIVE, DRAFT, RETURNED, WITHDRAWN, current_version
from engine.errors import Conflict, Forbidden, NotFound, ProcessError
from engine.process.specs import SpecCache
from engine.reasons import MAX_REASON, required_reason
from engine.runtime import access
from engine.runtime.loading import specs_for
from engine.runtime.warm_workflows import WarmWorkflows
from engine.store.models import AuditEvent, Instance, ProcessVersion, Task

if TYPE_CHECKING:
    from engine.runtime.context import Context

PROCESS = "rule_change"


def _starting():  # noqa: ANN202 - the module: starting -> step -> effects -> here, so it is imported when used
    from engine.runtime import starting

    return starting
APPROVE, ACKNOWLEDGE = "approve_change", "acknowledge_change"  # the general manager's tasks


class PendingChange(Conflict):
    """A governed deploy of a process that already has a draft awaiting approval; `reason` is {zh, en}."""

    def __init__(self, request_id: int, names: list[str]) -> None:
        self.request_id = request_id
        self.reason = {"en": f"{', '.join(names)} already has a change awaiting the general manager's approval "
                             f"(rule change request {request_id}); withdraw it or wait for the decision",
                       "zh": f"“{'”“'.join(names)}”已有待总经理审批的变更（制度变更申请 {request_id}），"
                             "请等待审批结果或先撤回该申请"}
        super().__init__(self.reason["en"])


class ConsoleGoverned(Forbidden):
    """The console (system) deploying outside the installation while changes need approval."""

    def __init__(self) -> None:
        self.reason = {"en": "rule changes need approval: deploy as a process owner (salesflow deploy --as NAME)",
                       "zh": "制度变更须经审批：请以流程管理员身份部署（salesflow deploy --as 用户名）"}
        super().__init__(self.reason["en"])


class NoApprovalProcess(Conflict):
    def __init__(self) -> None:
        self.reason = {"en": "rule changes need approval, but the process 制度变更审批 (Rule change approval) is not "
                             "deployed: an administrator deploys it first",
                       "zh": "制度变更须经审批，但“制度变更审批”流程尚未部署：请系统管理员先部署该流程"}
        super().__init__(self.reason["en"])


def emergency_reason(reason: object) -> str:
    return required_reason(reason, f"an emergency deploy needs a reason of 1-{MAX_REASON} characters",
                           {"zh": f"紧急变更须填写理由（1-{MAX_REASON}个字符）",
                            "en": f"An emergency change needs a reason of 1-{MAX_REASON} characters"})


def _pending(session: Session, keys: list[str]) -> list[ProcessVersion]:
    return list(session.scalars(select(ProcessVersion).where(ProcessVersion.key.in_(keys),
                                                             ProcessVersion.status == DRAFT)))


def refuse_pending(session: Session, compiled: list[CompiledProcess]) -> list[CompiledProcess]:
    """The processes of the bundle that changed; refused if one of them has a draft awaiting approval, whatever
    the way of deploying (governed, emergency, or with governance switched off since): a later approval
    would otherwise put an older version in force over a newer one."""
    deploy_mod.lock_deployments(session)  # two submissions of one key: the second sees the first's draft
    changed = deploy_mod.changed(session, compiled)
    pending = _pending(session, [cp.key for cp in changed])
    if pending:
        raise PendingChange(pending[0].change_request_id or 0, sorted({pv.name for pv in pending}))
    return changed


def submit(session: Session, ctx: Context, actor: str, compiled: list[CompiledProcess], note: str,
           at: datetime) -> list[deploy_mod.Deployed]:
    """The governed deploy: the changed processes become drafts of one request, the rest are unchanged."""
    changed = refuse_pending(session, compiled)
    if not changed:
        return [d for d, _ in deploy_mod.deploy(session, compiled, actor, at, note)]
    approval = current_version(session, PROCESS)
    if approval is None:
        raise NoApprovalProcess()
    stored = deploy_mod.deploy(session, compiled, actor, at, note, status=DRAFT)
    drafts = [pv for _, pv in stored if pv is not None]
    request = _start_request(session, ctx, approval, actor, drafts, {"remarks": note, "emergency": False})
    append(session, DEPLOYMENTS, iso(at), actor, "submitted", None,
           {"request_id": request.id, "versions": [{"process_key": pv.key, "version": pv.version} for pv in drafts]})
    return [_with_request(d, request.id) for d, _ in stored]


def emergency(session: Session, ctx: Context, actor: str, compiled: list[CompiledProcess], note: str, reason: str,
              at: datetime) -> list[deploy_mod.Deployed]:
    """An administrator's emergency deploy: in force at once, acknowledged by the general manager afterwards."""
    refuse_pending(session, compiled)
    stored = deploy_mod.deploy(session, compiled, actor, at, note, emergency_reason=reason)
    active = [pv for _, pv in stored if pv is not None]
    for pv in active:
        _starting().arm(session, ctx, pv.key)
    approval = current_version(session, PROCESS)
    if not active or approval is None:  # nothing changed, or no approval process yet: the chain has it all
        return [d for d, _ in stored]
    request = _start_request(session, ctx, approval, actor, active,
                             {"remarks": note, "emergency": True, "emergency_reason": reason})
    append(session, DEPLOYMENTS, iso(at), actor, "emergency", None,
           {"request_id": request.id, "reason": reason,
            "versions": [{"process_key": pv.key, "version": pv.version} for pv in active]})
    return [_with_request(d, request.id) for d, _ in stored]


def _with_request(d: deploy_mod.Deployed, request_id: int) -> deploy_mod.Deployed:
    if d.status == "unchanged":
        return d
    return deploy_mod.Deployed(d.key, d.version, d.status, d.sha256, request_id)


def _start_request(session: Session, ctx: Context, approval: ProcessVersion, actor: str,
                   versions: list[ProcessVersion], data: dict) -> Instance:
    """The rule_change instance, started by the engine on the submitter's behalf (never by hand: its start
    event is a message nobody sends), with what changes in people's terms."""
    rows = [summary_row(session, pv) for pv in versions]
    start = {"changes": rows, **{k: v for k, v in data.items() if v not in ("", None)}}
    inst = _starting().begin(session, ctx, approval, specs_for(session, ctx.specs, approval.id), actor, start, None)
    for pv in versions:
        pv.change_request_id = inst.id
    return inst


# -- the request ends ------------------------------------------------------------------------------------


def _deciding_task(session: Session, inst: Instance) -> Task | None:
    return session.scalar(select(Task).where(Task.instance_id == inst.id, Task.status == "completed",
                                             Task.bpmn_id.in_((APPROVE, ACKNOWLEDGE)))
                          .order_by(Task.completed_at.desc(), Task.id.desc()).limit(1))


def _submitted(session: Session, inst: Instance, task: Task) -> dict:
    """What the decider submitted on the task, from the trail (a script in a crafted diagram cannot change it)."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(inst.id),
                                                      AuditEvent.kind == "completed")
                             .order_by(AuditEvent.position.desc()))
    for ev in events:
        payload = json.loads(ev.payload)
        if payload.get("task_id") == task.id:
            return payload.get("data") or {}
    return {}


def ended(session: Session, inst: Instance, data: dict, actor: str, at: datetime) -> None:
    """effects.HANDLERS["rule_change"]: the request completed; apply the general manager's decision."""
    versions = list(session.scalars(select(ProcessVersion).where(ProcessVersion.change_request_id == inst.id)
                                    .order_by(ProcessVersion.key)))
    if not versions:
        return
    task = _deciding_task(session, inst)
    if task is None:
        raise ProcessError(f"rule change {inst.id} ended without the general manager's decision; nothing changes")
    access.check_rule_change_decider(session, inst, task.completed_by)
    decision = _submitted(session, inst, task)
    approved = decision.get("approved") is True
    emergency_request = any(pv.status == ACTIVE for pv in versions)
    if emergency_request != (task.bpmn_id == ACKNOWLEDGE):
        raise ProcessError(f"rule change {inst.id} was decided on the wrong task ({task.bpmn_id}); nothing changes")
    entry = {"request_id": inst.id, "comment": decision.get("comment") or "",
             "versions": [{"process_key": pv.key, "version": pv.version} for pv in versions]}
    if emergency_request:
        append(session, DEPLOYMENTS, iso(at), task.completed_by, "acknowledged" if approved else "objected", None,
               entry)
        return
    for pv in versions:
        pv.status = ACTIVE if approved else RETURNED
        pv.decided_by, pv.decided_at = task.completed_by, at
    session.flush()
    append(session, DEPLOYMENTS, iso(at), task.completed_by, "approved" if approved else "returned", None, entry)
    if approved:
        # arming needs only a spec cache, and keeps no restored workflow (no Engine here)
        engine_view = SimpleNamespace(specs=SpecCache(), workflows=WarmWorkflows(0))
        for pv in versions:
            _starting().arm(session, engine_view, pv.key)  # a timer-started process waits for its first time


def cancelled(session: Session, inst: Instance, actor: str, at: datetime, reason: str) -> None:
    """effects.ON_CANCEL["rule_change"]: the request was withdrawn or cancelled; its drafts are withdrawn."""
    versions = list(session.scalars(select(ProcessVersion).where(ProcessVersion.change_request_id == inst.id,
                                                                 ProcessVersion.status == DRAFT)))
    for pv in versions:
        pv.status, pv.decided_by, pv.decided_at = WITHDRAWN, actor, at
    append(session, DEPLOYMENTS, iso(at), actor, "withdrawn", None,
           {"request_id": inst.id, "reason": reason,
            "versions": [{"process_key": pv.key, "version": pv.version} for pv in versions]})


# -- reading -----------------------------------------------------------------------------------------------


def request_versions(session: Session, request_id: int) -> list[dict]:
    rows = session.scalars(select(ProcessVersion).where(ProcessVersion.change_request_id == request_id)
                           .order_by(ProcessVersion.key))
    return [{"key": pv.key, "name": pv.name, "version": pv.version, "status": pv.status,
             "emergency": bool(pv.emergency_reason)} for pv in rows]


def pending(session: Session) -> list[dict]:
    """Every request awaiting the general manager: {id, submitted_by, submitted_at, versions}."""
    ids = sorted({pv.change_request_id for pv in session.scalars(
        select(ProcessVersion).where(ProcessVersion.status == DRAFT)) if pv.change_request_id})
    result = []
    for request_id in ids:
        inst = session.get(Instance, request_id)
        result.append({"id": request_id, "submitted_by": inst.started_by if inst else None,
                       "submitted_at": inst.started_at.isoformat() if inst else None,
                       "versions": request_versions(session, request_id)})
    return result


def request_of(session: Session, request_id: int) -> Instance:
    inst = session.get(Instance, request_id) if isinstance(request_id, int) else None
    if inst is None or inst.process_key != PROCESS:
        raise NotFound(f"no rule change request {request_id}")
    return inst
