"""Appending to a hash chain.

Each event's hash is sha256(prev_hash + canonical JSON of the event), where the
canonical JSON has sorted keys, no spaces and UTF-8 text. The chain's head
(length and last hash) is kept in `audit_chain`, so that deleting events from
the end is detected too. The offline check (docs/audit.md) needs only this
module's `canonical` and `event_hash`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
from typing import Any

from sqlalchemy import String, cast, insert, inspect, literal_column, select, text
from sqlalchemy.orm import Session

from engine import jsonvalues
from engine.errors import ProcessError
from engine.store.driver_sql import DriverStatement
from engine.store.models import AuditChain, AuditEvent
from engine.store.writes import mark_written

GENESIS = "0" * 64
DEPLOYMENTS = "deployments"


def instance_chain(instance_id: int) -> str:
    return f"instance:{instance_id}"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_body(chain: str, position: int, at: str, actor: str, kind: str, task: str | None,
               payload: dict) -> dict:
    return {"chain": chain, "position": position, "at": at, "actor": actor, "kind": kind, "task": task,
            "payload": payload}


def event_hash(prev_hash: str, body: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


def append(session: Session, chain: str, at: str, actor: str, kind: str, task: str | None, payload: dict,
           instance_id: int | None = None) -> AuditEvent:
    """Append one event. The caller's transaction must hold the chain's lock
    (the instance row; for the deployments chain, the chain row itself).

    A payload holding NaN or an infinity is refused (ProcessError, nothing saved): JSON has no
    such numbers, so no reader but Python's could parse the event, and the trail would verify
    on the server yet fail in every other tool. Inputs are refused earlier (engine.forms); this
    catches whatever a script or decision computed."""
    event = AuditEvent(**_next_row(session, chain, at, actor, kind, task, payload, instance_id))
    session.add(event)
    head = _head(session, chain)
    if inspect(head).transient:  # a new chain's head, which only this module writes (new_chain)
        _write_head(session, chain, head)
    return event


def append_many(session: Session, chain: str, events: list[tuple[str, str, str, str | None, dict]],
                instance_id: int | None = None) -> None:
    """Append (at, actor, kind, task, payload) events in order, as `append` does, in one INSERT: a
    step records several at once. The chain's head is written at once too (with the events, in the same
    statement, on PostgreSQL), not by the unit of work at the flush."""
    rows = [_next_row(session, chain, *event, instance_id) for event in events]
    if not rows:
        return
    head = _head(session, chain)
    state = inspect(head)
    if state.pending:  # a head `_head` created for a chain without one: the flush inserts it
        _INSERT_EVENTS.execute(session, rows)
        return
    if session.get_bind().dialect.name == "postgresql":
        # one round trip: the events' insert runs as a data-modifying WITH of the head's insert or update
        params = {f"{c}{i}": row[c] for i, row in enumerate(rows) for c in _EVENT_COLUMNS}
        new = _unwritten(session).pop(chain, False)
        _events_and_head(len(rows), new).execute(session, {**params, "length": head.length, "head": head.head,
                                                           "chain": chain})
        if state.persistent:
            mark_written(session, head)
        return
    _INSERT_EVENTS.execute(session, rows)  # one executemany, whatever is None
    _write_head(session, chain, head)


def _write_head(session: Session, chain: str, head: AuditChain) -> None:
    """The head as it stands now, written at once: a row read under the lock is updated (and marked as the
    database's); a new chain's head (new_chain: kept out of the session, so that a rolled-back SAVEPOINT
    leaves no object of it behind) is inserted the first time, updated after."""
    if inspect(head).persistent:  # its own statement, the row then marked as written (write_changes' work
        # for any row, less the finding out which columns changed: a head's are always these two)
        _UPDATE_HEAD.execute(session, {"chain": chain, "length": head.length, "head": head.head})
        mark_written(session, head)
        return
    new = _unwritten(session).pop(chain, False)
    (_INSERT_HEAD if new else _UPDATE_HEAD).execute(session, {"chain": chain, "length": head.length,
                                                           "head": head.head})


_EVENT_COLUMNS = ("chain", "position", "instance_id", "at", "actor", "kind", "task", "payload", "prev_hash", "hash")
# compiled once per database (engine/store/driver_sql.py): every step writes its events and its chain's head
_INSERT_EVENTS = DriverStatement(insert(AuditEvent.__table__), _EVENT_COLUMNS)
_INSERT_HEAD_SQL = "INSERT INTO audit_chain (chain, length, head) VALUES (:chain, :length, :head)"
_UPDATE_HEAD_SQL = "UPDATE audit_chain SET length = :length, head = :head WHERE chain = :chain"
_INSERT_HEAD = DriverStatement(text(_INSERT_HEAD_SQL))
_UPDATE_HEAD = DriverStatement(text(_UPDATE_HEAD_SQL))
_UNWRITTEN = "audit_heads_unwritten"  # session.info: {chain: True} for new chains whose head row is not in yet


def _unwritten(session: Session) -> dict[str, bool]:
    return session.info.setdefault(_UNWRITTEN, {})


@functools.lru_cache(maxsize=64)
def _events_and_head(count: int, new: bool) -> DriverStatement:
    """PostgreSQL: `count` events inserted and the chain's head inserted (`new`) or moved, in one statement;
    built once per shape."""
    values = ", ".join("(" + ", ".join(f":{c}{i}" for c in _EVENT_COLUMNS) + ")" for i in range(count))
    head = _INSERT_HEAD_SQL if new else _UPDATE_HEAD_SQL
    columns = ", ".join(_EVENT_COLUMNS)
    return DriverStatement(text(f"WITH added AS (INSERT INTO audit_event ({columns}) VALUES {values}) {head}"))


def _next_row(session: Session, chain: str, at: str, actor: str, kind: str, task: str | None, payload: dict,
              instance_id: int | None) -> dict:
    """The event's row after the chain's head, which moves on to it."""
    text = _payload_text(kind, payload)
    head = _head(session, chain)
    position = head.length + 1
    digest = hashlib.sha256((head.head + body_text(chain, position, at, actor, kind, task, text))
                            .encode("utf-8")).hexdigest()
    row = {"chain": chain, "position": position, "instance_id": instance_id, "at": at, "actor": actor, "kind": kind,
           "task": task, "payload": text, "prev_hash": head.head, "hash": digest}
    head.length, head.head = position, digest
    return row


# what json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) encodes
# with (`canonical`'s options and allow_nan=False), kept instead of one built at every call
_PAYLOAD_TEXT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _payload_text(kind: str, payload: dict) -> str:
    """`canonical(payload)`, refusing a payload that holds NaN or an infinity (see `append`). The text is written
    once and the check walks the payload only when writing it failed (a step's payload holds its data twice)."""
    try:
        return _PAYLOAD_TEXT.encode(payload)
    except (ValueError, TypeError, RecursionError):
        for flaw in jsonvalues.flaws(payload, max_depth=10_000):  # what a script built may be deep
            if flaw.kind == jsonvalues.NON_FINITE:
                raise ProcessError(f"{kind}: the value at {jsonvalues.where(flaw.path)} is not a finite number "
                                   "(NaN or infinity), which JSON cannot hold; nothing was saved") from None
        raise


def body_text(chain: str, position: int, at: str, actor: str, kind: str, task: str | None, payload_text: str) -> str:
    """`canonical(event_body(...))` around the payload's canonical text, which is not written a second time:
    the body's keys in their sorted order, the payload's between `kind` and `position`."""
    return (f'{{"actor":{_value_text(actor)},"at":{_value_text(at)},"chain":{_value_text(chain)},'
            f'"kind":{_value_text(kind)},"payload":{payload_text},"position":{_value_text(position)},'
            f'"task":{_value_text(task)}}}')


_encode_text = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) writes a text with


def _value_text(value: object) -> str:
    """`canonical(value)` of one of a body's own values, as the encoder writes it inside the body: a text through
    its own string encoder (without a json.dumps call for each), anything else through json.dumps."""
    if type(value) is str:
        return _encode_text(value)
    if value is None:
        return "null"
    if type(value) is int:  # a position: the encoder writes an int as int.__repr__ does
        return int.__repr__(value)
    return canonical(value)


def _head(session: Session, chain: str) -> AuditChain:
    """The chain's head row, read (and locked) once per transaction: a command appends several
    events, and reading the head again for each one cost a query and a flush per event."""
    transaction = session.get_transaction()
    heads = session.info.setdefault("audit_heads", {})
    known = heads.get(chain)
    if known is not None and known[0] is transaction:
        return known[1]
    head = session.scalar(select(AuditChain).where(AuditChain.chain == chain).with_for_update())
    if head is None:
        head = AuditChain(chain=chain, length=0, head=GENESIS)
        session.add(head)
    heads[chain] = (transaction, head)
    return head


def instance_chain_of(instance_id_column: Any) -> Any:
    """`instance_chain` in SQL, to join an instance row to its chain's head."""
    return literal_column("'instance:'").concat(cast(instance_id_column, String))


def remember_head(session: Session, chain: str, head: AuditChain | None) -> None:
    """A head read with the row that locks the chain (the instance's), so that `_head` needs no query."""
    if head is not None:
        session.info.setdefault("audit_heads", {})[chain] = (session.get_transaction(), head)


def new_chain(session: Session, chain: str) -> None:
    """Start a chain known not to exist yet (a new instance's): its head needs no read, and its row is
    inserted by the first append (as it stands after it), not by the flush."""
    head = AuditChain(chain=chain, length=0, head=GENESIS)
    remember_head(session, chain, head)
    _unwritten(session)[chain] = True


def forget_heads(session: Session) -> None:
    """Drop the heads this session remembers: after a rolled-back SAVEPOINT (one instance's failed
    step inside another's command) they may count events that are gone."""
    session.info.pop("audit_heads", None)
    session.info.pop(_UNWRITTEN, None)
