"""Authorization, decided here in the engine and nowhere else.

404 or 403: an instance a user may not see is answered exactly as a missing one ("no instance N",
HTTP 404), and so are its tasks, history, diagram, replay, export and comments, so that ids do not
tell outsiders what exists. 403 is kept for someone who may know the thing but not do the action:
an auditor (who reads everything) completing a task, a sales manager claiming a task that mgr2
holds, a requester cancelling someone else's request they take part in. A task is known to whoever
sees its instance, and also to the holders of the role it is or was offered to, its assignee, its
completer and the managers of its role: they saw it in an inbox, so a second completion of a task
someone else finished first is still 409 (no longer ready) for them, not 404.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from engine import outcomes
from engine.definitions.checks import INITIATOR
from engine.definitions.model import ProcessModel, start_event, stored_models
from engine.errors import Forbidden, NotFound
from engine.roles import RoleDef
from engine.runtime import training_gate
from engine.runtime.loading import no_instance, no_task
from engine.store.models import ApiToken, Instance, ProcessVersion, Task, User
from engine.users import SYSTEM, Person, get_actor, managed_roles, roles_of

READ_ALL = {"admin", "auditor"}


# edit, check, deploy and migrate process definitions
OWNER_ROLES = frozenset({"process_owner", "admin"})


def holds_owner_role(roles: set[str] | frozenset[str] | list[str]) -> bool:
    """Whether these roles make their holder a process owner (the pages ask this of the signed-in user)."""
    return bool(OWNER_ROLES & set(roles))


def check_process_owner(session: Session, actor: str) -> None:
    """Process owners and admins edit, lint, deploy, migrate and inspect definitions; so may the engine."""
    if actor != SYSTEM and not holds_owner_role(roles_of(get_actor(session, actor))):
        raise Forbidden(f"{actor} is not a process owner")


def is_admin(user: Person) -> bool:
    return "admin" in roles_of(user)


def sod_violation(session: Session, user: Person, instance: Instance, sod: tuple[str, ...]) -> str | None:
    """Why separation of duties forbids this user the task, or None."""
    for token in sod:
        if user.username in sod_barred(session, instance, (token,)):  # the rule, token by token for its reason
            if token == INITIATOR:
                return "the requester may not work this task (separation of duties)"
            return f"whoever completed {token} may not work this task (separation of duties)"
    return None


def check_may_work(session: Session, user: Person, task: Task, instance: Instance) -> None:
    if task.assignee and task.assignee != user.username:
        raise Forbidden(f"task {task.id} is assigned to {task.assignee}")
    if not task.assignee and task.role not in roles_of(user):
        raise Forbidden(f"task {task.id} is offered to role {task.role}, which {user.username} does not hold")
    reason = sod_violation(session, user, instance, task.sod_tokens)
    if reason:
        raise Forbidden(reason)


def check_may_manage(session: Session, user: Person, task: Task) -> None:
    if is_admin(user):
        return
    if task.role == INITIATOR or task.role not in managed_roles(session, user):
        raise Forbidden(f"{user.username} may not reassign tasks of role {task.role}")


def _involving(username: str, roles: set[str]) -> ColumnElement[bool]:
    """A task row that makes its instance this person's: given to them, done by them, or waiting now for a
    role of theirs. The one statement of the rule, for one instance (takes_part) and for many (visible)."""
    return or_(Task.assignee == username, Task.completed_by == username,
               and_(Task.status == "ready", Task.role.in_(roles)))


def takes_part(session: Session, user: Person, instance: Instance) -> bool:
    """Started it, was given or did one of its tasks, or holds the role of one waiting now."""
    if instance.started_by == user.username:
        return True
    involved = select(Task.id).where(Task.instance_id == instance.id, _involving(user.username, roles_of(user)))
    return session.scalar(involved.limit(1)) is not None


def may_see_instance(session: Session, user: Person, instance: Instance) -> bool:
    return (bool(roles_of(user) & READ_ALL) or takes_part(session, user, instance)
            or instance.process_version_id in overseen_versions(session, user))


def of_instance(session: Session, column: ColumnElement) -> ColumnElement[bool]:
    """`column` (an instance id) is the outer row's Instance.id, for an EXISTS probed per instance under an OR.
    On PostgreSQL as a range of one: with an equality it may turn the EXISTS into a hashed set read in full
    before the first row (here every task of every instance the person takes part in: the whole task table,
    as no index leads with completed_by), where a page or a capped count needs a few thousand probes. SQLite
    probes per row anyway, and with a range may prefer a worse index (one on status)."""
    if session.get_bind().dialect.name == "sqlite":
        return column == Instance.id
    return and_(column >= Instance.id, column <= Instance.id)


def visible(session: Session, user: Person) -> ColumnElement[bool] | None:
    """may_see_instance as a condition on Instance, for reads of many instances (the search, where requests
    wait), so that they count and page in the database; None: the user sees every instance. Each instance
    is probed by its own task rows (of_instance), from ix_task_instance_status alone (it holds every column
    the probe reads, migration 0018), and the search stops after a page and a capped count: cheap for whoever
    takes part in many instances. For someone who takes part in few, every instance of the range is probed
    (once: search._partial_page); reading their own task rows first would be cheaper, but needs an index
    that leads with completed_by, which every completion would write (not added: benchmark 9's sales manager
    takes part in a third of the instances, where probing wins)."""
    roles = roles_of(user)
    if roles & READ_ALL:
        return None
    name = user.username
    involved = select(Task.id).where(of_instance(session, Task.instance_id), _involving(name, roles)).exists()
    return or_(Instance.started_by == name, involved,
               Instance.process_version_id.in_(overseen_versions(session, user)))


def overseen_versions(session: Session, user: Person) -> set[int]:
    """The process versions whose cases this user may end (a role in their cancel_roles: the general
    manager for complaints). To end a case one must find it, so they see every case of those."""
    roles = roles_of(user)
    if not roles:
        return set()
    found = set()
    for vid, key, model_json in session.execute(select(ProcessVersion.id, ProcessVersion.key,
                                                       ProcessVersion.model_json)):
        model = stored_models(model_json).get(key)
        if model is not None and roles & set(model.cancel_roles):
            found.add(vid)
    return found


def check_may_see(session: Session, user: Person, instance: Instance) -> None:
    """NotFound, worded as for a missing instance, unless the user may see it."""
    if not may_see_instance(session, user, instance):
        raise no_instance(instance.id)


def may_know_task(session: Session, user: Person, task: Task, instance: Instance) -> bool:
    """Whether the user may learn that this task exists (see the module's docstring)."""
    name = user.username
    return (name in (task.assignee, task.completed_by) or task.role in roles_of(user)
            or task.role in managed_roles(session, user) or may_see_instance(session, user, instance))


def check_may_know_task(session: Session, user: Person, task: Task, instance: Instance) -> None:
    """NotFound, worded as for a missing task, unless the user may know of it."""
    if not may_know_task(session, user, task, instance):
        raise no_task(task.id)


def check_may_see_task(session: Session, user: Person, task: Task, instance: Instance) -> None:
    """Reading a task (its form, its instance's data, its comments) is seeing its instance."""
    if not may_see_instance(session, user, instance):
        raise no_task(task.id)


def check_may_comment(session: Session, user: Person, instance: Instance) -> None:
    """Reading every instance (the auditor's right) is not taking part in it: a remark in the
    trail would be a change, and an auditor changes nothing."""
    if not (is_admin(user) or takes_part(session, user, instance)):
        raise Forbidden(f"{user.username} may read instance {instance.id} but does not take part in it, "
                        "so may not comment on it")


def decided(session: Session, instance: Instance, tasks: Iterable | None = None) -> bool:
    """Whether someone other than the requester has completed one of the instance's tasks. `tasks`: all
    its task rows (with status and completed_by) when the caller read them already, else they are asked."""
    if tasks is not None:  # as the query below: a NULL completed_by is nobody
        return any(t.status == "completed" and t.completed_by is not None and t.completed_by != instance.started_by
                   for t in tasks)
    others = select(Task.id).where(Task.instance_id == instance.id, Task.status == "completed",
                                   Task.completed_by != instance.started_by)
    return session.scalar(others.limit(1)) is not None


def cancel_outcome(session: Session, user: Person, instance: Instance, model: ProcessModel,
                   tasks: Iterable | None = None) -> str:
    """How this user may end the instance early: `withdrawn` (the requester, before anyone else decided
    on it, where the process allows withdrawing) or `cancelled` (a role the process names in
    cancel_roles; administrators when it names none). Forbidden, saying why, for anyone else.
    `tasks`: the instance's task rows if read already (`decided`)."""
    if user.username == instance.started_by and model.withdraw != "never" and not decided(session, instance, tasks):
        return outcomes.WITHDRAWN
    allowed = set(model.cancel_roles) or {"admin"}
    if allowed & roles_of(user):
        return outcomes.CANCELLED
    who = "、".join(sorted(allowed))
    if user.username == instance.started_by:
        why = ("this process cannot be withdrawn by its requester" if model.withdraw == "never"
               else "someone has already decided on it, so its requester can no longer withdraw it")
        raise Forbidden(f"{why}; only {who} may cancel it")
    raise Forbidden(f"only {who} may cancel instances of {instance.process_key}")


def may_resolve_incidents(user: Person) -> bool:
    """Incidents (halted instances, their errors, retry and cancel) are the administrators'."""
    return is_admin(user)


def check_may_resolve_incidents(user: Person) -> None:
    if not may_resolve_incidents(user):
        raise Forbidden(f"{user.username} is not an administrator: only administrators see and resolve incidents")


def task_actions(session: Session, user: Person, task: Task, instance: Instance) -> dict[str, bool]:
    """What this user may do with this task now: hints for the pages (every command checks again)."""
    ready = task.status == "ready" and instance.status == "running"

    def allowed(check) -> bool:  # noqa: ANN001
        try:
            check()
            return True
        except Forbidden:
            return False

    work = ready and allowed(lambda: check_may_work(session, user, task, instance))
    manage = ready and allowed(lambda: check_may_manage(session, user, task))
    return {"complete": work, "claim": work and task.assignee is None,
            "comment": allowed(lambda: check_may_comment(session, user, instance)),
            "unclaim": ready and task.assignee is not None and task.role != INITIATOR
            and (task.assignee == user.username or manage),
            "reassign": manage}


# -- accounts (issue 11) ------------------------------------------------------------------------------


def may_manage_users(user: Person | None) -> bool:
    """Administrators manage accounts (deactivate, activate, reset a password, unlock, revoke any token).
    None is the operator at the console (`salesflow users …`), who holds the database anyway."""
    return user is None or is_admin(user)


def check_may_manage_users(user: Person | None) -> None:
    if not may_manage_users(user):
        raise Forbidden(f"{user.username} is not an administrator and may not manage accounts")


def check_may_grant_roles(session: Session, user: Person | None, username: str, granted: set[str],
                          front_line: dict[str, RoleDef]) -> None:
    """An administrator grants roles; a front-line one only to someone with a passed safety training
    (seed 205, 280; the rule itself in engine/runtime/training_gate.py)."""
    check_may_manage_users(user)
    training_gate.check_front_line_grant(session, username, granted, front_line)


def check_may_revoke_token(user: Person | None, token: ApiToken) -> None:
    """A user revokes their own tokens, an administrator anyone's. Another's token is "not found" to a
    non-administrator, so that token ids tell nothing about other people."""
    if not may_manage_users(user) and token.username != user.username:
        raise NotFound(f"no token {token.id}")


@dataclass(frozen=True)
class RoleRight:
    """A right that holders of some roles have, and the operator at the console (user None: `salesflow
    prices …`, `salesflow init --demo`), who holds the database anyway. One definition per right, so that
    the check an action makes and the permission a page shows cannot drift apart."""

    roles: frozenset[str]
    refusal: str  # what a refused user reads after their name: what they may not do, and who may

    def allows(self, user: Person | None) -> bool:
        return user is None or bool(roles_of(user) & self.roles)

    def check(self, user: Person | None) -> None:
        if not self.allows(user):
            raise Forbidden(f"{user.username} {self.refusal}")


# -- the price list (issue 12, seed 399) ----------------------------------------------------------------

# Who keeps the company's prices. The rules say that every price is the company's (seed 399: 所有销售价格均按
# 公司制订价格) and name the sales director as the one who carries out the company's sales policies and enforces
# its rules and, with the sales manager, sets each period's marketing strategy (seed 372, 374); finance is never
# given pricing. So the sales director edits the list, and nobody else does: the sales department quotes from
# it (seed 399: 由销售部人员报出), and a quotation below it needs the discount approval.
PRICE_EDITORS = frozenset({"sales_director"})
# Who may read it: all sales staff, from the representative who quotes (seed 399) and the order clerk whose
# order prices must agree with it (seed 399: 开单员开价与规定不符) to the sales management; finance and the
# general manager, who see the contracts' prices anyway; and the auditors (read-only everywhere).
PRICE_READERS = PRICE_EDITORS | {
    "sales_rep", "sales_assistant", "order_clerk", "dispatcher", "customer_service", "sales_manager", "sales_vp",
    "general_manager", "finance", "audit_dept", "auditor", "admin"}

READ_PRICES = RoleRight(PRICE_READERS, "may not read the price list (sales staff, finance, the general manager "
                                       "and auditors may)")
EDIT_PRICES = RoleRight(PRICE_EDITORS, "may not change the price list: only the sales director keeps the "
                                       "company's prices")


# -- starting a process by hand -------------------------------------------------------------------


def starter_roles(model: ProcessModel) -> set[str]:
    """The roles that may start the process: its `starters`, else the lane of its start event."""
    start = start_event(model)
    return set(model.starters) or ({start.lane} if start and start.lane else set())


def start_refusal(user: Person, model: ProcessModel) -> str | None:
    """Why this user may not start the process by hand, or None when they may. A timer-started process
    starts only by its timer; a message-started one without declared starters only when its message
    arrives; any other, for a holder of one of its starter roles."""
    start = start_event(model)
    if start is not None and start.event == "timer":
        return f"{model.id} is started by its timer, not by hand"
    if start is not None and start.event == "message" and not model.starters:
        return f"{model.id} starts only when the message {start.message} arrives, not by hand"
    starters = starter_roles(model)
    if not starters & roles_of(user):
        return f"{user.username} holds none of the roles that may start {model.id}: {', '.join(sorted(starters))}"
    return None


def may_start(user: Person, model: ProcessModel) -> bool:
    return start_refusal(user, model) is None


def check_may_start(user: Person, model: ProcessModel) -> None:
    refusal = start_refusal(user, model)
    if refusal:
        raise Forbidden(refusal)


# -- notifications (issue 13, engine/notify) --------------------------------------------------------------


@functools.cache
def _waiting_for_statement(assignee: bool):  # noqa: ANN202 - a Select
    """Built once per shape (bound parameters), so that each step reuses its cache key and compiled form."""
    from engine.notify.preferences import people
    from engine.store.models import UserRole

    query = people(with_choice=True)
    if assignee:
        return query.where(User.username == bindparam("who"))
    holders = select(UserRole.user_id).where(UserRole.role_id == bindparam("who"))
    return query.where(User.id.in_(holders))


@dataclass(frozen=True)
class Waiting:
    """The people a ready task waits for, as a query (`statement` with `params`: rows of username, email
    and their saved choice for the notification kind bound as `kind`, notify.preferences.people) and the
    names that must be left out of it (`barred`: separation of duties)."""

    statement: Select
    params: dict
    barred: frozenset[str]


def waiting_for(session: Session, task: Task, instance: Instance) -> Waiting:
    """The people a ready task waits for, who are told it is offered (or overdue): its assignee, or else
    every active holder of its role whom separation of duties allows (as the inbox shows it). A query, not
    rows: whom to tell is written from it in one statement (notify.events), never loaded as accounts."""
    if task.assignee:
        return Waiting(_waiting_for_statement(True), {"who": task.assignee}, frozenset())
    return Waiting(_waiting_for_statement(False), {"who": task.role},
                   frozenset(sod_barred(session, instance, task.sod_tokens)))


def sod_barred(session: Session, instance: Instance, sod: tuple[str, ...]) -> set[str]:
    """Everyone separation of duties forbids a task with these tokens, in one read: the requester for
    `initiator`, whoever completed the task of each other token (queries._sod_visible says it in SQL)."""
    barred = {instance.started_by} if INITIATOR in sod else set()
    earlier = [token for token in sod if token != INITIATOR]
    if earlier:
        barred.update(session.scalars(select(Task.completed_by).where(
            Task.instance_id == instance.id, Task.bpmn_id.in_(earlier), Task.status == "completed")))
    return barred


def check_may_set_email(user: Person | None, username: str) -> None:
    """Everyone sets their own e-mail address; administrators (and the console) anyone's."""
    if not may_manage_users(user) and user.username != username:
        raise Forbidden(f"{user.username} may not change the e-mail address of {username}")


# -- the KPI dashboard (engine/kpi; issue 14: the appraisal per person) -----------------------------------


@dataclass(frozen=True)
class KpiView:
    """What of the KPI dashboard a user sees. `team`: the team's figures (times, rates, safety, training …);
    `roles` / `people`: whose per-role and per-person rows (None: everyone's)."""

    team: bool
    roles: frozenset[str] | None
    people: frozenset[str] | None


def _staff_roles(session: Session) -> set[str]:
    """The roles some role manages: the staff whose work (and appraisal) a manager judges."""
    from engine.store.models import Role

    return {r for manages in session.scalars(select(Role.manages)) for r in json.loads(manages or "[]")}


# the company's leaders run the business the dashboard measures; they manage no role in processes/roles.yaml
# (they decide, they are not a team leader), so the manager rule alone would shut them out (our own choice)
KPI_LEADERS = frozenset({"general_manager", "sales_vp"})


def kpi_view(session: Session, user: Person) -> KpiView | None:
    """Auditors, administrators and the company's leaders (KPI_LEADERS) see everything. A manager (a role
    that manages others: the sales manager, the sales director) sees the team's figures, with the per-role and
    per-person rows of the roles he manages, their holders and himself: these figures judge the staff he
    reassigns. A member of the staff (a managed role: a sales representative …) sees only his own appraisal,
    rewards, penalties and sanctions (seed 312: the result is tied to his pay, so he may know it). Anyone
    else: None (not at all)."""
    from engine.store.models import UserRole

    roles = roles_of(user)
    if roles & (READ_ALL | KPI_LEADERS):
        return KpiView(True, None, None)
    managed = managed_roles(session, user)
    if managed:
        holders = session.scalars(select(User.username).join(UserRole, UserRole.user_id == User.id)
                                  .where(UserRole.role_id.in_(managed)))
        return KpiView(True, frozenset(managed), frozenset({*holders, user.username}))
    if roles & _staff_roles(session):
        return KpiView(False, frozenset(), frozenset({user.username}))
    return None


def check_kpi_view(session: Session, user: Person) -> KpiView:
    view = kpi_view(session, user)
    if view is None:
        raise Forbidden(f"{user.username} may not see the KPI dashboard (auditors, administrators, the company's "
                        "leaders and managers may; the sales staff see their own appraisal)")
    return view
# -- customers (issue 14 item 7, seed 261, 270, 344) ----------------------------------------------------------

# Who reads the customer records and their contact log: the sales department, which owns the customers and
# records calls, letters and visits (seed 261, 270, 344), customer service, which takes the customers' calls
# (seed 342), the sales and company management, and the auditors (read-only everywhere).
CUSTOMER_READERS = frozenset({"sales_rep", "sales_assistant", "sales_manager", "sales_director", "sales_vp",
                              "customer_service", "general_manager", "auditor", "admin"})
# Who logs a call, letter or visit (seed 261: 做好客户来电、来函、来访的记录工作): whoever of the sales department
# or customer service took it. Auditors and administrators read only.
CONTACT_LOGGERS = frozenset({"sales_rep", "sales_assistant", "sales_manager", "sales_director", "sales_vp",
                             "customer_service"})
# Who gives a customer to another representative: the sales manager, who reviews new customers and sets
# their follow-up (seed 344: 销售经理审核客户信息，确定跟进策略).
OWNER_CHANGERS = frozenset({"sales_manager"})
# The role a customer's owner must hold, and the role a task in the `customer_owner` lane is offered to
# when the customer has no such owner.
CUSTOMER_OWNER_ROLE = "sales_rep"
# The role whose holder must have completed the review for a registration to become a customer record.
CUSTOMER_REVIEWER_ROLE = "sales_manager"

READ_CUSTOMERS = RoleRight(CUSTOMER_READERS, "may not read the customer records (the sales department, customer "
                                             "service, the management and auditors may)")
LOG_CONTACTS = RoleRight(CONTACT_LOGGERS, "may not log customer contacts (the sales department and customer "
                                          "service do)")
CHANGE_OWNER = RoleRight(OWNER_CHANGERS, "may not give a customer to another representative: only the sales "
                                         "manager does")


def may_own_customers(user: Person | None) -> bool:
    """Whether this account may own a customer (and so be offered its tasks): an active sales representative."""
    return user is not None and user.active and CUSTOMER_OWNER_ROLE in roles_of(user)


def reviewed_by_manager(session: Session, instance: Instance, task_id: str) -> bool:
    """Whether the instance's task `task_id` was completed, in the reviewer's lane, by an active holder of the
    reviewer's role: a registration becomes a customer only through that review, whatever the diagram says."""
    rows = session.scalars(select(Task).where(Task.instance_id == instance.id, Task.bpmn_id == task_id,
                                              Task.status == "completed", Task.role == CUSTOMER_REVIEWER_ROLE))
    for row in rows:
        user = session.scalar(select(User).where(User.username == row.completed_by))
        if user is not None and user.active and CUSTOMER_REVIEWER_ROLE in roles_of(user) \
                and user.username != instance.started_by:
            return True
    return False


# -- rule changes (P13, engine/runtime/rule_changes.py) ----------------------------------------------------

APPROVER_ROLE = "general_manager"  # seed 293: 经公司领导批准后予以实施


def check_may_switch_governance(user: Person | None) -> None:
    """Only administrators (and the operator at the console) switch whether rule changes need approval."""
    if not may_manage_users(user):
        raise Forbidden(f"{user.username} is not an administrator, so may not switch rule-change governance")


def check_may_deploy_emergency(session: Session, actor: str) -> None:
    """An emergency deploy (in force at once, approved afterwards) is for administrators only."""
    if actor == SYSTEM or not is_admin(get_actor(session, actor)):
        raise Forbidden(f"{actor} is not an administrator, so may not deploy an emergency change")


def check_may_read_versions(session: Session, actor: str) -> None:
    """Process owners read versions and their diffs; so does the general manager, who approves them."""
    if actor == SYSTEM:
        return
    roles = roles_of(get_actor(session, actor))
    if not holds_owner_role(roles) and APPROVER_ROLE not in roles:
        raise Forbidden(f"{actor} is neither a process owner nor the approver of rule changes")


def check_rule_change_decider(session: Session, instance: Instance, decider: str | None) -> None:
    """A rule change takes effect only if an active general manager who did not submit it decided it. Checked
    in the database when the request ends, whatever the diagram that brought it there says."""
    user = session.scalar(select(User).where(User.username == decider)) if decider else None
    if user is None or not user.active or APPROVER_ROLE not in roles_of(user):
        raise Forbidden(f"rule change {instance.id} was not decided by an active general manager; nothing changes")
    if decider == instance.started_by:
        raise Forbidden(f"rule change {instance.id} was decided by its submitter; nothing changes")


def check_may_withdraw_change(user: Person, instance: Instance) -> None:
    """The submitter withdraws a pending request (administrators may cancel it as any case)."""
    if user.username != instance.started_by and not is_admin(user):
        raise Forbidden(f"only the submitter of rule change {instance.id} may withdraw it")
