"""Who is told what, written in the transaction that caused it (nothing sent from here).

- offered: a task became ready (or was reassigned): its assignee, or every holder of its role whom
  separation of duties allows (engine/runtime/access.py decides, as for the inbox);
- decided: an instance ended: the person who started it, with the outcome;
- overdue: a ready task passed its due time: the same people as for offered; noticed by the worker
  (scan_overdue), once per task (NotificationMark settles racing workers).

The person whose own command caused it is not told (they are looking at it). Each person's choices
(preferences.py) decide whether a row is shown in the app and whether it is e-mailed.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Integer, Select, String, Text, bindparam, case, exists, insert, literal, or_, select
from sqlalchemy.orm import Session

from engine.notify import preferences
from engine.runtime import access
from engine.store.driver_sql import DriverStatement
from engine.store.models import READY, Instance, Notification, NotificationMark, ProcessVersion, Task, User
from engine.store.types import UTCDateTime

if TYPE_CHECKING:
    from engine.runtime.context import Context

OVERDUE_BATCH = 200  # tasks per worker pass; the next pass takes the rest


def after_step(session: Session, instance: Instance, ready: list[Task], ended: bool, actor: str,
               at: datetime, process_names: dict[str, str] | None = None) -> None:
    """A recorded step: tell who the tasks it made ready wait for, and the requester if it ended the case.
    `process_names` ({zh, en}) spares a read when the caller has the version's model at hand."""
    names = _Names(session)
    if process_names is not None:
        names.names[instance.process_version_id] = process_names
    for row in ready:
        if row.status == "ready":
            _tell(session, access.waiting_for(session, row, instance), "offered", instance, row,
                  {**names.case(instance), "task": _titles(row)}, actor, at)
    if ended:
        _tell(session, _requester(instance), "decided", instance, None,
              {**names.case(instance), "outcome": instance.outcome}, actor, at)


def task_assigned(session: Session, row: Task, instance: Instance, actor: str, at: datetime) -> None:
    """A manager gave the task to someone: they are told it waits for them, and by whom."""
    by = session.scalar(select(User.display_name).where(User.username == actor))
    _tell(session, access.waiting_for(session, row, instance), "offered", instance, row,
          {**_Names(session).case(instance), "task": _titles(row), "by": by or actor}, actor, at)


def scan_overdue(ctx: Context) -> int:
    """Worker: announce every ready task whose due time passed and that was not announced yet; how many."""
    now = ctx.clock.now()
    announced = select(NotificationMark.subject).where(NotificationMark.kind == "overdue",
                                                       NotificationMark.subject == Task.id)
    with ctx.db.read() as s:
        # the literal status: ix_task_status_due holds the open tasks with a deadline only (migration 0022)
        due = list(s.scalars(select(Task.id).where(Task.status == READY, Task.due_at.is_not(None),
                                                    Task.due_at <= now, ~exists(announced))
                             .order_by(Task.due_at, Task.id).limit(OVERDUE_BATCH)))
    count = 0
    for task_id in due:
        with ctx.db.write() as s:
            count += _announce_overdue(s, task_id, now)
    return count


def _announce_overdue(session: Session, task_id: str, now: datetime) -> int:
    """One task, in its own transaction: the mark goes in first; a worker that loses the race on it
    (the unique key) writes nothing."""
    if not _claim_mark(session, "overdue", task_id, now):
        return 0
    row = session.get(Task, task_id)
    if row is None or row.status != "ready" or row.due_at is None or row.due_at > now:
        return 0
    instance = session.get(Instance, row.instance_id)
    if instance is None or instance.status != "running":
        return 0
    params = {**_Names(session).case(instance), "task": _titles(row), "due_at": row.due_at.isoformat()}
    _tell(session, access.waiting_for(session, row, instance), "overdue", instance, row, params, None, now)
    return 1


def _claim_mark(session: Session, kind: str, subject: str, at: datetime) -> bool:
    """Insert the mark unless it exists: True for the one transaction that inserted it. On PostgreSQL a
    second inserter waits for the first to commit and then inserts nothing; SQLite runs writers one at
    a time."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = (upsert(NotificationMark).values(kind=kind, subject=subject, at=at).on_conflict_do_nothing()
                 .returning(NotificationMark.subject))
    return session.execute(statement).first() is not None


def _requester(instance: Instance) -> access.Waiting:
    """The person who started the instance, told how it ended (if still an active account)."""
    return access.Waiting(_REQUESTER, {"who": instance.started_by}, frozenset())


_REQUESTER = preferences.people(with_choice=True).where(User.username == bindparam("who"))


def _tell(session: Session, whom: access.Waiting, kind: str, instance: Instance, task: Task | None,
          params: dict, actor: str | None, at: datetime) -> None:
    """A notification row for each of these people who chose to be told of `kind` in the app or by e-mail
    (preferences.told), except the actor: one INSERT … SELECT, the people and their choices never read
    into Python."""
    barred = sorted(whom.barred | {actor} if actor is not None else whom.barred)
    _insert_from(whom.statement, len(barred)).execute(session, {
        **whom.params, "kind": kind, **{f"barred{i}": name for i, name in enumerate(barred)},
        "instance_id": instance.id, "task_id": task.id if task is not None else None,
        "params": _PARAMS_TEXT.encode(params), "at": at})


_PARAMS_TEXT = json.JSONEncoder(ensure_ascii=False, sort_keys=True)  # json.dumps' encoder with these, kept


@functools.lru_cache(maxsize=64)
def _insert_from(people: Select, barred: int) -> DriverStatement:
    """INSERT … SELECT of notification rows from a query of `preferences.people(with_choice=True)` (one of
    a few built once each: access.waiting_for, _REQUESTER), built once per query and number of people barred
    (`:barred0`, …: one parameter each, not an expanding list, which SQLAlchemy rewrote into the statement's
    text at every execution)."""
    person = people.subquery("person")
    in_app, email = preferences.told(person.c)
    at = bindparam("at", type_=UTCDateTime)
    rows = (select(person.c.username, bindparam("kind", type_=String), bindparam("instance_id", type_=Integer),
                   bindparam("task_id", type_=String), bindparam("params", type_=Text), at, in_app,
                   case((email, "pending")), literal(0), case((email, at)))
            .where(*([person.c.username.not_in([bindparam(f"barred{i}", type_=String) for i in range(barred)])]
                     if barred else []), or_(in_app, email))
            .order_by(person.c.username))
    return DriverStatement(insert(Notification.__table__).from_select(
        ["username", "kind", "instance_id", "task_id", "params", "created_at", "in_app", "email_status",
         "email_attempts", "email_next_at"], rows))


def _titles(row: Task) -> dict[str, str]:
    return {"zh": row.title, "en": row.title_en or row.title}


_PROCESS_NAMES: dict[tuple[str, str], dict[str, str]] = {}  # (version sha256, key): names; versions never change


class _Names:
    """The process names of the versions met in one transaction (each version's model read once per
    process: keyed by its content hash, which no other version shares)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.names: dict[int, dict[str, str]] = {}

    def case(self, instance: Instance) -> dict:
        vid = instance.process_version_id
        if vid not in self.names:
            # the model (large) is read only for a version not met before in this process
            pv = self.session.execute(select(ProcessVersion.sha256, ProcessVersion.key, ProcessVersion.name)
                                      .where(ProcessVersion.id == vid)).one()
            cached = _PROCESS_NAMES.get((pv.sha256, pv.key))
            if cached is None or cached["zh"] != pv.name:
                model_json = self.session.scalar(select(ProcessVersion.model_json).where(ProcessVersion.id == vid))
                model = json.loads(model_json).get(pv.key) or {}
                cached = {"zh": pv.name, "en": model.get("name_en") or pv.name}
                if len(_PROCESS_NAMES) > 1000:
                    _PROCESS_NAMES.clear()
                _PROCESS_NAMES[(pv.sha256, pv.key)] = cached
            self.names[vid] = cached
        return {"process": self.names[vid], "customer": instance.customer_name,
                "business_key": instance.business_key}
