"""The `customers` hash chain: every change to a customer record or its contact log is an event.

Events: `customer_registered` {customer}, `customer_refused` {customer} (the sales manager's review of a
registration, instance named), `owner_changed` {id, name, from, to, reason} and `contact_logged`
{contact}. `salesflow audit verify` checks the chain with every other.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.audit.chain import GENESIS, append
from engine.clock import iso
from engine.store.models import AuditChain, Customer, CustomerContact

CUSTOMERS = "customers"


def lock(session: Session) -> None:
    """Serialise changes to customers on the chain's head row (created if missing, without failing when
    another writer just created it): a name checked free stays free until the commit."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AuditChain).values(chain=CUSTOMERS, length=0, head=GENESIS)
                    .on_conflict_do_nothing(index_elements=["chain"]))
    session.scalar(select(AuditChain).where(AuditChain.chain == CUSTOMERS).with_for_update())


def has_rows(session: Session) -> bool:
    return session.scalar(select(Customer.id).limit(1)) is not None


def record(session: Session, at: datetime, actor: str, kind: str, payload: dict) -> None:
    """Append one event; the caller holds the lock (`lock`) for the whole transaction."""
    append(session, CUSTOMERS, iso(at), actor, kind, None, payload)


def customer_payload(c: Customer) -> dict:
    return {"id": c.id, "name": c.name, "customer_class": c.customer_class, "contact_person": c.contact_person,
            "contact_phone": c.contact_phone, "address": c.address, "needs": c.needs, "source": c.source,
            "owner": c.owner, "follow_up_strategy": c.follow_up_strategy, "status": c.status,
            "refusal_reason": c.refusal_reason, "registered_by": c.registered_by,
            "registered_at": iso(c.registered_at), "reviewed_by": c.reviewed_by, "reviewed_at": iso(c.reviewed_at),
            "instance_id": c.instance_id}


def contact_payload(c: CustomerContact) -> dict:
    return {"id": c.id, "customer_id": c.customer_id, "kind": c.kind, "happened_on": c.happened_on.isoformat(),
            "summary": c.summary, "instance_id": c.instance_id, "logged_by": c.logged_by,
            "logged_at": iso(c.logged_at)}


# what a customer row must hold as the chain says (the rest is copied from the registration and never changes)
CHECKED = ("name", "owner", "status", "follow_up_strategy", "refusal_reason")


def fold(events: list[tuple[int, str, dict]]) -> tuple[dict[int, dict], dict[int, dict], dict[tuple, int]]:
    """({customer id: row}, {contact id: row}, {(table, id): position of the last event that touched it})."""
    customers: dict[int, dict] = {}
    contacts: dict[int, dict] = {}
    touched: dict[tuple, int] = {}
    for position, kind, payload in events:
        if kind in ("customer_registered", "customer_refused") and payload.get("customer"):
            customers[payload["customer"]["id"]] = dict(payload["customer"])
            touched[("customer", payload["customer"]["id"])] = position
        elif kind == "owner_changed" and payload.get("id") in customers:
            customers[payload["id"]]["owner"] = payload.get("to")
            touched[("customer", payload["id"])] = position
        elif kind == "contact_logged":
            contacts[payload["contact"]["id"]] = dict(payload["contact"])
            touched[("contact", payload["contact"]["id"])] = position
    return customers, contacts, touched


def check_table(session: Session) -> tuple[int | None, str]:
    """(None, "") when the customer and contact tables are what the chain says; else the position of the event
    the first differing row goes back to (None for a row no event wrote) and what differs."""
    from engine.store.models import AuditEvent

    events = [(e.position, e.kind, json.loads(e.payload)) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.chain == CUSTOMERS).order_by(AuditEvent.position))]
    want_customers, want_contacts, touched = fold(events)
    have_customers = {c.id: customer_payload(c) for c in session.scalars(select(Customer))}
    have_contacts = {c.id: contact_payload(c) for c in session.scalars(select(CustomerContact))}
    for table, want, have, fields in (("customer", want_customers, have_customers, CHECKED),
                                      ("contact", want_contacts, have_contacts, CONTACT_FIELDS)):
        for row_id in sorted(want.keys() | have.keys()):
            if row_id not in have:
                return touched.get((table, row_id)), f"{table} {row_id} is missing from its table"
            if row_id not in want:
                return None, f"{table} {row_id} is in its table but no event of the customers chain wrote it"
            for name in fields:
                if want[row_id].get(name) != have[row_id].get(name):
                    return touched.get((table, row_id)), (f"{table} {row_id}: the table holds {name} = "
                                                          f"{have[row_id].get(name)!r}, the chain says "
                                                          f"{want[row_id].get(name)!r}")
    return None, ""


CONTACT_FIELDS = ("customer_id", "kind", "happened_on", "summary", "instance_id", "logged_by")
