"""Read side: inbox, task, instance and history views as plain dicts.

The shapes are the API's (DESIGN.md): an instance is {id, process_key, version,
business_key, status, data, tasks}; a task is {id, instance_id, process_key,
name, title, role, assignee, status, created_at, due_at}.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.audit.chain import instance_chain
from engine.errors import NotFound
from engine.runtime import access
from engine.runtime.loading import form_of
from engine.store.models import AuditEvent, Instance, ProcessVersion, Task, User
from engine.users import roles_of


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task_dict(row: Task, now: datetime | None = None) -> dict:
    return {"id": row.id, "instance_id": row.instance_id, "process_key": row.process_key, "name": row.bpmn_id,
            "title": row.title, "role": row.role, "assignee": row.assignee, "status": row.status,
            "created_at": _ts(row.created_at), "due_at": _ts(row.due_at),
            "overdue": bool(now and row.due_at and row.status == "ready" and row.due_at < now),
            "completed_by": row.completed_by, "completed_at": _ts(row.completed_at)}


def inbox(session: Session, user: User, now: datetime) -> list[dict]:
    """Ready tasks assigned to the user or offered (unclaimed) to one of their roles,
    without those separation of duties forbids them."""
    roles = roles_of(user)
    query = (select(Task).where(Task.status == "ready")
             .where(or_(Task.assignee == user.username, (Task.assignee.is_(None)) & Task.role.in_(roles)))
             .order_by(Task.created_at, Task.id))
    return [task_dict(r, now) for r in session.scalars(query) if not _sod_hides(session, user, r)]


def _sod_hides(session: Session, user: User, row: Task) -> bool:
    if not row.sod:
        return False
    return access.sod_violation(session, user, session.get(Instance, row.instance_id), row.sod_tokens) is not None


def task_detail(session: Session, user: User, task_id: str, now: datetime) -> dict:
    row = session.get(Task, str(task_id))
    if row is None:
        raise NotFound(f"no task {task_id}")
    inst = session.get(Instance, row.instance_id)
    access.check_may_see(session, user, inst)
    form = form_of(session, inst.process_version_id, row.form_key)
    result = task_dict(row, now)
    result["form"] = ({"key": form.key, "title": form.title, "schema": form.schema,
                       "ui": {"fields": form.fields, "messages": form.messages}} if form else None)
    result["instance_data"] = json.loads(inst.data_json)
    return result


def instance_dict(session: Session, inst: Instance, now: datetime) -> dict:
    pv = session.get(ProcessVersion, inst.process_version_id)
    tasks = session.scalars(select(Task).where(Task.instance_id == inst.id).order_by(Task.created_at, Task.id))
    all_tasks = [task_dict(t, now) for t in tasks]
    return {"id": inst.id, "process_key": inst.process_key, "version": pv.version, "business_key": inst.business_key,
            "status": inst.status, "data": json.loads(inst.data_json), "started_by": inst.started_by,
            "started_at": _ts(inst.started_at), "ended_at": _ts(inst.ended_at), "rev": inst.rev,
            "tasks": [t for t in all_tasks if t["status"] == "ready"],
            "history_tasks": [t for t in all_tasks if t["status"] != "ready"]}


def instance_view(session: Session, user: User, instance_id: int, now: datetime) -> dict:
    inst = session.get(Instance, instance_id)
    if inst is None:
        raise NotFound(f"no instance {instance_id}")
    access.check_may_see(session, user, inst)
    return instance_dict(session, inst, now)


def history(session: Session, user: User, instance_id: int) -> list[dict]:
    inst = session.get(Instance, instance_id)
    if inst is None:
        raise NotFound(f"no instance {instance_id}")
    access.check_may_see(session, user, inst)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(instance_id))
                           .order_by(AuditEvent.position))
    return [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
             "payload": json.loads(r.payload), "hash": r.hash} for r in rows]


def processes(session: Session) -> list[dict]:
    rows = session.scalars(select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version.desc()))
    latest: dict[str, ProcessVersion] = {}
    for pv in rows:
        latest.setdefault(pv.key, pv)
    result = []
    for pv in latest.values():
        model = json.loads(pv.model_json)[pv.key]
        result.append({"key": pv.key, "name": pv.name, "version": pv.version, "deployed_at": _ts(pv.deployed_at),
                       "starters": model["starters"], "documentation": model["documentation"]})
    return result
