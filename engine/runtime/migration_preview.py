"""What a process owner confirms before migrating: each running instance of an older version with
where it stands now (its open tasks, and who holds them) and whether it can move.

Whether it can move, and why not, is `migration.plan`: the same checks `migrate` makes again for each
instance under its lock. This module only adds the instance's open tasks (the inbox rows) and the
display names of the people involved, so the page shows people by name and tasks by title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.runtime import migration
from engine.store.models import Task, User

if TYPE_CHECKING:
    from engine.runtime.context import Context


def preview(ctx: Context, actor: str, key: str, to_version: int) -> list[dict]:
    """migration.plan's entries (instance_id, from_version, movable, reasons (English, by element id),
    messages ({zh, en} by element name, for the page), business_key, started_by, status), each with
    `started_by_name` and `tasks`: [{id, bpmn_id, title, title_en, role, assignee, assignee_name}]
    in the order they became ready (empty when the instance waits for an event)."""
    entries = migration.plan(ctx, actor, key, to_version)
    if not entries:
        return []
    ids = [e["instance_id"] for e in entries]
    with ctx.db.read() as s:
        rows = list(s.scalars(select(Task).where(Task.instance_id.in_(ids), Task.status == "ready")
                              .order_by(Task.created_at, Task.id)))
        people = {e["started_by"] for e in entries} | {r.assignee for r in rows if r.assignee}
        names = {u: n for u, n in s.execute(select(User.username, User.display_name).where(User.username.in_(people)))}
    tasks: dict[int, list[dict]] = {}
    for r in rows:
        tasks.setdefault(r.instance_id, []).append({
            "id": r.id, "bpmn_id": r.bpmn_id, "title": r.title, "title_en": r.title_en or r.title,
            "role": r.role, "assignee": r.assignee, "assignee_name": names.get(r.assignee, r.assignee)})
    return [{**e, "started_by_name": names.get(e["started_by"], e["started_by"]),
             "tasks": tasks.get(e["instance_id"], [])} for e in entries]
