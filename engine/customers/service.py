"""The customers' reads and commands, each checking who acts (engine/runtime/access.py) first.

`actor` "system" is the operator at the console (`salesflow init --demo`), who holds the database anyway.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import users
from engine.config import COMPANY_TZ
from engine.customers import chain, contacts
from engine.customers.names import normalise
from engine.errors import InvalidData, NotFound
from engine.reasons import MAX_REASON, is_reason
from engine.runtime import access
from engine.store.models import Customer, CustomerContact, Instance, User

CONSOLE = "system"
REGISTER_PROCESS = "customer_register"
STATUSES = ("active", "rejected")


def company_today(at: datetime) -> date:
    return at.astimezone(ZoneInfo(COMPANY_TZ)).date()


def acting(session: Session, actor: str) -> users.Actor | None:
    return None if actor == CONSOLE else users.get_actor(session, actor)


def shape(c: Customer) -> dict:
    """A customer as the API and the pages show it (people by login id; the pages name them)."""
    return {"id": c.id, "name": c.name, "customer_class": c.customer_class, "contact_person": c.contact_person,
            "contact_phone": c.contact_phone, "address": c.address, "needs": c.needs, "source": c.source,
            "owner": c.owner, "follow_up_strategy": c.follow_up_strategy, "status": c.status,
            "refusal_reason": c.refusal_reason, "registered_by": c.registered_by,
            "registered_at": c.registered_at.isoformat(), "reviewed_by": c.reviewed_by,
            "reviewed_at": c.reviewed_at.isoformat(), "instance_id": c.instance_id}


def contact_shape(c: CustomerContact) -> dict:
    return {"id": c.id, "customer_id": c.customer_id, "kind": c.kind, "happened_on": c.happened_on.isoformat(),
            "summary": c.summary, "instance_id": c.instance_id, "logged_by": c.logged_by,
            "logged_at": c.logged_at.isoformat()}


# -- reads ------------------------------------------------------------------------------------------------------


def listing(session: Session, actor: str, owner: str | None = None, name: str | None = None,
            status: str | None = None) -> list[dict]:
    """Customers by name, filtered by owner (login id), a part of the name and status."""
    access.READ_CUSTOMERS.check(acting(session, actor))
    if status is not None and status not in STATUSES:
        raise InvalidData("status must be active or rejected",
                          {"status": {"zh": "须为 active（有效）或 rejected（已驳回）", "en": "active or rejected"}})
    query = select(Customer).order_by(Customer.name)
    if owner:
        query = query.where(Customer.owner == owner)
    if name and normalise(name):
        pattern = "%" + normalise(name).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Customer.name.like(pattern, escape="\\"))
    if status:
        query = query.where(Customer.status == status)
    return [shape(c) for c in session.scalars(query.limit(1000))]


def pending(session: Session, actor: str) -> list[dict]:
    """Registrations waiting for the sales manager's review: [{instance_id, name, registered_by, registered_at}]."""
    access.READ_CUSTOMERS.check(acting(session, actor))
    rows = session.scalars(select(Instance).where(Instance.process_key == REGISTER_PROCESS,
                                                  Instance.status == "running").order_by(Instance.id))
    return [{"instance_id": i.id, "name": i.customer_name, "registered_by": i.started_by,
             "registered_at": i.started_at.isoformat()} for i in rows]


def detail(session: Session, actor: str, customer_id: int) -> dict:
    """The customer with its contact log (newest first)."""
    access.READ_CUSTOMERS.check(acting(session, actor))
    c = _get(session, customer_id)
    log = session.scalars(select(CustomerContact).where(CustomerContact.customer_id == c.id)
                          .order_by(CustomerContact.happened_on.desc(), CustomerContact.id.desc()))
    return {**shape(c), "contacts": [contact_shape(e) for e in log]}


def _get(session: Session, customer_id: int) -> Customer:
    c = session.get(Customer, customer_id) if isinstance(customer_id, int) else None
    if c is None:
        raise NotFound(f"no customer {customer_id}")
    return c


def by_name(session: Session, name: object) -> Customer | None:
    key = normalise(name)
    return session.scalar(select(Customer).where(Customer.name == key)) if key else None


def owner_for_tasks(session: Session, name: object) -> str | None:
    """The login id a task about this customer goes to (seed 270: 谁的客户归谁接待): its owner, when the
    customer is active and the owner is an active sales representative; else None."""
    c = by_name(session, name)
    if c is None or c.status != "active" or not c.owner:
        return None
    owner = session.scalar(select(User).where(User.username == c.owner))
    return c.owner if access.may_own_customers(owner) else None


def display_name(session: Session, username: str | None) -> str:
    if not username:
        return ""
    return session.scalar(select(User.display_name).where(User.username == username)) or username


# -- commands -----------------------------------------------------------------------------------------------------


def log_contact(session: Session, actor: str, at: datetime, customer_id: int, raw: object) -> dict:
    """Log a call, letter or visit of an active customer; InvalidData by field."""
    access.LOG_CONTACTS.check(acting(session, actor))
    chain.lock(session)
    c = _get(session, customer_id)
    entry = contacts.check(raw, company_today(at))
    if c.status != "active":
        raise InvalidData(f"customer {c.id} was not accepted: contacts are logged for active customers only",
                          {"_form": {"zh": "该客户未通过审核，不能登记联系记录",
                                     "en": "This customer was not accepted; contacts are logged for active customers"}})
    if entry.instance_id is not None and session.get(Instance, entry.instance_id) is None:
        raise InvalidData(f"no case {entry.instance_id}",
                          {"instance_id": {"zh": "没有这个案卷编号", "en": "There is no case with this number"}})
    row = CustomerContact(customer_id=c.id, kind=entry.kind, happened_on=entry.happened_on, summary=entry.summary,
                          instance_id=entry.instance_id, logged_by=actor, logged_at=at)
    session.add(row)
    session.flush()
    chain.record(session, at, actor, "contact_logged", {"contact": chain.contact_payload(row)})
    return contact_shape(row)


def change_owner(session: Session, actor: str, at: datetime, customer_id: int, raw: object) -> dict:
    """Give the customer to another active sales representative, with the reason (the sales manager)."""
    access.CHANGE_OWNER.check(acting(session, actor))
    chain.lock(session)
    c = _get(session, customer_id)
    raw = raw if isinstance(raw, dict) else {}
    owner, reason = raw.get("owner"), raw.get("reason")
    problems: dict[str, dict[str, str]] = {}
    if not owner_allowed(session, owner):
        problems["owner"] = {"zh": "请选择一位在职的销售代表", "en": "Choose an active sales representative"}
    elif owner == c.owner:
        problems["owner"] = {"zh": "该客户已归此人负责", "en": "This representative already owns the customer"}
    if not is_reason(reason):
        problems["reason"] = {"zh": f"请填写原因（1-{MAX_REASON}个字符）",
                              "en": f"Give the reason (1-{MAX_REASON} characters)"}
    if c.status != "active":
        problems["_form"] = {"zh": "该客户未通过审核，没有负责人",
                             "en": "This customer was not accepted and has no owner"}
    if problems:
        raise InvalidData(f"the owner cannot be changed: {', '.join(sorted(problems))}", problems)
    previous, c.owner = c.owner, owner
    chain.record(session, at, actor, "owner_changed", {"id": c.id, "name": c.name, "from": previous, "to": owner,
                                                       "reason": reason.strip()})
    return shape(c)


def owner_allowed(session: Session, owner: object) -> bool:
    if not isinstance(owner, str) or not owner or len(owner) > 64:
        return False
    return access.may_own_customers(session.scalar(select(User).where(User.username == owner)))


def sales_reps(session: Session) -> list[str]:
    """The active sales representatives, who may own customers (the owner pickers list them)."""
    from engine.store.models import UserRole

    rows = session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                           .where(UserRole.role_id == access.CUSTOMER_OWNER_ROLE, User.active.is_(True))
                           .order_by(User.username))
    return [u.username for u in rows]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0
