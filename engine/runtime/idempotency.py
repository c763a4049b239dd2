"""Idempotency keys: a command retried with the key of an earlier request gets that request's
answer instead of running a second time.

Clients send a key with start, complete and claim (the REST API's `Idempotency-Key` header; the
start and task pages send a one-time form token). The rules:

- The key, what the request asked (its fingerprint: the command, its target and its body) and
  the answer are written in the command's own transaction, so a command is never saved without
  its key nor a key without its command. A command that fails saves nothing, its key included:
  the retry runs again (and fails again, or succeeds once the cause is gone).
- A retry with the same key and the same request within `SALESFLOW_IDEMPOTENCY_HOURS` (default
  24) gets the first answer (`Answer.repeated`); the same key with another request is refused
  (InvalidData, 422, naming the Idempotency-Key). After the window the key is free again.
- Keys are each user's own: (username, key) is the primary key, so two users never collide.
- Two requests with one key at the same moment: the key row is inserted before the command
  runs, so on PostgreSQL the second insert waits on the primary key until the first transaction
  ends, then fails; the second request then reads and returns the first one's answer (or 409 if
  it vanished meanwhile, e.g. expired). On SQLite write transactions are serialised anyway.
  Exactly one of them runs the command.
- Expired keys are deleted by `purge`, which the timer worker runs every ten minutes
  (engine/runtime/housekeeping.py); a key that expired is also replaced when it is used again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock, tokens
from engine.config import whole_number
from engine.errors import Conflict, InvalidData
from engine.store.models import IdempotencyKey

if TYPE_CHECKING:
    from engine.runtime.context import Context

HOURS_SETTING = "SALESFLOW_IDEMPOTENCY_HOURS"
DEFAULT_HOURS = 24
FIELD = "Idempotency-Key"  # how errors name the key: the header a REST client sent
MAX_KEY = 255
REUSED = {"zh": "此幂等键已用于另一个请求（内容不同）；新的请求请使用新的键",
          "en": "This Idempotency-Key was already used for a different request; use a new key for a new request"}
MALFORMED = {"zh": f"幂等键须为 1-{MAX_KEY} 个可见的 ASCII 字符",
             "en": f"An Idempotency-Key is 1-{MAX_KEY} visible ASCII characters"}


@dataclass(frozen=True)
class Request:
    """What a key protects: the key, the command and a fingerprint of what was asked."""

    key: str
    command: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    """A command's answer (the instance or task right after it); `repeated` when it is the
    stored answer of an earlier request with the same key, and the command did not run now."""

    view: dict
    repeated: bool = False


def window() -> timedelta:
    """How long a key holds its answer: SALESFLOW_IDEMPOTENCY_HOURS (a whole number, default 24)."""
    return timedelta(hours=whole_number(HOURS_SETTING, DEFAULT_HOURS, minimum=1))


def request(key: str | None, command: str, asked: dict[str, Any]) -> Request | None:
    """The key's Request (None without a key); 422 for a key that is not 1-255 visible ASCII characters."""
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY or not all("!" <= ch <= "~" for ch in key):
        raise InvalidData(f"the {FIELD} must be 1-{MAX_KEY} visible ASCII characters", {FIELD: MALFORMED})
    try:
        text = json.dumps({"command": command, **asked}, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=str)
    except (ValueError, RecursionError):  # data the command refuses anyway; never the same as a valid one
        text = repr(asked)
    return Request(key, command, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())


class _Taken(Exception):
    """Another transaction inserted the same key first (and has committed by now)."""


def run(ctx: Context, caller: str | tokens.Bearer, once: Request | None,
        command: Callable[[Session, str], dict]) -> Answer:
    """Run `command(session, user name)` in one write transaction and answer what it returns; a Bearer
    caller's token is checked first, in that transaction. With a key, the answer is kept under it in the
    same transaction, and a request whose key was answered gets that answer."""
    if once is None:
        with ctx.db.write() as s:
            return Answer(command(s, tokens.username_of(s, caller, clock.now())))
    actor = caller
    try:
        with ctx.db.write() as s:
            actor = tokens.username_of(s, caller, clock.now())
            earlier = _reserve(s, actor, once, clock.now())
            if earlier is not None:
                return Answer(earlier, repeated=True)
            answer = command(s, actor)
            s.execute(update(IdempotencyKey).where(IdempotencyKey.username == actor, IdempotencyKey.key == once.key)
                      .values(answer=json.dumps(answer, ensure_ascii=False, sort_keys=True)))
            return Answer(answer)
    except _Taken:
        pass
    with ctx.db.read() as s:
        earlier = _answered(s, actor, once, clock.now())
    if earlier is None:
        raise Conflict(f"a request with this {FIELD} was running at the same time and left no answer; "
                       "check whether it took effect before retrying")
    return Answer(earlier, repeated=True)


def _answered(session: Session, actor: str, once: Request, now: datetime) -> dict | None:
    """The stored answer of this key if it is alive; 422 if the key was used for another request."""
    row = session.execute(select(IdempotencyKey.command, IdempotencyKey.fingerprint, IdempotencyKey.answer,
                                 IdempotencyKey.created_at)
                          .where(IdempotencyKey.username == actor, IdempotencyKey.key == once.key)).first()
    if row is None or row.created_at <= now - window():
        return None
    if (row.command, row.fingerprint) != (once.command, once.fingerprint):
        raise InvalidData(f"this {FIELD} was already used for a different request", {FIELD: REUSED})
    return json.loads(row.answer)


def _reserve(session: Session, actor: str, once: Request, now: datetime) -> dict | None:
    """The earlier answer, or None after inserting the key (with no answer yet) in this transaction."""
    earlier = _answered(session, actor, once, now)
    if earlier is not None:
        return earlier
    # an expired row of this key gives way (it may already be gone, purged meanwhile). Only an expired one: a row
    # another request committed since the read above is alive, and must make the INSERT below fail, not vanish
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.username == actor, IdempotencyKey.key == once.key,
                                                 IdempotencyKey.created_at <= now - window()))
    try:
        session.execute(insert(IdempotencyKey).values(username=actor, key=once.key, command=once.command,
                                                      fingerprint=once.fingerprint, answer="", created_at=now))
    except IntegrityError:  # the transaction is spoilt: run() leaves it and reads the winner's answer
        raise _Taken() from None
    return None


def purge(session: Session, now: datetime) -> int:
    """Delete every key older than the window; returns how many."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - window()))
    return result.rowcount or 0
