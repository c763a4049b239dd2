"""A person's notifications: the list (newest first), the unread count, marking read. Each person
reads and marks only their own; another's id is answered as a missing one."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.errors import InvalidData, NotFound
from engine.notify import texts
from engine.store.models import Notification, Task

MAX_PAGE = 200
MAX_ID = 2**31 - 1


def _unread(username: str):  # noqa: ANN202 - a where clause
    return (Notification.username == username, Notification.in_app.is_(True), Notification.read_at.is_(None))


def unread_count(session: Session, username: str) -> int:
    return session.scalar(select(func.count(Notification.id)).where(*_unread(username))) or 0


def listing(session: Session, username: str, limit: int = 50, before: int | None = None) -> dict:
    """{items: [view], unread, more}: the newest `limit` shown in the app (older than id `before`)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE:
        raise InvalidData(f"limit must be 1-{MAX_PAGE}", {"limit": {"zh": f"须为1-{MAX_PAGE}", "en": f"1-{MAX_PAGE}"}})
    query = select(Notification).where(Notification.username == username, Notification.in_app.is_(True))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    open_tasks = _ready(session, {r.task_id for r in rows[:limit] if r.task_id})
    return {"items": [view(r, r.task_id in open_tasks) for r in rows[:limit]],
            "unread": unread_count(session, username), "more": len(rows) > limit}


def _ready(session: Session, task_ids: set[str]) -> set[str]:
    if not task_ids:
        return set()
    return set(session.scalars(select(Task.id).where(Task.id.in_(task_ids), Task.status == "ready")))


def view(row: Notification, task_open: bool) -> dict:
    """One notification as the pages and the API show it: its words in both languages, and where it
    leads: the task while it is still open, else the instance."""
    params = json.loads(row.params or "{}")
    return {"id": row.id, "kind": row.kind, "instance_id": row.instance_id, "task_id": row.task_id,
            "created_at": row.created_at.isoformat(), "read": row.read_at is not None,
            **texts.both(row.kind, params, row.instance_id),
            "target": "task" if row.task_id and task_open else "instance"}


def mark_read(session: Session, username: str, notification_id: int, at: datetime) -> dict:
    valid = isinstance(notification_id, int) and not isinstance(notification_id, bool) and 0 < notification_id <= MAX_ID
    row = session.get(Notification, notification_id) if valid else None
    if row is None or row.username != username or not row.in_app:
        raise NotFound(f"no notification {notification_id}")
    if row.read_at is None:
        row.read_at = at
    return view(row, bool(row.task_id) and bool(_ready(session, {row.task_id})))


def mark_all_read(session: Session, username: str, at: datetime) -> int:
    """Mark every unread notification of the person read; how many were."""
    return session.execute(update(Notification).where(*_unread(username)).values(read_at=at)).rowcount or 0
