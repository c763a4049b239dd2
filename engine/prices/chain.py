"""The `prices` hash chain: every change to the price list is an event, as deployments are.

Events: `prices_added` {source, sha256, added: [row], ended: [end]} (an import, or one row added on the
page) and `price_ended` {end} (a row's validity ended by hand), where a row is {id, product, spec, grade,
unit, price_fen, valid_from, valid_to} and an end is {id, valid_to, previous_valid_to}. Folding the
events gives the table as it must be; `check_table` compares it with the table, so that a price changed
in the database behind the engine's back is found by `salesflow audit verify` even though no event
was touched.
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
from engine.store.models import AuditChain, AuditEvent, Price

PRICES = "prices"
FIELDS = ("product", "spec", "grade", "unit", "price_fen", "valid_from", "valid_to")


def lock(session: Session) -> None:
    """Serialise every change to the price list on the chain's head row (created if missing, without
    failing when another writer just created it): the overlap checks then see every committed row."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AuditChain).values(chain=PRICES, length=0, head=GENESIS)
                    .on_conflict_do_nothing(index_elements=["chain"]))
    session.scalar(select(AuditChain).where(AuditChain.chain == PRICES).with_for_update())


def record(session: Session, at: datetime, actor: str, kind: str, payload: dict) -> None:
    """Append one event; the caller holds the lock (`lock`) for the whole transaction."""
    append(session, PRICES, iso(at), actor, kind, None, payload)


def row_payload(p: Price) -> dict:
    return {"id": p.id, "product": p.product, "spec": p.spec, "grade": p.grade, "unit": p.unit,
            "price_fen": p.price_fen, "valid_from": p.valid_from.isoformat(),
            "valid_to": p.valid_to.isoformat() if p.valid_to else None}


def fold(events: list[tuple[int, str, dict]]) -> tuple[dict[int, dict], dict[int, int]]:
    """({id: row} as the events leave the list, {id: position of the last event that touched it})."""
    table: dict[int, dict] = {}
    touched: dict[int, int] = {}
    for position, kind, payload in events:
        for row in payload.get("added", []):
            table[row["id"]] = dict(row)
            touched[row["id"]] = position
        ends = payload.get("ended", []) if kind == "prices_added" else [payload]
        for end in ends:
            if end["id"] in table:
                table[end["id"]]["valid_to"] = end["valid_to"]
            touched[end["id"]] = position
    return table, touched


def has_rows(session: Session) -> bool:
    return session.scalar(select(Price.id).limit(1)) is not None


def check_table(session: Session) -> tuple[int | None, str]:
    """(None, "") when the price table is exactly what its chain says; else the position of the event
    the first differing row goes back to (None for a row no event added) and what differs."""
    events = [(e.position, e.kind, json.loads(e.payload)) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.chain == PRICES).order_by(AuditEvent.position))]
    expected, touched = fold(events)
    actual = {p.id: row_payload(p) for p in session.scalars(select(Price).order_by(Price.id))}
    for pid in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(pid), actual.get(pid)
        if have is None:
            return touched.get(pid), f"price row {pid} is missing from the price table"
        if want is None:
            return None, f"price row {pid} is in the price table but no event of the chain added it"
        for name in FIELDS:
            if want[name] != have[name]:
                return touched.get(pid), (f"price row {pid}: the table holds {name} = {have[name]!r}, "
                                          f"the chain says {want[name]!r}")
    return None, ""
