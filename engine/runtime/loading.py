"""Loading rows under the locks a command needs."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import Boolean, ColumnElement, Executable, and_, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from engine.audit.chain import instance_chain, instance_chain_of, remember_head
from engine.errors import Conflict, Halted, NotFound
from engine.process import workflow
from engine.process.specs import SpecCache, SpecSet
from engine.store import loaded
from engine.store.driver_sql import DriverStatement
from engine.store.models import AuditChain, Form, Instance, ProcessVersion, Task
from engine.users import ACTOR_COLUMNS, Actor, actor_of, get_actor, may_exist, with_actor

if TYPE_CHECKING:
    from engine.definitions.current import VersionRef
    from engine.forms import FormDef

MAX_ID = 2**31 - 1  # instance ids are 32-bit integers in every database we run on


def no_instance(instance_id: object) -> NotFound:
    """The answer for an instance that does not exist, or that the asker may not see (the same words,
    so that ids do not leak: engine.runtime.access.check_may_see)."""
    return NotFound(f"no instance {instance_id}")


def no_task(task_id: object) -> NotFound:
    return NotFound(f"no task {task_id}")


def valid_instance_id(instance_id: object) -> bool:
    """A whole number no instance id exceeds: anything else is answered "no instance", never given to
    the database (PostgreSQL refuses an integer out of range, SQLite one beyond 64 bits)."""
    return isinstance(instance_id, int) and not isinstance(instance_id, bool) and 0 < instance_id <= MAX_ID


def get_instance(session: Session, instance_id: int) -> Instance:
    inst = session.get(Instance, instance_id) if valid_instance_id(instance_id) else None
    if inst is None:
        raise no_instance(instance_id)
    return inst


def view_instance_as(session: Session, instance_id: int, username: str) -> tuple[Instance, Actor]:
    """The instance for showing it, without its workflow state (the row's largest column, which a view never
    reads; loaded on first use if it did), and the actor `username` (users.get_actor) in the same statement.
    "No active user" is still answered before "no instance", as the two reads one after the other did."""
    if not may_exist(username) or not valid_instance_id(instance_id):
        get_actor(session, username)  # NotFound for a name we could not have stored
        raise no_instance(instance_id)
    found = _view_statement().rows(session, {"id": instance_id, "username": username})
    if not found:
        get_actor(session, username)  # NotFound first when there is no such user either
        raise no_instance(instance_id)
    inst = loaded.loaded(session, Instance, found[0][:loaded.width(Instance, _VIEW_WITHOUT)], _VIEW_WITHOUT)
    return inst, actor_of(found, username)


_VIEW_WITHOUT = ("state_json",)


@functools.cache
def _view_statement() -> DriverStatement:
    """The instance `id` (without its state) with the actor `username` (users.ACTOR_COLUMNS, one row per role;
    NULLs when no such active user): plain columns, the object made by engine/store/loaded.py; the driver's SQL."""
    inst = Instance.__table__
    return DriverStatement(with_actor(select(*loaded.columns(Instance, _VIEW_WITHOUT), *ACTOR_COLUMNS), inst)
                           .where(inst.c.id == bindparam("id")))


def valid_task_id(task_id: object) -> str | None:
    """The id as text if it is one SpiffWorkflow could have made (a UUID), else None: "no task" is the
    answer, and the database is never asked."""
    task_id = str(task_id) if isinstance(task_id, UUID) else task_id
    try:
        valid = isinstance(task_id, str) and len(task_id) <= 36 and str(UUID(task_id)) == task_id
    except ValueError:
        valid = False
    return task_id if valid else None


def get_task(session: Session, task_id: str) -> Task:
    """The task row; "no task" also for ids that are not UUIDs (SpiffWorkflow's task ids are)."""
    valid = valid_task_id(task_id)
    row = session.get(Task, valid) if valid else None
    if row is None:
        raise no_task(task_id)
    return row


def lock_instance(session: Session, instance_id: int, skip_locked: bool = False) -> Instance | None:
    """The instance row, locked until the transaction ends (FOR UPDATE on PostgreSQL;
    on SQLite the write transaction already holds the database lock). With
    skip_locked, None when another transaction holds it."""
    inst = _locked(session, "id", instance_id, skip_locked) if valid_instance_id(instance_id) else None
    if inst is None and skip_locked:
        return None
    if inst is None:
        raise no_instance(instance_id)
    return inst


# The command path's statements are built once per shape (and database) with bound parameters
# (functools.cache), so that each command reuses their memoized cache keys and compiled forms instead of
# building them anew (SQLAlchemy's statement building was about a fifth of a profiled command's time).


@functools.cache
def _lock_statement(sqlite: bool, by: str, skip_locked: bool) -> Executable:
    """The instance by its id (`by` "id") or by the id of one of its tasks ("task"), locked."""
    where = Instance.id == (bindparam("key") if by == "id" else
                            select(Task.instance_id).where(Task.id == bindparam("key")).scalar_subquery())
    if not sqlite:
        return (select(Instance).where(where).with_for_update(skip_locked=skip_locked)
                .execution_options(populate_existing=True))
    return (select(Instance, AuditChain).outerjoin(AuditChain, AuditChain.chain == instance_chain_of(Instance.id))
            .where(where).execution_options(populate_existing=True))


def _locked(session: Session, by: str, key: int | str, skip_locked: bool = False) -> Instance | None:
    """The instance row locked. On SQLite it comes with its audit chain's head, which the lock covers (every
    command that locks an instance appends to its trail). Not on PostgreSQL: a row read beside the locked
    one is the version from before the lock wait, and a racing command may have moved the head since."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    statement = _lock_statement(sqlite, by, skip_locked and not sqlite)
    if not sqlite:
        return session.scalar(statement, {"key": key})
    found = session.execute(statement, {"key": key}).first()
    if found is None:
        return None
    inst, head = found
    remember_head(session, instance_chain(inst.id), head)
    return inst


@functools.cache
def _task_rows_statement() -> Executable:
    """PostgreSQL: the task `task` and the open tasks of instance `instance`, with the chain head and the
    actor `username` (users.ACTOR_COLUMNS, one row per task and role; NULLs when no such active user)."""
    mine = Task.instance_id == bindparam("instance"), or_(Task.id == bindparam("task"), Task.status == "ready")
    statement = (select(Task, AuditChain, *ACTOR_COLUMNS).select_from(Task)
                 .outerjoin(AuditChain, AuditChain.chain == instance_chain_of(Task.instance_id)))
    return with_actor(statement, Task).where(*mine).execution_options(populate_existing=True)


@functools.cache
def _lock_task_sqlite_statement() -> DriverStatement:
    """SQLite: the instance of task `task`, its chain's head, its task rows and the actor `username`: plain
    columns (engine/store/loaded.py makes the objects), in the order `_sqlite_layout` reads them; the driver's SQL."""
    inst, chain, task = Instance.__table__, AuditChain.__table__, Task.__table__
    owner = select(task.c.instance_id).where(task.c.id == bindparam("task")).scalar_subquery()
    statement = (select(*loaded.columns(Instance), *loaded.columns(AuditChain), *loaded.columns(Task),
                        *ACTOR_COLUMNS).select_from(inst)
                 .outerjoin(chain, chain.c.chain == instance_chain_of(inst.c.id))
                 .join_from(inst, task, and_(task.c.instance_id == inst.c.id,
                                             _no_index(or_(task.c.id == bindparam("task"), task.c.status == "ready")))))
    return DriverStatement(with_actor(statement, inst).where(inst.c.id == owner))


@functools.cache
def _sqlite_layout() -> tuple[slice, slice, slice]:
    """Where the instance's, the chain head's and the task's columns are in a row of the statement above."""
    i, h, t = loaded.width(Instance), loaded.width(AuditChain), loaded.width(Task)
    return slice(0, i), slice(i, i + h), slice(i + h, i + h + t)


def _no_index(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQLite's unary `+` (a no-op) on a condition, so that the planner does not weigh an index for it: the
    task join's `id = ? OR status = ?`, once the instance's index found its few rows, cost ~40 µs more per
    execution without it (SQLite 3.40; EXPLAIN showed the same plan either way)."""
    return UnaryExpression(condition.self_group(), operator=custom_op("+"), type_=Boolean)


def lock_task_as(session: Session, task_id: str, username: str) -> tuple[Task, Instance, Actor]:
    """`lock_task` and the actor `username` (users.get_actor) in its statements, not one of their own:
    "no task" is still answered before "no active user", as the two reads one after the other did."""
    if not may_exist(username):
        row, inst = lock_task(session, task_id)
        return row, inst, get_actor(session, username)  # NotFound, without asking the database
    found: list = []
    row, inst = lock_task(session, task_id, username, found)
    return row, inst, actor_of(found, username)


def lock_task(session: Session, task_id: str, username: str | None = None,
              actor_rows: list | None = None) -> tuple[Task, Instance]:
    """The task and its instance. The instance is locked first (found through the task, whose instance
    never changes) and the task read after the lock is held, so that a racing command that finished
    first is seen. Two statements on PostgreSQL: one join would read the task from before the lock
    wait, and locking the task row too could deadlock with a command holding the instance (one on
    SQLite, whose lock is taken before any read).

    The second statement also reads the instance's other open task rows (the step that follows
    closes or keeps them: `remember_open_tasks`) and, on PostgreSQL, its audit chain's head: read
    after the lock, both are current, and the instance lock covers them (every command that changes
    them holds it), so neither needs a statement of its own later."""
    valid = valid_task_id(task_id)
    if valid and session.get_bind().dialect.name == "sqlite":
        return _lock_task_sqlite(session, task_id, valid, username, actor_rows)
    inst = _locked(session, "task", valid) if valid else None
    if inst is None:
        raise no_task(task_id)
    found = session.execute(_task_rows_statement(), {"instance": inst.id, "task": valid, "username": username}).all()
    if actor_rows is not None:
        actor_rows.extend(found)
    rows = list({id(r[0]): r[0] for r in found}.values())  # a task once per role of the actor
    if found:
        remember_head(session, instance_chain(inst.id), found[0][1])
    return _kept(session, inst, rows, valid), inst


def _lock_task_sqlite(session: Session, task_id: str, valid: str, username: str | None,
                      actor_rows: list | None) -> tuple[Task, Instance]:
    """SQLite: the write transaction holds the database lock from its BEGIN, so the instance, its chain's
    head, its task rows and the actor (users.ACTOR_COLUMNS: one row per task and role) come in one
    statement."""
    found = _lock_task_sqlite_statement().rows(session, {"task": valid, "username": username})
    if not found:
        raise no_task(task_id)
    if actor_rows is not None:
        actor_rows.extend(found)
    at_inst, at_head, at_task = _sqlite_layout()
    inst = loaded.loaded(session, Instance, found[0][at_inst])
    remember_head(session, instance_chain(inst.id), loaded.loaded(session, AuditChain, found[0][at_head]))
    tasks: dict[str, Task] = {}
    for row in found:  # a task once per role of the actor
        values = row[at_task]
        if values[0] not in tasks:
            tasks[values[0]] = loaded.loaded(session, Task, values)
    return _kept(session, inst, list(tasks.values()), valid), inst


def _kept(session: Session, inst: Instance, rows: list[Task], valid: str) -> Task | None:
    """The task `valid` among the rows read; the ready ones are kept for the step that follows."""
    remember_open_tasks(session, inst.id, {r.id: r for r in rows if r.status == "ready"})
    return next((r for r in rows if r.id == valid), None)


_OPEN = "open_tasks"  # session.info: (transaction, instance id, {task id: row}) read under the instance lock


def remember_open_tasks(session: Session, instance_id: int, rows: dict[str, Task]) -> None:
    """The instance's ready task rows as read under its lock, for the step that follows (`open_tasks`)."""
    session.info[_OPEN] = (session.get_transaction(), instance_id, rows)


def open_tasks(session: Session, instance_id: int) -> dict[str, Task] | None:
    """The ready rows `remember_open_tasks` kept, taken once: the first step of the instance in this
    transaction uses them, and any later step (which may follow one that changed rows) reads again.
    None when nothing was kept for it."""
    kept = session.info.pop(_OPEN, None)
    if kept is None or kept[0] is not session.get_transaction() or kept[1] != instance_id:
        return None
    return kept[2]


HALTED_MESSAGE = "this case is halted by an incident; an administrator must retry or cancel it"


def require_running(inst: Instance) -> None:
    if inst.status == "incident":
        raise Halted(f"instance {inst.id}: {HALTED_MESSAGE}")
    if inst.status != "running":
        raise Conflict(f"instance {inst.id} is {inst.status}")


def require_ready(row: Task) -> None:
    if row.status != "ready":
        raise Conflict(f"task {row.id} is no longer ready (it is {row.status})")


def specs_for(session: Session, cache: SpecCache, version_id: int) -> SpecSet:
    def load() -> tuple[str, str]:
        pv = session.get(ProcessVersion, version_id)
        return pv.spec_json, pv.model_json

    return cache.get(version_id, load)


def load_workflow(inst: Instance, specs: SpecSet):  # noqa: ANN201 - BpmnWorkflow
    return workflow.load(specs, inst.state_json, inst.serializer_version)


def form_of(session: Session, version_id: int, form_key: str | None,
            cache: SpecCache | None = None) -> FormDef | None:
    """The form `form_key` of this version; read once per version when given the spec cache (a deployed
    version's forms never change)."""
    if not form_key:
        return None
    if cache is None:
        return _read_form(session, version_id, form_key)
    return cache.form(version_id, form_key, lambda: _read_form(session, version_id, form_key))


def _read_form(session: Session, version_id: int, form_key: str) -> FormDef | None:
    import json

    from engine.forms import FormDef

    text = session.scalar(select(Form.definition).where(Form.process_version_id == version_id,
                                                        Form.form_key == form_key))
    return FormDef.from_dict(json.loads(text)) if text else None


def latest_version_as(session: Session, key: str, username: str) -> tuple[VersionRef, Actor]:
    """`latest_version` and the actor `username` (users.get_actor) in one statement: "no active user" is still
    answered before "no deployed process", as the two reads one after the other did."""
    from engine.definitions.current import current_version_as

    pv, rows = current_version_as(session, key, username) if may_exist(username) else (None, [])
    if pv is None:
        get_actor(session, username)  # NotFound when there is no such user
        raise NotFound(f"no deployed process {key}")
    return pv, actor_of(rows, username)


def latest_version(session: Session, key: str) -> ProcessVersion:
    """The version new instances of `key` start on (engine/definitions/current.py): never a draft."""
    from engine.definitions.current import current_version

    pv = current_version(session, key)
    if pv is None:
        raise NotFound(f"no deployed process {key}")
    return pv
