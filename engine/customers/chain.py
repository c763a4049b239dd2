"""The `customers` hash chain: every change to a customer record or its contact log is an event.

Events: `customer_registered` {customer}, `customer_refused` {customer} (the sales manager's review of a
registration, instance named), `owner_changed` {id, name, from, to, reason} and `contact_logged`
{contact}. `salesflow audit verify` checks the chain with every other.
"""

from __future__ import annotations

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
