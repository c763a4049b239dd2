"""The tables: every row the engine stores (docs/ and the Alembic migrations describe them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.base import Base
from engine.store.types import UTCDateTime


class Role(Base):
    __tablename__ = "role"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    system: Mapped[bool] = mapped_column(Boolean, default=False)
    manages: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of role ids


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # part of every web session's id: raising it ends all of the user's sessions (engine/accounts/sessions.py)
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # where notifications are e-mailed (engine/notify), and the language they are written in
    email: Mapped[str | None] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(2), default="zh", server_default="zh")
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True)


class ProcessVersion(Base):
    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)  # serialized spec + subprocess specs
    model_json: Mapped[str] = mapped_column(Text)  # our reading of the XML: lanes, forms, due dates, sod
    serializer_version: Mapped[str] = mapped_column(String(16))
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # rule-change governance (engine/runtime/rule_changes.py): only an `active` version starts instances;
    # a `draft` awaits the general manager's approval, then becomes active or `returned`, or is `withdrawn`
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_request_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the rule_change instance
    emergency_reason: Mapped[str | None] = mapped_column(Text)  # deployed by an administrator at once


class Setting(Base):
    """Engine settings kept in the database, so that changing one is itself recorded (governance)."""

    __tablename__ = "setting"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DefinitionFile(Base):
    """Every file a version was built from, kept verbatim (the diagram viewer and replay need them)."""

    __tablename__ = "definition_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))  # bpmn | dmn | form
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)


class Form(Base):
    __tablename__ = "form"
    __table_args__ = (UniqueConstraint("process_version_id", "form_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(128))
    definition: Mapped[str] = mapped_column(Text)  # JSON of the form file


class Instance(Base):
    __tablename__ = "instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128))  # its index: with started_at, below
    business_key: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # running|incident|completed|cancelled|error
    started_by: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # search: newest first, date ranges
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    customer_name: Mapped[str | None] = mapped_column(String(200))  # data_json's, for search (its index: below)
    outcome: Mapped[str | None] = mapped_column(String(32), index=True)  # how it ended (processes/outcomes.yaml)
    rev: Mapped[int] = mapped_column(Integer, default=0)
    # when it counts as SLA-breached, kept by every step (engine/runtime/sla.py; migration 0019): the search
    # reads these instead of the task rows and the trail
    sla_late_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# a process's instances of a date range in one seek (migration 0029; the KPI page's figures of one process)
Index("ix_instance_process_started", Instance.process_key, Instance.started_at)


# the reads at scale (migrations 0015, 0016, 0022): partial indexes of the open tasks, used when a query states
# the same condition
_READY = "status = 'ready'"
_OPEN_ONLY = {"sqlite_where": text(_READY), "postgresql_where": text(_READY)}
# the claimed open tasks (migration 0024): an index by assignee that holds no NULL cannot serve `assignee IS NULL`
_CLAIMED = "status = 'ready' AND assignee IS NOT NULL"
_CLAIMED_ONLY = {"sqlite_where": text(_CLAIMED), "postgresql_where": text(_CLAIMED)}
# what such a query compares `status` with: the literal, not a bound value, which the planner does not know when
# it plans (PostgreSQL plans a prepared statement once for any value, and could not use a partial index)
READY = literal_column("'ready'")


class Task(Base):
    """One row per user task that became ready; the inbox reads these, never the state JSON."""

    __tablename__ = "task"
    # each index costs every status change a write: no full index led by role or assignee (migration 0021 dropped
    # ix_task_role_status, _assignee_status), and those of the open or the completed tasks are partial (0022)
    __table_args__ = (
        # + who: migration 0015; + assignee, role: 0018 (the search's visibility probe from the index alone);
        # + step, times, id: 0020 (the KPI page's per-instance reads of the measured steps from the index alone)
        Index("ix_task_instance_status", "instance_id", "status", "completed_by", "assignee", "role", "bpmn_id",
              "completed_at", "created_at", "id"),
        # the inbox (queries.inbox): one ordered scan per source, see migration 0005; of the open tasks only
        # (0022: a completion deletes its entries, and the indexes stay the size of the open work); by assignee of
        # the claimed ones only (0024: else SQLite read a role's offered tasks from it, as `assignee = NULL`)
        Index("ix_task_inbox_role", "role", "created_at", "id", **_OPEN_ONLY),
        Index("ix_task_inbox_assignee", "assignee", "created_at", "id", **_CLAIMED_ONLY),
        # the inbox by deadline (sort="due"), see migration 0012
        Index("ix_task_inbox_role_due", "role", "due_at", "created_at", "id", **_OPEN_ONLY),
        Index("ix_task_inbox_assignee_due", "assignee", "due_at", "created_at", "id", **_CLAIMED_ONLY),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    process_key: Mapped[str] = mapped_column(String(128))
    bpmn_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255), default="", server_default="")
    role: Mapped[str] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(128))
    assignee: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # ready|completed|cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sod: Mapped[str] = mapped_column(String(255), default="", server_default="")  # separation of duties tokens

    @property
    def sod_tokens(self) -> tuple[str, ...]:
        return tuple(self.sod.split())


class Timer(Base):
    __tablename__ = "timer"
    __table_args__ = (Index("ix_timer_status_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(128))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # waiting|fired|cancelled
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # after a failed attempt the worker leaves the timer alone until then (engine/runtime/timers.py back-off)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Base):
    """A step that failed where no person was waiting for the answer (a timer, a message): the
    instance is halted (status `incident`) until an administrator retries the step or cancels it."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_status_process", "status", "process_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # timer|message
    element: Mapped[str | None] = mapped_column(String(128))  # the BPMN id of the element that failed
    element_name: Mapped[str | None] = mapped_column(String(200))  # its name in the diagram, when it has one
    message: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(Text, default="{}")  # JSON: what a retry runs again (runtime/incidents.py)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # open|resolved
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(16))  # retried|cancelled
    reason: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only. `at` and `payload` are kept as the exact text that was hashed."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    task: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The head of each chain: lets verify notice events deleted from the end."""

    __tablename__ = "audit_chain"
    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """Bearer tokens for the REST API; only their SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Every login (page or POST /tokens): the user name tried, the client address, when, and how it ended.
    The throttle counts the failures here, so the limits hold across every web worker."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed (cut to 64), whether or not such a user exists
    address: Mapped[str] = mapped_column(String(64))  # the client address (an IPv6 client's /64)
    outcome: Mapped[str] = mapped_column(String(16))  # succeeded | failed | refused (while locked)


class LoginLock(Base):
    """A temporary lockout of a user name or a client address after repeated failed logins."""

    __tablename__ = "login_lock"
    __table_args__ = (Index("ix_login_lock_scope_key", "scope", "key", "until"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # account | address
    key: Mapped[str] = mapped_column(String(64))  # the user name tried, or the address
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an administrator unlocked it early
    lifted_by: Mapped[str | None] = mapped_column(String(64))


class IdempotencyKey(Base):
    """The answer of a command sent with an idempotency key (the REST `Idempotency-Key` header, a
    page's form token), kept for a day: a retry with the same key gets it without running again
    (engine/runtime/idempotency.py). Written in the command's own transaction."""

    __tablename__ = "idempotency_key"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)  # keys are each user's own
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    command: Mapped[str] = mapped_column(String(32))  # start | complete | claim
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request (target and body)
    answer: Mapped[str] = mapped_column(Text)  # JSON of what the command answered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Price(Base):
    """The company's price list (seed 399: every price is the company's): one row per product,
    specification and grade for a period of validity. A row is never changed except to end its
    validity; a new price is a new row (engine/prices). No two rows of one product, specification
    and grade are valid on the same day: the engine checks it under the `prices` chain's lock."""

    __tablename__ = "price"
    __table_args__ = (UniqueConstraint("product", "spec", "grade", "valid_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(16))
    price_fen: Mapped[int] = mapped_column(Integer)  # exact money: the list price in fen (0.01 yuan) per unit
    valid_from: Mapped[date] = mapped_column(Date)  # the first day it applies (company time)
    valid_to: Mapped[date | None] = mapped_column(Date)  # the last day it applies; None: until ended
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))  # who set valid_to, when it was set after adding
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- notifications (issue 13, engine/notify) -------------------------------------------------------------------


class Notification(Base):
    """Something a person should know: a task offered to them, their request decided, their task overdue.
    Written in the transaction of the command (or worker pass) that caused it, so a rolled-back command
    leaves none. `params` keeps what the texts need in both languages (engine/notify/texts.py renders
    them in the reader's). The e-mail columns are the outbox: the worker claims a pending row
    (`email_claim`), sends it after the command committed, and records the outcome."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_id", "username", "id"),  # a person's list, newest first
        Index("ix_notification_unread", "username", "in_app", "read_at"),  # the bell's count
        Index("ix_notification_outbox", "email_status", "email_next_at"),  # the worker's pending e-mails
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # offered | decided | overdue
    instance_id: Mapped[int] = mapped_column(Integer)  # no index: nothing looks one up by it (migration 0021)
    task_id: Mapped[str | None] = mapped_column(String(36))
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)  # shown under the bell
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str | None] = mapped_column(String(16))  # None (no e-mail) | pending | sent | failed | dropped
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not before (back-off after a failure)
    email_claim: Mapped[str | None] = mapped_column(String(36))  # the worker sending it now
    email_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(Text)


class NotificationPreference(Base):
    """A person's choice for one kind of notification; without a row the defaults apply
    (engine/notify/preferences.py: in-app on, e-mail on once an address is set)."""

    __tablename__ = "notification_preference"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)


class NotificationMark(Base):
    """What the worker already announced (kind "overdue", subject a task id): inserted first, with the
    unique key settling a race, so two workers never announce the same deadline twice."""

    __tablename__ = "notification_mark"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# the worker's overdue scan, the health page, the SLA columns' fill: open tasks with a deadline by due time
# (declared here to leave the Task class to its owners); + instance: migration 0018; partial: 0022
_DUE = "status = 'ready' AND due_at IS NOT NULL"
Index("ix_task_status_due", Task.due_at, Task.instance_id, sqlite_where=text(_DUE), postgresql_where=text(_DUE))
# the open tasks led by role (migration 0016 replaced 0015's ix_task_open, led by status, which PostgreSQL could
# not position in: it drops a condition the partial index's own condition implies); status last for SQLite
Index("ix_task_ready", Task.role, Task.assignee, Task.sod, Task.instance_id, Task.status, **_OPEN_ONLY)
# the completed tasks by completion time (migrations 0020, 0022): the KPI page's counts of the completions in a
# range; status last for SQLite, which reads the partial condition's column to check it (else the table's rows)
_COMPLETED = "status = 'completed'"
Index("ix_task_completed", Task.completed_at, Task.role, Task.completed_by, Task.process_key, Task.status,
      sqlite_where=text(_COMPLETED), postgresql_where=text(_COMPLETED))
COMPLETED = literal_column("'completed'")  # what its readers compare `status` with (as READY above)
# the SLA search's old probes (ix_task_late, ix_task_late_instance, ix_audit_event_escalated) went with migration
# 0021: it reads instance.sla_breach_at (0019)
# the instances that breach an SLA (now or once their open tasks fall due), newest first (migration 0019)
_BREACHING = "sla_breach_at IS NOT NULL"
Index("ix_instance_sla_breach", Instance.started_at, Instance.id, Instance.sla_breach_at,
      sqlite_where=text(_BREACHING), postgresql_where=text(_BREACHING))


# -- customers (issue 14 item 7, seed 261, 270, 344; engine/customers) ---------------------------------------


class Customer(Base):
    """A customer the sales department keeps, with the representative who owns it (seed 270: 谁的客户归谁
    接待). Written only when the sales manager's review of a registration (process customer_register)
    completes: `active` when accepted, `rejected` when refused; a registration still under review is its
    running instance. `name` is normalised (whitespace collapsed) and unique. Every change is an event in
    the `customers` hash chain."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    customer_class: Mapped[str | None] = mapped_column(String(16))
    contact_person: Mapped[str] = mapped_column(String(200))
    contact_phone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(400))
    needs: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(64), index=True)  # a username; None for a refused one
    follow_up_strategy: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | rejected
    refusal_reason: Mapped[str | None] = mapped_column(String(32))  # duplicate | not_prospect
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    instance_id: Mapped[int | None] = mapped_column(Integer)  # the registration that decided it


class CustomerContact(Base):
    """A call, letter or visit of a customer, as a member of staff logged it (seed 261: 做好客户来电、来函、来访
    的记录工作). Never changed once logged; each is an event in the `customers` hash chain."""

    __tablename__ = "customer_contact"
    __table_args__ = (Index("ix_customer_contact_customer", "customer_id", "happened_on", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(16))  # call | letter | visit | other
    happened_on: Mapped[date] = mapped_column(Date)  # company day
    summary: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer)  # the case it was about, if any
    logged_by: Mapped[str] = mapped_column(String(64))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InstanceCustomerName(Base):
    """Every customer name an instance has carried (`instance.customer_name`), once each (migration 0017).

    The search by a part of a customer's name (engine/runtime/search.py) matches these few names, then finds
    the instances by their index on customer_name, instead of reading the name of every instance: a Chinese
    query is often two characters, which no trigram index serves. Added by the step that gives an instance a
    name it did not carry (engine/runtime/customer_names.py); never removed (a name no instance carries any
    more finds nothing)."""

    __tablename__ = "instance_customer_name"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    # lower(name), by the database's own lower(), as ILIKE folds it: a plain LIKE on it finds what ILIKE on the
    # name finds, without folding each name at each search (PostgreSQL's ILIKE on UTF-8 text: 15 times slower)
    folded: Mapped[str] = mapped_column(Text)  # text: lower() may lengthen a name (İ)


# the instances of the names found, their count and their order (newest first) from the index alone (migrations
# 0017, 0018)
Index("ix_instance_customer_name", Instance.customer_name, Instance.started_at, Instance.id)


# The KPI page's tables live in kpi_tables.py (one subject of their own); imported here so that importing models
# declares every table (Alembic's metadata, the tests) and their classes are found where every other table's are.
from engine.store.kpi_tables import (  # noqa: E402, F401
    KpiCase,
    KpiCaseDay,
    KpiCaseMonth,
    KpiCaseTarget,
    KpiCompletedDay,
    KpiCompletedMonth,
    KpiDay,
    KpiHoursDay,
    KpiHoursDekad,
    KpiHoursMonth,
    KpiHoursTotal,
    KpiOpenCase,
    KpiOpenDay,
    KpiOpenEnd,
    KpiRegisteredDay,
    KpiRollupState,
    KpiScore,
    KpiScoreDay,
    KpiScoreMonth,
)
