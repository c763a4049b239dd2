"""Checking a password under the throttle: logging in (pages, POST /api/v1/tokens) and a user changing
their own password (which needs the current one).

Each is a short read (is a lockout in force, the stored hash), the hash check outside any transaction,
then one write (the attempt, the outcome): the check costs tens of milliseconds on purpose, and holding
the database's write lock meanwhile would queue every other command behind it. Unknown and inactive
users get the same work (a dummy hash is checked) and the same answer as a wrong password.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import tokens, users
from engine.accounts import events, passwords, sessions, throttle
from engine.errors import InvalidData, Locked, Unauthorized
from engine.store.db import Database
from engine.store.models import User

T = TypeVar("T")
WRONG = "wrong user name or password"
WRONG_CURRENT = {"zh": "当前密码不正确", "en": "The current password is not correct"}
SAME = {"zh": "新密码须与当前密码不同", "en": "The new password must differ from the current one"}


def login(db: Database, username: object, password: object, address: str | None, now: datetime,
          then: Callable[[Session, User], T]) -> T:
    """`then(session, user)` in the transaction that records the successful login; Unauthorized for a
    wrong user name or password, Locked while the user name or the address is locked out."""
    name, where = throttle.name_key(username), throttle.address_key(address)
    with db.read() as s:
        lock = throttle.refusal(s, name, where, now)
        stored = None if lock else _stored_hash(s, username)
    if lock is not None:
        _refuse(db, name, where, lock, now)
    matches = passwords.verify(stored, password if isinstance(password, str) else "")
    with db.write() as s:
        user = _active(s, username) if matches else None
        if user is not None and user.password_hash == stored:  # unchanged since it was checked
            throttle.record(s, name, where, throttle.SUCCEEDED, now)
            return then(s, user)
        throttle.record(s, name, where, throttle.FAILED, now)
        lock = throttle.lock_after_failure(s, name, where, now)
    if lock is not None:
        raise locked(lock, now)
    raise Unauthorized(WRONG)


def change_password(db: Database, username: str, current: str, new: str, address: str | None, now: datetime,
                    then: Callable[[Session, User], T]) -> T:
    """The user's own change: the current password must match (a wrong one counts as a failed login), the
    new one must meet the policy. Ends every session and revokes every API token of the user; `then`
    runs in the same transaction (the web page starts the session it keeps there)."""
    passwords.check_policy(username, new, field="new_password")
    if new == current:
        raise InvalidData("the new password is the current one", {"new_password": SAME})
    name, where = throttle.name_key(username), throttle.address_key(address)
    with db.read() as s:
        stored = users.get_user(s, username).password_hash
        lock = throttle.refusal(s, name, where, now)
    if lock is not None:
        _refuse(db, name, where, lock, now)
    matches = passwords.verify(stored, current)
    new_hash = passwords.make_hash(new) if matches else None
    with db.write() as s:
        user = users.get_user(s, username)
        if matches and user.password_hash == stored:
            set_password(s, user, new_hash, username, "password_changed", now)
            return then(s, user)
        throttle.record(s, name, where, throttle.FAILED, now)
        lock = throttle.lock_after_failure(s, name, where, now)
    if lock is not None:
        raise locked(lock, now)
    raise InvalidData("the current password is not correct", {"current_password": WRONG_CURRENT})


def set_password(session: Session, user: User, new_hash: str, actor: str, kind: str, now: datetime) -> None:
    """A new password ends the user's web sessions and revokes their API tokens (whoever knew the old
    one may hold either); `kind` is the security event: password_changed or password_reset."""
    user.password_hash = new_hash
    sessions.end_all(user)
    revoked = tokens.revoke_all(session, user.username, now)
    events.record(session, now, actor, kind, {"username": user.username, "tokens_revoked": revoked})


def locked(lock: throttle.Lock, now: datetime) -> Locked:
    seconds = math.ceil((lock.until - now).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    source = "from this address" if lock.scope == throttle.ADDRESS else "for this user name"
    return Locked(f"too many failed logins {source}: try again in {minutes} minute(s), "
                  "or ask an administrator to unlock it", seconds)


def _refuse(db: Database, name: str, where: str, lock: throttle.Lock, now: datetime) -> None:
    with db.write() as s:
        throttle.record(s, name, where, throttle.REFUSED, now)
    raise locked(lock, now)


def _active(session: Session, username: object) -> User | None:
    if not isinstance(username, str) or not users.valid_name(username):
        return None
    user = session.scalar(select(User).where(User.username == username))
    return user if user is not None and user.active else None


def _stored_hash(session: Session, username: object) -> str | None:
    user = _active(session, username)
    return user.password_hash if user else None
