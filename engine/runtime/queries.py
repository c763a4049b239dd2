"""Read side: inbox, task, instance and history views as plain dicts.

The shapes are the API's (the REST API's, documented in openapi.json): an instance is {id, process_key, version,
business_key, status, data, tasks}; a task is {id, instance_id, process_key,
name, title, role, assignee, status, created_at, due_at}.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Select, bindparam, exists, func, literal, select, text, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from engine import form_prefill, outcomes
from engine.audit.chain import instance_chain
from engine.definitions.current import current_versions
from engine.definitions.documentation import summaries
from engine.definitions.model import ProcessModel, start_event, stored_model, stored_models
from engine.errors import Forbidden, InvalidData
from engine.forms import FormDef
from engine.process import observe
from engine.process.specs import SpecCache, SpecSet
from engine.runtime import access, incidents
from engine.runtime.loading import form_of, get_instance, get_task, latest_version, load_workflow, specs_for
from engine.store.driver_sql import DriverStatement
from engine.store.models import READY, AuditEvent, DefinitionFile, Form, Instance, ProcessVersion, Task, User, UserRole
from engine.store.types import UTCDateTime
from engine.users import Person, managed_roles, roles_of


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task_dict(row: Task, now: datetime | None = None) -> dict:
    return {"id": row.id, "instance_id": row.instance_id, "process_key": row.process_key, "name": row.bpmn_id,
            "title": row.title, "titles": {"zh": row.title, "en": row.title_en or row.title},
            "role": row.role, "assignee": row.assignee, "status": row.status,
            "created_at": _ts(row.created_at), "due_at": _ts(row.due_at),
            "overdue": bool(now and row.due_at and row.status == "ready" and row.due_at < now),
            "completed_by": row.completed_by, "completed_at": _ts(row.completed_at), "form_key": row.form_key}


MAX_PAGE = 1000  # the most rows one inbox call returns when paging


SORTS = ("created", "due")  # oldest first | earliest deadline first (tasks without one last, oldest first)


def inbox(session: Session | Connection, user: Person, now: datetime, process: str | None = None,
          role: str | None = None, overdue: bool | None = None, limit: int | None = None, offset: int = 0,
          sort: str = "created") -> list[dict]:
    """Ready tasks assigned to the user or offered (unclaimed) to one of their roles,
    without those separation of duties forbids them; optionally filtered, oldest first (or
    by deadline: `sort="due"`), `limit` rows from `offset` on (None: all of them).

    One query, built so that each index scan stops early: a UNION ALL of one branch per
    source (tasks assigned to me; unclaimed tasks of each of my roles), each reading
    ix_task_inbox_* in (created_at, id) order, so a page costs O(page) rows however many
    tasks are open (an OR over sources would make the database sort every match)."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE):
        raise InvalidData(f"limit must be 1-{MAX_PAGE}", {"limit": {"zh": f"须为1-{MAX_PAGE}", "en": f"1-{MAX_PAGE}"}})
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidData("offset must be 0 or more", {"offset": {"zh": "须为0或更大", "en": "0 or more"}})
    if sort not in SORTS:
        raise InvalidData("sort must be created or due",
                          {"sort": {"zh": "须为 created 或 due", "en": "created or due"}})
    roles = [r for r in sorted(roles_of(user)) if role is None or r == role]
    query = _inbox_statement(len(roles), bool(process), bool(role), overdue, limit is not None, bool(offset), sort)
    params = {"username": user.username, "now": now, "process": process, "role": role, "limit": limit,
              "offset": offset, "branch_limit": offset + (limit or 0),
              **{f"role_{i}": r for i, r in enumerate(roles)}}
    result = []
    for row in session.execute(query, params):  # Core rows: nothing here needs the ORM
        item = task_dict(row, now)
        item["business_key"] = row.business_key
        item["customer_name"] = row.customer_name
        item["instance_status"] = row.instance_status  # `incident`: shown, but halted until an administrator acts
        result.append(item)
    return result


def inbox_counts(session: Session | Connection, user: Person, now: datetime, cap: int | None = None) -> dict[str, int]:
    """{role: ready tasks} of the user's inbox (exactly the rows `inbox` gives), counted by the
    database: every page shows these counts, so they must not fetch the rows.

    `cap`: nobody reads a count of 160,000, and counting them costs a separation-of-duties check per
    task, so each source stops after cap + 1 visible rows (a LIMIT inside the counted subquery) and a
    role's figure is at most cap + 1, which means "more than cap" (the pages show "999+"). Up to the cap
    every figure is exact: a role's count is the sum of its sources, each exact while it is below cap + 1.
    None counts everything."""
    roles = sorted(roles_of(user))
    # the tasks assigned to the user may be of any role (`initiator`: their own request's steps; a role taken
    # away after the claim): one source per role that has open tasks, so that each is a range of one role
    open_roles = list(session.scalars(_OPEN_ROLES))
    if not roles and not open_roles:
        return {}
    key = (len(roles), len(open_roles), cap is not None)
    query = _INBOX_COUNTS.get(key)
    if query is None:
        query = _INBOX_COUNTS[key] = _counts_statement(len(roles), len(open_roles), cap is not None)
    params = {"username": user.username, "cap_rows": (cap or 0) + 1, **{f"role_{i}": r for i, r in enumerate(roles)},
              **{f"open_{i}": r for i, r in enumerate(open_roles)}}
    counts: dict[str, int] = {}
    for role, n in session.execute(query, params):
        counts[role] = counts.get(role, 0) + n
    return counts if cap is None else {role: min(n, cap + 1) for role, n in counts.items()}


_INBOX_COUNTS: dict[tuple, Select] = {}  # by numbers of roles and whether capped, as _INBOX_STATEMENTS


def without_jit(session: Session) -> None:
    """PostgreSQL, in a transaction: no JIT compilation for its remaining statements. The counts' estimate is
    the sum of 20-odd sources' (each up to cap + 1 rows with their separation-of-duties probes) and passes
    jit_above_cost (100,000) as the tables grow, although the count takes a few ms: compiling its
    expressions then cost 300-360 ms (EXPLAIN ANALYZE at 1,000,000 task rows, 100,000 open)."""
    session.execute(text("SET LOCAL jit = off"))


def without_jit_or_parallel_workers(session: Session) -> None:
    """PostgreSQL, in a transaction: neither JIT (without_jit) nor parallel workers for its remaining statements, set
    by one statement (the KPI page opens three such sessions; each statement a round trip). The KPI page's sums over
    a month rollup (a few thousand rows, but many pages once its counts were rewritten) were planned with a Gather of
    two workers: starting them cost 7-9 ms of a 4-5 ms statement (EXPLAIN ANALYZE at a million instances)."""
    session.execute(text("SELECT set_config('jit', 'off', true), "
                         "set_config('max_parallel_workers_per_gather', '0', true)"))


def generic_plan_fits(process: str | None, role: str | None, overdue: bool | None) -> bool:
    """Whether the inbox's PostgreSQL plan may be planned once for any values: the unfiltered inbox (either order,
    any page), the one every page shows. Filtered by process, role or deadline, a plan for the values is needed:
    the generic one read the whole of a role's range (boss_0 at 10,000,000 task rows, by process or overdue:
    10-50 ms planned per call, 1.4-1.8 s generic)."""
    return process is None and role is None and overdue is None


def generic_plan(session: Session) -> None:
    """PostgreSQL, in a transaction: its remaining prepared statements run their generic plan, planned once per
    connection, instead of a plan for each call's values. The unfiltered inbox's is the same for every user (one
    ordered index range per source, merged), yet PostgreSQL planned it anew at every call (pg_prepared_statements:
    no generic plan ever chosen): a LIMIT whose value it does not know costs a tenth of the rows in the generic
    estimate, so that plan never looked cheaper. At 10,000,000 task rows planning a user of two roles (three
    sources) took 1.4 ms and one of one role 0.8 ms (a busy machine), more than running it (generic: 0.3 ms)."""
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


def _open_roles_statement() -> Select:
    """The distinct roles of the open tasks, one index seek each in ix_task_ready (a loose index scan written
    out: the next role is the least one above the last), so a few dozen seeks however many tasks are open."""
    task = Task.__table__.c
    ready = task.status == READY
    found = select(func.min(task.role).label("role")).where(ready).cte("open_roles", recursive=True)
    following = select(func.min(task.role)).where(ready, task.role > found.c.role).scalar_subquery()
    found = found.union_all(select(following).where(found.c.role.is_not(None)))
    return select(found.c.role).where(found.c.role.is_not(None))


_OPEN_ROLES = _open_roles_statement()


def _open_rows(username, *conditions: ColumnElement[bool]) -> Select:  # noqa: ANN001 - a bind parameter
    """The role of each visible ready task meeting `conditions`: a range of the partial covering index
    ix_task_ready (migration 0016) with no join and no order; only a row with separation-of-duties tokens
    looks further (the user's own instances, the instance's completed tasks by ix_task_instance_status).
    The status is a literal: a partial index is used only when the query names its condition itself."""
    task = Task.__table__.c
    return select(task.role).where(task.status == READY, *conditions,
                                   _sod_visible(username, joined=False))


def _counts_statement(roles: int, open_roles: int, capped: bool) -> Select:
    """The inbox's sources and filters as `_inbox_statement` has them, counted per role, each source one
    index range of a single role (assigned to the user: per role :open_0..; offered: per role :role_0.. of
    theirs), cut at :cap_rows when `capped`. A source of a role without tasks for the user is one seek."""
    task = Task.__table__.c
    username = bindparam("username")
    sources = [_open_rows(username, task.role == bindparam(f"open_{i}"), task.assignee == username)
               for i in range(open_roles)]
    sources += [_open_rows(username, task.role == bindparam(f"role_{i}"), task.assignee.is_(None))
                for i in range(roles)]
    if capped:  # SQLite takes a LIMIT in a compound SELECT only inside a subquery
        sources = [select(rows.limit(bindparam("cap_rows")).subquery().c.role) for rows in sources]
    merged = union_all(*sources).subquery()
    return select(merged.c.role, func.count()).group_by(merged.c.role)


_INBOX_STATEMENTS: dict[tuple, Select] = {}  # by shape: building the statement costs more than running it


def _inbox_statement(roles: int, process: bool, role: bool, overdue: bool | None, paged: bool, offset: bool,
                     sort: str = "created") -> Select:
    """The inbox query for one shape of call, with bound parameters (username, role_0.., now,
    process, role, limit, offset, branch_limit); built once per shape."""
    key = (roles, process, role, overdue, paged, offset, sort)
    if key in _INBOX_STATEMENTS:
        return _INBOX_STATEMENTS[key]
    # Core tables, not the ORM classes: the rows come back as plain Core rows, with no ORM compile step
    task, inst = Task.__table__.c, Instance.__table__.c
    username = bindparam("username")
    sources = [task.assignee == username]
    sources += [task.assignee.is_(None) & (task.role == bindparam(f"role_{i}")) for i in range(roles)]
    # the literal status: the partial ix_task_inbox_* (migration 0022) serve only a query stating their condition
    filters = [task.status == READY, _sod_visible(username)]
    if process:
        filters.append(task.process_key == bindparam("process"))
    if role:
        filters.append(task.role == bindparam("role"))
    if overdue is not None:
        late = task.due_at.is_not(None) & (task.due_at < bindparam("now", type_=UTCDateTime))
        filters.append(late if overdue else ~late)
    columns = [*task, inst.business_key, inst.customer_name, inst.status.label("instance_status")]
    branches = []
    for source in sources:
        branch = select(*columns).join(Instance.__table__, inst.id == task.instance_id).where(source, *filters)
        if paged:  # each branch needs at most offset + limit rows of its own
            branch = select(branch.order_by(*_order(task, sort)).limit(bindparam("branch_limit"))
                            .subquery())
        branches.append(branch)
    merged = union_all(*branches).subquery()
    query = select(merged).order_by(*_order(merged.c, sort))
    if offset:
        query = query.offset(bindparam("offset"))
    if paged:
        query = query.limit(bindparam("limit"))
    _INBOX_STATEMENTS[key] = query
    return query


def _order(c, sort: str) -> list:  # noqa: ANN001 - the columns of Task or of the merged subquery
    """The inbox order; by deadline, tasks without one last and ties oldest first (each branch can
    read ix_task_inbox_*_due in this order, see migration 0012)."""
    if sort == "due":
        return [c.due_at.asc().nulls_last(), c.created_at, c.id]
    return [c.created_at, c.id]


def startable(session: Session, user: Person) -> list[dict]:
    """The processes this user may start by hand (latest versions), with a one-line description."""
    models = _latest_models(session)
    return [p for p in processes(session) if access.may_start(user, models[p["key"]])]


def _sod_visible(username, joined: bool = True):  # noqa: ANN001, ANN202 - a SQL condition on Task
    """Separation of duties as a SQL condition, so that paging counts only what the user may see:
    the same rule as access.sod_violation (tokens are `initiator`, the requester, or the BPMN id
    of an earlier task, whoever completed it in this instance). `joined`: the query joins Instance
    (the inbox's rows show it); else the requester is looked up for a row with tokens only."""
    task, inst = Task.__table__.c, Instance.__table__.c
    padded = literal(" ") + task.sod + literal(" ")
    # unjoined (the counts, each source at most cap + 1 rows): the requester is looked up by the instance's key,
    # for a row whose tokens name `initiator` only. Reading the user's own instances once per source instead
    # cost a sales rep's 20,000 instances per source, and on PostgreSQL its estimate per source pushed the
    # statement over jit_above_cost: 360 ms of JIT compilation for a 15 ms count. A scalar subquery, as
    # PostgreSQL would turn EXISTS or IN back into reading them all (a hashed subplan)
    requester = (inst.started_by == username) if joined else \
        (select(inst.started_by).where(inst.id == task.instance_id).scalar_subquery() == username)
    own_request = padded.like("% initiator %") & requester
    done = Task.__table__.alias().c
    token = literal("% ") + func.replace(done.bpmn_id, "_", "\\_") + literal(" %")  # `_` is a LIKE wildcard
    # tokens that are only `initiator` name no earlier step: no need to look for one
    did_earlier = (task.sod != "initiator") & exists().where(
        done.instance_id == task.instance_id, done.status == "completed", done.completed_by == username,
        done.bpmn_id != "initiator", padded.like(token, escape="\\"))
    return (task.sod == "") | ~(own_request | did_earlier)


def task_detail(session: Session, user: Person, task_id: str, now: datetime) -> dict:
    row = get_task(session, task_id)
    inst = session.get(Instance, row.instance_id)
    access.check_may_see_task(session, user, row, inst)
    result = task_dict(row, now)
    result["form"] = form_view(form_of(session, inst.process_version_id, row.form_key))
    result["instance_data"] = json.loads(inst.data_json)
    result["initial_data"] = form_prefill.initial_values(result["form"]["schema"] if result["form"] else {},
                                                         result["instance_data"])
    result["may"] = access.task_actions(session, user, row, inst)
    result["instance_status"] = inst.status  # a halted instance's tasks are shown, not worked
    return result


def form_view(form) -> dict | None:  # noqa: ANN001 - FormDef | None
    if form is None:
        return None
    return {"key": form.key, "title": form.title, "schema": form.schema,
            "ui": {"fields": form.fields, "messages": form.messages}}


def start_form(session: Session, user: Person, key: str) -> dict | None:
    """The start form of the latest version of a process the user may start (None: it has none)."""
    pv = latest_version(session, key)
    model = stored_model(pv.model_json, pv.key)
    access.check_may_start(user, model)
    start = start_event(model)
    return form_view(form_of(session, pv.id, start.form_key if start else None))


def process_detail(session: Session, user: Person, key: str) -> dict:
    """The latest version of a process as `processes` lists it, with `startable` (whether this user may
    start it by hand) and `form`, its start form {key, title, schema, ui} (None: it has none). The form
    is the one the start page shows; it is given to anyone, like the list of processes, so that a
    client can tell what a start needs. NotFound for a key no deployed process has."""
    pv = latest_version(session, key)
    model = stored_model(pv.model_json, pv.key)
    view = next(p for p in processes(session) if p["key"] == key)
    start = start_event(model)
    return {**view, "startable": access.may_start(user, model),
            "form": form_view(form_of(session, pv.id, start.form_key if start else None))}


def instance_forms(session: Session, version_id: int) -> dict[str, dict]:
    """Every form of a version, by key (labels for showing an instance's data)."""
    rows = session.scalars(select(Form).where(Form.process_version_id == version_id)
                           .order_by(Form.form_key))
    return {r.form_key: form_view(FormDef.from_dict(json.loads(r.definition))) for r in rows}


MANAGED_SHOWN = 200  # a manager reassigns the oldest work first; the rest waits its turn


def managed_tasks(session: Session, user: Person, now: datetime) -> list[dict]:
    """The oldest ready tasks of the roles this user manages (for reassigning); admins see every role's."""
    query = (select(Task).where(Task.status == READY, Task.role != "initiator")
             .order_by(Task.created_at, Task.id).limit(MANAGED_SHOWN))
    if not access.is_admin(user):
        query = query.where(Task.role.in_(managed_roles(session, user)))
    return [task_dict(r, now) for r in session.scalars(query)]


def instance_summary(session: Session, inst: Instance, now: datetime, rows: list | None = None) -> dict:
    """The instance with its tasks, without the forms and element names pages label it with: what a
    command answers (engine.runtime.idempotency keeps it as JSON). `rows`: _summary_rows if read already."""
    rows = instance_task_rows(session, inst) if rows is None else rows
    version = rows[0].version if rows else None
    all_tasks = [task_dict(t, now) for t in rows if t.id is not None]
    return {"id": inst.id, "process_key": inst.process_key, "version": version, "business_key": inst.business_key,
            "status": inst.status, "outcome": inst.outcome, "data": json.loads(inst.data_json),
            "started_by": inst.started_by, "started_at": _ts(inst.started_at), "ended_at": _ts(inst.ended_at),
            "rev": inst.rev,
            "tasks": [t for t in all_tasks if t["status"] == "ready"],
            "history_tasks": [t for t in all_tasks if t["status"] != "ready"]}


def _summary_statement() -> Select:
    """The version number and the instance's tasks (oldest first) in one statement: one row per task, or
    one row with no task. Core rows, built once, run as the driver's SQL (engine/store/driver_sql.py): the
    view and every command's answer read it. (A Core statement is not preceded by a flush, through the
    session or not: a command's changes are written before it answers.)"""
    task, version = Task.__table__.c, ProcessVersion.__table__
    return (select(version.c.version, *task)
            .select_from(version.outerjoin(Task.__table__, task.instance_id == bindparam("instance_id")))
            .where(version.c.id == bindparam("version_id")).order_by(task.created_at, task.id))


_SUMMARY = DriverStatement(_summary_statement())


def instance_task_rows(session: Session, inst: Instance) -> list:
    """The version number and the instance's task rows (one row with no task when it has none): what the
    summary shows, and what the view's other answers (`may_end`, the field labels) can be read from."""
    return _SUMMARY.rows(session, {"version_id": inst.process_version_id, "instance_id": inst.id})


def instance_dict(session: Session, inst: Instance, now: datetime, specs: SpecSet,
                  forms: dict[str, dict], rows: list | None = None) -> dict:
    """The summary with the version's forms (`forms`: instance_forms) and element names. `rows`:
    instance_task_rows if read already."""
    return {**instance_summary(session, inst, now, rows), "forms": forms,
            "element_names": model_element_names(specs.models.values())}


def element_names(pv: ProcessVersion) -> dict[str, dict[str, str]]:
    """Every named element of the version's diagrams (gateways and events too): id -> {zh, en}."""
    return model_element_names(stored_models(pv.model_json).values())


def model_element_names(models: Iterable[ProcessModel]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for model in models:
        for el in model.elements.values():
            if el.name:
                names[el.id] = {"zh": el.name, "en": el.name_en or el.name}
    return names


def instance_view(session: Session, user: Person, inst: Instance, now: datetime, specs: SpecSet,
                  forms: dict[str, dict], rows: list | None = None) -> dict:
    """The instance as this user may see it; `may_end` is how they may end it early (`withdrawn`,
    `cancelled`) or None. `specs` are its version's, `forms` its version's forms (instance_forms),
    `rows` its instance_task_rows if read already."""
    access.check_may_see(session, user, inst)
    # the instance's task rows, read once: the summary shows them and `may_end` asks whether anyone else
    # decided (the caller may pass them on to labels.instance_fields too)
    rows = instance_task_rows(session, inst) if rows is None else rows
    return {**instance_dict(session, inst, now, specs, forms, rows),
            "may_end": _may_end(session, user, inst, specs.models[inst.process_key], tasks_of(rows))}


def tasks_of(rows: list) -> list:
    """The task rows among instance_task_rows (an instance without tasks has one row without one)."""
    return [t for t in rows if t.id is not None]


def _may_end(session: Session, user: Person, inst: Instance, model: ProcessModel, tasks: list) -> str | None:
    if inst.status not in ("running", "incident"):
        return None
    if incidents.never_started(inst):
        return outcomes.CANCELLED if access.is_admin(user) else None
    try:
        return access.cancel_outcome(session, user, inst, model, tasks)
    except Forbidden:
        return None


def history(session: Session, user: Person, instance_id: int) -> list[dict]:
    inst = get_instance(session, instance_id)
    access.check_may_see(session, user, inst)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(instance_id))
                           .order_by(AuditEvent.position))
    return [{"position": r.position, "at": r.at, "actor": r.actor, "kind": r.kind, "task": r.task,
             "payload": json.loads(r.payload), "hash": r.hash} for r in rows]


def processes(session: Session) -> list[dict]:
    latest = current_versions(session)
    result = []
    for pv in latest.values():
        model = stored_model(pv.model_json, pv.key)
        start = start_event(model)
        starters = model.starters or ([start.lane] if start and start.lane else [])
        result.append({"key": pv.key, "name": pv.name, "names": {"zh": pv.name, "en": model.name_en or pv.name},
                       "version": pv.version, "deployed_at": _ts(pv.deployed_at),
                       "starters": starters, "documentation": model.documentation,
                       "summary": _summary(model.documentation), "summaries": summaries(model.documentation),
                       "start_event": start.event if start else None,
                       "start_form": start.form_key if start else None})
    return result


def _latest_models(session: Session) -> dict[str, ProcessModel]:
    """Our model of each process's latest version, by key."""
    return {key: stored_model(pv.model_json, key)
            for key, pv in current_versions(session).items()}


def _summary(documentation: str) -> str:
    """The one-line description (the API's `summary`): the Chinese summary line, else the English one,
    else the documentation's first non-empty line (docs/modelling.md, "Process summaries")."""
    found = summaries(documentation)
    return found.get("zh") or found.get("en") or next(
        (line.strip() for line in documentation.splitlines() if line.strip()), "")


def diagram(session: Session, user: Person, instance_id: int, cache: SpecCache) -> dict:
    """The instance's BPMN and the elements to highlight: what ran, what waits now."""
    inst = get_instance(session, instance_id)
    access.check_may_see(session, user, inst)
    pv = session.get(ProcessVersion, inst.process_version_id)
    model = stored_model(pv.model_json, pv.key)
    bpmn = session.scalar(select(DefinitionFile.content).where(
        DefinitionFile.process_version_id == pv.id, DefinitionFile.name == model.file.rsplit("/", 1)[-1]))
    done, active = [], []
    if inst.rev > 0:  # a message-started instance whose first step failed has no state to draw yet
        done, active = observe.highlights(load_workflow(inst, specs_for(session, cache, pv.id)))
    return {"process_key": pv.key, "version": pv.version, "bpmn": bpmn, "completed": done, "active": active}


def comments(session: Session, user: Person, task_id: str) -> list[dict]:
    row = get_task(session, task_id)
    access.check_may_see_task(session, user, row, session.get(Instance, row.instance_id))
    events = session.scalars(select(AuditEvent).where(AuditEvent.chain == instance_chain(row.instance_id),
                                                      AuditEvent.kind == "commented").order_by(AuditEvent.position))
    found = []
    for ev in events:
        payload = json.loads(ev.payload)
        if payload.get("task_id") == row.id:
            found.append({"at": ev.at, "actor": ev.actor, "text": payload["text"]})
    return found


def role_holders(session: Session, role: str) -> list[str]:
    return list(session.scalars(select(User.username).join(UserRole, UserRole.user_id == User.id)
                                .where(UserRole.role_id == role, User.active.is_(True)).order_by(User.username)))
