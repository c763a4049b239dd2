"""Where a request stands for the people waiting on it: the tasks it waits at, for whom (a role, or a
person with their display name), and which of them the user who just acted could work next.

The pages use it after a completed task (go straight on to the next task, or say where the request
went) and on the requester's list ("my requests"). Who may work a task is access.task_actions' answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.runtime import access
from engine.runtime.loading import get_instance
from engine.runtime.queries import task_dict
from engine.store.models import Instance, Task, User
from engine.users import Person

MAX_INSTANCES = 200  # one page of a list at most; a longer list is paged by its caller


def _waiting(session: Session, instance_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """{instance id: its ready tasks, oldest first, each with `assignee_name` (the display name)}."""
    found: dict[int, list[dict]] = {i: [] for i in instance_ids}
    if not instance_ids:
        return found
    rows = session.execute(select(Task, User.display_name).outerjoin(User, User.username == Task.assignee)
                           .where(Task.instance_id.in_(instance_ids), Task.status == "ready")
                           .order_by(Task.instance_id, Task.created_at, Task.id))
    for task, display_name in rows:
        found[task.instance_id].append({**task_dict(task, now),
                                        "assignee_name": (display_name or task.assignee) if task.assignee else None})
    return found


def waiting(session: Session, user: Person, instance_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """{instance id: where it waits} for those of these instances the user may see; the others are
    left out, as if they did not exist (engine.runtime.access)."""
    if (not isinstance(instance_ids, list) or len(instance_ids) > MAX_INSTANCES
            or any(isinstance(i, bool) or not isinstance(i, int) for i in instance_ids)):
        raise InvalidData(f"instance_ids must be a list of at most {MAX_INSTANCES} instance ids")
    query = select(Instance.id).where(Instance.id.in_(instance_ids))
    if (seen := access.visible(session, user)) is not None:
        query = query.where(seen)
    return _waiting(session, sorted(set(session.scalars(query))), now)


def after_step(session: Session, user: Person, instance_id: int, now: datetime) -> dict:
    """{id, status, outcome, next_task, waiting}: where the instance stands right after this user acted.
    `next_task` is the id of one of its ready tasks the user may work now (one assigned to them first,
    then one offered to a role of theirs), or None; `waiting` lists every ready task with whom it waits for."""
    inst = get_instance(session, instance_id)
    access.check_may_see(session, user, inst)
    ready = list(session.scalars(select(Task).where(Task.instance_id == inst.id, Task.status == "ready")
                                 .order_by(Task.created_at, Task.id)))
    workable = [t for t in ready if access.task_actions(session, user, t, inst)["complete"]]
    workable.sort(key=lambda t: t.assignee != user.username)  # stable: mine first, then oldest first
    return {"id": inst.id, "status": inst.status, "outcome": inst.outcome,
            "next_task": workable[0].id if workable else None,
            "waiting": _waiting(session, [inst.id], now)[inst.id]}
