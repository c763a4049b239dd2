"""The customer names instances carry, kept once each in `instance_customer_name` for the search by a part
of a name (engine/runtime/search.py): a company has tens of thousands of customers, an instance table
millions of rows."""

from __future__ import annotations

import weakref

from sqlalchemy import Engine, Select, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.lru import Lru
from engine.store.models import InstanceCustomerName

# names this process saw committed, per database engine (a new engine, as each test's, starts empty): names are
# never removed, so a name found here needs no INSERT; bounded, as a company's customers are (a miss costs one)
KNOWN_SIZE = 50_000
_known: weakref.WeakKeyDictionary[Engine, Lru[bool]] = weakref.WeakKeyDictionary()
_PENDING = "customer_names.pending"

# every name the instances carry, once (migration 0017 keeps its own copy; bench/inbox_latency.py after its load)
FILL = ("INSERT INTO instance_customer_name (name, folded) SELECT DISTINCT customer_name, lower(customer_name) "
        "FROM instance WHERE customer_name IS NOT NULL")


def copied(value: object) -> str | None:
    """The instance column's value for the data's `customer_name`: the text trimmed, at most 200 characters."""
    return (value.strip()[:200] or None) if isinstance(value, str) else None


def remember(session: Session, name: str) -> None:
    """Keep the name: one statement when this process has not seen it committed, else none. Called only when
    an instance takes a name it did not carry, so a command that leaves the name alone sends nothing."""
    bind = session.get_bind()
    known = _known.setdefault(bind, Lru(KNOWN_SIZE)) if isinstance(bind, Engine) else None
    if known is not None and known.peek(name):
        return
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    with session.no_autoflush:  # a new instance goes out later in one INSERT with its name, not now and updated
        session.execute(insert(InstanceCustomerName).values(name=name, folded=func.lower(name))
                        .on_conflict_do_nothing(index_elements=["name"]))
    if known is not None:
        session.info.setdefault(_PENDING, []).append((known, name))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the transaction may still roll back
        return
    for known, name in session.info.pop(_PENDING, []):
        known.put(name, True)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _transaction: object) -> None:
    session.info.pop(_PENDING, None)  # a savepoint's too: forgetting a name costs an INSERT, never a lost name


def matching(pattern: str, escape: str) -> Select:
    """The names that match the pattern in any letter case (as `name ILIKE pattern`), as a subquery for
    `customer_name IN (...)`: the folded names LIKE the pattern folded by the same lower()."""
    return select(InstanceCustomerName.name).where(InstanceCustomerName.folded.like(func.lower(pattern),
                                                                                    escape=escape))
