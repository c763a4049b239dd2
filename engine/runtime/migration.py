"""Moving running instances to a newer version of their process.

An instance can move when the new version still has every element the instance stands on
or has passed: its open tasks (ready, waiting, started) and the tasks that already ran
(the state keeps them, by name) need an element of the same id and kind in the new version.
Its ready user tasks must also keep a compatible form:

- the same form key, and
- nothing new to fill in: every field the new form may require (its `required`, also inside
  allOf/anyOf/oneOf/then/else, and dependentRequired) is a field of the old form. Whoever was
  offered the task under the old form is never asked for a field that form did not have.

What comes after the open tasks may change freely: SpiffWorkflow predicts it again from the new
version (`engine.process.workflow.migrate`). A timer that is already waiting keeps its deadline.

Instances halted by an incident move too (that is how a fixed version reaches them; they stay
halted until an administrator retries), except a message-started one whose first step failed: it
has no state yet, and its retry starts the latest version anyway.

`migrate` moves each instance in its own transaction with its row locked, checks it again
there (the dry run may be stale), and records a `migrated` command event whose digest replay
checks: replay switches to the new version's specs at that event and migrates its workflow
through the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.current import require_active
from engine.definitions.labels import element_names
from engine.definitions.serializer import SERIALIZER_VERSION
from engine.errors import NotFound, Unavailable
from engine.kpi import case_rows, score_rows
from engine.process import failures, workflow
from engine.process.deadlines import task_deadline
from engine.process.routing import due_at, element_of, offer
from engine.process.specs import SpecSet
from engine.runtime import access, messaging, sla
from engine.runtime.commands import load_step
from engine.runtime.incidents import HALTED, LIVE, open_incidents, resolve
from engine.runtime.loading import form_of, load_workflow, lock_instance, specs_for
from engine.store.models import Instance, ProcessVersion, Task

if TYPE_CHECKING:
    from engine.runtime.context import Context

_OPEN = {"READY", "WAITING", "STARTED"}
_FINISHED = {"COMPLETED", "CANCELLED", "ERROR"}


@dataclass(frozen=True)
class Reason:
    """Why an instance cannot move. `text` is English naming elements by id (logs, API clients, the CLI;
    stable across renames); `zh` and `en` are what the owner reads, naming elements by their name in the
    version (an unnamed one by its kind in words, docs/modelling.md)."""

    text: str
    zh: str = field(compare=False)
    en: str = field(compare=False)

    def messages(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


class _Skip(Exception):
    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__("; ".join(r.text for r in reasons))
        self.reasons = reasons


# a task's state in words (SpiffWorkflow's state names)
_STATES = {"ready": ("ready", "待处理"), "waiting": ("waiting", "等待中"), "started": ("started", "进行中"),
           "completed": ("completed", "已完成"), "cancelled": ("cancelled", "已取消"), "error": ("error", "出错"),
           "future": ("future", "未到达"), "likely": ("likely", "可能到达"), "maybe": ("maybe", "可能到达")}


def target_version(session: Session, key: str, version: int) -> ProcessVersion:
    pv = session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version))
    if pv is None:
        raise NotFound(f"no version {version} of process {key}")
    return require_active(pv)  # a draft, returned or withdrawn version takes no instance


# -- the rule ------------------------------------------------------------------------------------
def required_fields(schema: dict) -> set[str]:
    """Every field a form schema may require, whatever the data."""
    if not isinstance(schema, dict):
        return set()
    names = {n for n in schema.get("required") or [] if isinstance(n, str)}
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            names |= required_fields(sub)
    for key in ("then", "else"):
        names |= required_fields(schema.get(key))
    for listed in (schema.get("dependentRequired") or {}).values():
        names |= {n for n in listed if isinstance(n, str)}
    return names


def _gap_texts(gap: workflow.Gap, from_v: int, to_v: int) -> tuple[str, str]:
    """(English, Chinese) after the element: "<element>: ..." (the element is put in by the caller)."""
    state = gap.state.lower()
    en_state, zh_state = _STATES.get(state, (state, state))
    if gap.problem == "type":
        old, new = gap.detail.split(" -> ")
        return (f"is a {old} in version {from_v} but a {new} in version {to_v}",
                f"在版本 {from_v} 中是 {old}，在版本 {to_v} 中却是 {new}")
    if gap.problem == "boundary":
        zh_change = "增加了" if gap.detail == "gains" else "去掉了"
        return (f"the instance is at this element ({en_state}), which {gap.detail} boundary events (a deadline, "
                f"a reminder) in version {to_v}; it can move once it is past it",
                f"实例正停在这一步（{zh_state}），而版本 {to_v} 在这一步{zh_change}边界事件（期限、提醒）；"
                f"实例走过这一步后即可迁移")
    if gap.problem == "called":
        return (f"calls another process in version {to_v} ({gap.detail})",
                f"在版本 {to_v} 中调用了另一个流程（{gap.detail}）")
    if gap.detail:
        return (f"version {to_v} has no sub-process {gap.detail} for the part that runs here",
                f"版本 {to_v} 中没有子流程 {gap.detail}，无法承接这里正在运行的部分")
    if gap.state in _OPEN:
        return (f"the instance is at this element ({en_state}), which version {to_v} no longer has",
                f"实例正停在这一步（{zh_state}），而版本 {to_v} 中已没有这一步")
    if gap.state in _FINISHED:
        return (f"already {en_state} here, and version {to_v} no longer has it to keep that history",
                f"这一步已{zh_state}，而版本 {to_v} 中已没有这一步，无法保留这段历史")
    return (f"comes next ({en_state}) but version {to_v} no longer has it",
            f"这是接下来的一步（{zh_state}），但版本 {to_v} 中已没有这一步")


def _reason(el: str, names: dict[str, dict[str, str]], texts: tuple[str, str]) -> Reason:
    """The reason about element `el`: by id in `text`, by its name in the version in `zh` / `en`."""
    name = names.get(el) or {"zh": el, "en": el}  # not an element of either version's diagrams: only its id
    en, zh = texts
    return Reason(f"{el}: {en}", zh=f"“{name['zh']}”：{zh}", en=f"{name['en']}: {en}")


def reasons(session: Session, wf, old: SpecSet, new: SpecSet, from_pv: ProcessVersion,  # noqa: ANN001
            to_pv: ProcessVersion) -> list[Reason]:
    """Why this workflow cannot move from `from_pv` to `to_pv`; empty when it can. Elements are named as
    the instance's version names them (else as the new version does)."""
    names = {**element_names(new.models.values()), **element_names(old.models.values())}
    found = [_reason(g.element, names, _gap_texts(g, from_pv.version, to_pv.version))
             for g in workflow.migration_gaps(wf, new)]
    for task in wf.get_tasks(state=TaskState.READY, manual=True):
        before, after = element_of(old, task), element_of(new, task)
        if before is None or after is None:
            continue
        el = task.task_spec.bpmn_id
        if before.form_key != after.form_key:
            found.append(_reason(el, names, (
                f"its form changes from {before.form_key or 'none'} to {after.form_key or 'none'}",
                f"表单从 {before.form_key or '（无）'} 变为 {after.form_key or '（无）'}")))
            continue
        if not before.form_key:
            continue
        old_form = form_of(session, from_pv.id, before.form_key)
        new_form = form_of(session, to_pv.id, after.form_key)
        if old_form is None or new_form is None:
            continue
        had = set((old_form.schema.get("properties") or {}).keys())
        extra = sorted(required_fields(new_form.schema) - had)
        if extra:
            found.append(_reason(el, names, (
                f"form {after.form_key} of version {to_pv.version} requires {', '.join(extra)}, "
                f"which the form of version {from_pv.version} did not have",
                f"版本 {to_pv.version} 的表单 {after.form_key} 要求填写 {'、'.join(extra)}，"
                f"而版本 {from_pv.version} 的表单中没有这些字段")))
    return list({r.text: r for r in found}.values())


# -- dry run -------------------------------------------------------------------------------------
def _candidates(session: Session, key: str, target: ProcessVersion) -> list[tuple[Instance, ProcessVersion]]:
    query = (select(Instance, ProcessVersion).join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
             .where(Instance.process_key == key, Instance.status.in_(LIVE), Instance.rev > 0,
                    ProcessVersion.version < target.version)
             .order_by(Instance.id))
    return list(session.execute(query).tuples())


def plan(ctx: Context, actor: str, key: str, to_version: int) -> list[dict]:
    with ctx.db.read() as s:
        access.check_process_owner(s, actor)
        target = target_version(s, key, to_version)
        new = specs_for(s, ctx.specs, target.id)
        result = []
        for inst, pv in _candidates(s, key, target):
            old = specs_for(s, ctx.specs, pv.id)
            why = reasons(s, load_workflow(inst, old), old, new, pv, target)
            result.append({"instance_id": inst.id, "from_version": pv.version, "movable": not why,
                           "reasons": [r.text for r in why], "messages": [r.messages() for r in why],
                           "business_key": inst.business_key, "started_by": inst.started_by, "status": inst.status})
        return result


# -- migrating -----------------------------------------------------------------------------------
def migrate(ctx: Context, actor: str, key: str, to_version: int) -> dict:
    with ctx.db.read() as s:
        access.check_process_owner(s, actor)
        target = target_version(s, key, to_version)
        ids = [inst.id for inst, _pv in _candidates(s, key, target)]
    migrated, skipped = [], []
    for instance_id in ids:
        try:
            with ctx.db.write() as s:
                moved = _migrate_one(ctx, s, actor, instance_id, target.id)
        except _Skip as exc:
            skipped.append({"instance_id": instance_id, "reasons": [r.text for r in exc.reasons],
                            "messages": [r.messages() for r in exc.reasons]})
            continue
        except Unavailable:
            raise
        except Exception as exc:  # rolled back: the instance stays where it was, and says why
            failed = f"the migration failed: {failures.describe(exc)}"
            skipped.append({"instance_id": instance_id, "reasons": [failed],
                            "messages": [{"zh": f"迁移失败：{failures.describe(exc)}", "en": failed}]})
            continue
        if moved:
            migrated.append(instance_id)
    return {"migrated": migrated, "skipped": skipped}


def _migrate_one(ctx: Context, s: Session, actor: str, instance_id: int, target_id: int) -> bool:
    """Move one instance, or raise _Skip (the transaction rolls back). False when it no longer
    needs moving (it ended, or another migration moved it first)."""
    inst = lock_instance(s, instance_id)
    source, target = s.get(ProcessVersion, inst.process_version_id), s.get(ProcessVersion, target_id)
    if inst.status not in LIVE or source.version >= target.version:
        return False
    # timers that fell due fire first, on the version they were set by; not those of a halted instance,
    # whose failed step is what the new version is to fix (they fire as it moves, or on the retry)
    step = load_step(ctx, s, inst, actor, overdue="skip" if inst.status == HALTED else "fire")
    if inst.status not in LIVE:
        return False
    new = specs_for(s, ctx.specs, target.id)
    why = reasons(s, step.wf, step.specs, new, source, target)
    if why:
        raise _Skip(why)
    workflow.migrate(step.wf, new)
    step.wf = workflow.load(new, workflow.dump(step.wf), SERIALIZER_VERSION)  # it must load under the new specs
    step.specs = new
    inst.process_version_id = target.id
    lanes = _refresh_open_tasks(s, inst, step.wf, new)
    payload = {"from_version": source.version, "to_version": target.version,
               "from_version_id": source.id, "to_version_id": target.id}
    if lanes:
        payload["lanes"] = lanes
    step.finish("migrated", None, payload)
    sla.refresh(s, inst.id)  # a task reset to ready under its id drops a late completion the step cannot see
    if inst.process_key in case_rows.tracked():  # and may undo a decided case's end: its KPI rows again
        case_rows.refresh(s, inst.id, inst.process_key, step.at)
    if inst.process_key in score_rows.tracked():  # a reset attribution task re-attributes its scores
        score_rows.refresh(s, inst.id, inst.process_key)
    messaging.route(s, ctx, step)
    if inst.status not in LIVE:  # a halted instance that the new version ran to its end
        resolve(open_incidents(s, inst.id), actor, step.at, "cancelled", "the case ended when it was migrated")
    return True


def _refresh_open_tasks(s: Session, inst: Instance, wf, specs: SpecSet) -> dict:  # noqa: ANN001
    """Open task rows take title, form, separation of duties and due date from the new version.
    A task whose lane changed goes back to the new lane's pool (or to the requester); returns
    {task id: [old role, new role]} for those."""
    lanes = {}
    for row in s.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "ready")):
        task = workflow.find_task(wf, row.id)
        if task is None or task.state != TaskState.READY:
            continue  # Step.finish marks it
        o = offer(specs, task, inst.started_by)
        row.title, row.title_en, row.form_key, row.sod = o.title, o.title_en, o.form_key, " ".join(o.sod)
        row.due_at = task_deadline(due_at(o.due, row.created_at, task.data), task)
        if o.role != row.role and not (o.owner_lane and row.role == access.CUSTOMER_OWNER_ROLE):  # sent to the owner
            lanes[row.id] = [row.role, o.role]
            row.role, row.assignee = o.role, o.assignee
    return lanes
