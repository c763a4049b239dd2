"""What the runtime does for customers: the registration's effect, its duplicate check, and the
`customer_owner` lane.

- A registration (process customer_register) refuses at its start a name already registered or waiting
  for review, naming who owns it or registered it (by display name).
- When a registration completes, `registration_completed` (effects.HANDLERS) writes the customer record
  in the step's transaction: accepted, an active customer owned by the representative the sales manager
  confirmed; refused as not a real prospect, a rejected record. It checks in the database that the
  review was completed by an active sales manager, so a diagram that reaches its end another way
  creates no customer.
- A task in the lane `customer_owner` (seed 270: 谁的客户归谁接待) goes to the owner of the customer the
  instance names (`customer_name`), when that customer is active and its owner an active sales
  representative; else to the starter when he is a sales representative (he received the customer),
  else to every sales representative. The task row keeps the role sales_rep when it leaves the starter,
  so the sales manager sees and reassigns it. The lookup reads the database, so it is recorded as its
  own event (`routed`), which replay does not recompute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.customers import chain, service
from engine.customers.names import normalise
from engine.errors import InvalidData, ProcessError
from engine.runtime import access
from engine.store.models import Customer, Instance, Task, User
from engine.users import roles_of

REVIEW_TASK = "review_customer"  # the sales manager's review in processes/customer_register.bpmn
ACCEPTED, REFUSED = "approved", "rejected"  # the end events' outcomes (processes/outcomes.yaml)
REFUSALS = ("duplicate", "not_prospect")


# -- at the start of a registration ---------------------------------------------------------------------------


def check_new(session: Session, key: str, data: dict) -> None:
    """A registration of a name already registered (active) or under review is refused, naming the owner or
    the registering representative by display name."""
    if key != service.REGISTER_PROCESS:
        return
    name = normalise(data.get("customer_name"))
    existing = service.by_name(session, name)
    if existing is not None and existing.status == "active":
        owner = service.display_name(session, existing.owner)
        raise InvalidData(f"customer {name} is already registered, owned by {existing.owner}",
                          {"customer_name": {"zh": f"客户“{name}”已登记，由{owner}负责",
                                             "en": f"“{name}” is already a customer, owned by {owner}"}})
    waiting = _under_review(session, name)
    if waiting is not None:
        who = service.display_name(session, waiting.started_by)
        raise InvalidData(f"customer {name} is already registered by {waiting.started_by} and waits for review",
                          {"customer_name": {"zh": f"客户“{name}”已由{who}登记，正在等待审核",
                                             "en": f"“{name}” was already registered by {who} and waits for review"}})


def _under_review(session: Session, name: str) -> Instance | None:
    rows = session.scalars(select(Instance).where(Instance.process_key == service.REGISTER_PROCESS,
                                                  Instance.status.in_(("running", "incident"))))
    return next((i for i in rows if normalise(i.customer_name) == name), None)


# -- when a registration completes ---------------------------------------------------------------------------------


def registration_completed(session: Session, instance: Instance, data: dict, actor: str, at: datetime) -> None:
    """The reviewed registration becomes a customer record (module docstring)."""
    if instance.outcome not in (ACCEPTED, REFUSED):
        return
    if not access.reviewed_by_manager(session, instance, REVIEW_TASK):
        raise ProcessError(f"instance {instance.id} ended without the sales manager's review "
                           f"({REVIEW_TASK}): no customer is recorded", REVIEW_TASK)
    chain.lock(session)
    reviewer = session.scalar(select(Task.completed_by).where(
        Task.instance_id == instance.id, Task.bpmn_id == REVIEW_TASK, Task.status == "completed")
        .order_by(Task.completed_at.desc()).limit(1))
    name = normalise(data.get("customer_name"))
    existing = service.by_name(session, name)
    if instance.outcome == ACCEPTED:
        _accept(session, instance, data, name, existing, reviewer, at)
    else:
        _refuse(session, instance, data, name, existing, reviewer, at)


def _accept(session: Session, instance: Instance, data: dict, name: str, existing: Customer | None,
            reviewer: str, at: datetime) -> None:
    if existing is not None and existing.status == "active":
        owner = service.display_name(session, existing.owner)
        raise InvalidData(f"customer {name} was registered meanwhile, owned by {existing.owner}",
                          {"approved": {"zh": f"客户“{name}”已登记，由{owner}负责；请以重复登记驳回",
                                        "en": f"“{name}” is already a customer, owned by {owner}; "
                                              "refuse this registration as a duplicate"}})
    owner = (data.get("owner") or "").strip() if isinstance(data.get("owner"), str) else ""
    owner = owner or instance.started_by
    if not service.owner_allowed(session, owner):
        raise InvalidData(f"{owner} is not an active sales representative and cannot own a customer",
                          {"owner": {"zh": "负责人须为在职的销售代表（填写其登录名）",
                                     "en": "The owner must be an active sales representative (give the login id)"}})
    c = existing or Customer(name=name)
    _fill(c, instance, data, reviewer, at)
    c.owner, c.status, c.refusal_reason = owner, "active", None
    c.follow_up_strategy = str(data.get("follow_up_strategy") or "").strip()
    session.add(c)
    session.flush()
    chain.record(session, at, reviewer, "customer_registered", {"customer": chain.customer_payload(c)})


def _refuse(session: Session, instance: Instance, data: dict, name: str, existing: Customer | None,
            reviewer: str, at: datetime) -> None:
    """A refused registration: a rejected record when the name is free (so the list shows it was refused and
    why); a duplicate of an active customer leaves that customer as it is."""
    reason = data.get("refusal_reason") if data.get("refusal_reason") in REFUSALS else "not_prospect"
    payload = {"name": name, "instance_id": instance.id, "refusal_reason": reason,
               "registered_by": instance.started_by, "comment": str(data.get("comment") or "")}
    if existing is None or existing.status != "active":
        c = existing or Customer(name=name)
        _fill(c, instance, data, reviewer, at)
        c.owner, c.status, c.refusal_reason, c.follow_up_strategy = None, "rejected", reason, ""
        session.add(c)
        session.flush()
        payload["customer"] = chain.customer_payload(c)
    chain.record(session, at, reviewer, "customer_refused", payload)


def _fill(c: Customer, instance: Instance, data: dict, reviewer: str, at: datetime) -> None:
    def text(key: str, limit: int) -> str:
        value = data.get(key)
        return value.strip()[:limit] if isinstance(value, str) else ""

    c.customer_class = text("customer_class", 16) or None
    c.contact_person, c.contact_phone = text("contact_person", 200), text("contact_phone", 64)
    c.address, c.needs, c.source = text("address", 400) or None, text("needs", 4000), text("source", 32) or None
    c.registered_by, c.registered_at = instance.started_by, instance.started_at
    c.reviewed_by, c.reviewed_at, c.instance_id = reviewer, at, instance.id


# -- the customer_owner lane ------------------------------------------------------------------------------------------


def route(session: Session, instance: Instance, row: Task, task_data: dict,
          record: Callable[[str, str | None, dict], None]) -> None:
    """Send a task of the `customer_owner` lane (offered to the starter, like `initiator`) to the customer's
    owner, or to the sales representatives when the starter is none (module docstring)."""
    name = normalise(task_data.get("customer_name"))
    owner = service.owner_for_tasks(session, name)
    if owner is None and _starter_receives(session, instance.started_by):
        return
    if owner is not None and owner == instance.started_by:
        return
    row.role, row.assignee = access.CUSTOMER_OWNER_ROLE, owner
    record("routed", row.bpmn_id, {"task_id": row.id, "to": owner, "role": access.CUSTOMER_OWNER_ROLE,
                                   "customer": name, "why": "owner" if owner else "no_owner"})


def _starter_receives(session: Session, username: str) -> bool:
    user = session.scalar(select(User).where(User.username == username))
    return user is not None and user.active and access.CUSTOMER_OWNER_ROLE in roles_of(user)
