"""The login throttle: failed logins counted per user name and per client address in the database (so
the limits hold across every web worker and server), and temporary lockouts when they pile up.

A user name is locked after `account_failures()` failures within `lockout()` (5 in 15 minutes), an
address after `address_failures()` (30 in 15 minutes); a lockout lasts `lockout()` or until an
administrator lifts it. Failures before a lockout (or its lifting), and for a user name before its last
successful login, no longer count. Names that belong to nobody are counted and locked exactly like real
ones, so a lockout says nothing about who exists. Concurrent failures in several workers may each count
before seeing the others' rows; the limit then takes effect on the next attempt.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.accounts import events, settings
from engine.store.models import LoginAttempt, LoginLock

ACCOUNT, ADDRESS = "account", "address"
SUCCEEDED, FAILED, REFUSED = "succeeded", "failed", "refused"
KEY_LENGTH = 64


@dataclass(frozen=True)
class Lock:
    scope: str  # account | address
    key: str
    until: datetime


def name_key(username: object) -> str:
    """The user name as recorded: any text (it need not exist), cut to the column's size, NUL made visible."""
    text = username if isinstance(username, str) else ""
    return text.replace("\x00", "\ufffd")[:KEY_LENGTH]


def address_key(address: str | None) -> str:
    """The client address as counted: IPv4 as it is, IPv6 as its /64 network (one client commonly holds a
    whole /64 and could otherwise step through its addresses); anything else as given."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return name_key(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def active_lock(session: Session, scope: str, key: str, now: datetime) -> Lock | None:
    row = session.scalar(select(LoginLock).where(
        LoginLock.scope == scope, LoginLock.key == key, LoginLock.until > now, LoginLock.lifted_at.is_(None))
        .order_by(LoginLock.until.desc()).limit(1))
    return Lock(row.scope, row.key, row.until) if row else None


def refusal(session: Session, username: str, address: str, now: datetime) -> Lock | None:
    """The lockout that refuses this login (the address's first), or None."""
    return active_lock(session, ADDRESS, address, now) or active_lock(session, ACCOUNT, username, now)


def record(session: Session, username: str, address: str, outcome: str, now: datetime) -> None:
    session.add(LoginAttempt(at=now, username=username, address=address, outcome=outcome))


def lock_after_failure(session: Session, username: str, address: str, now: datetime) -> Lock | None:
    """After a failed login has been recorded: lock the address and/or the user name when their failures
    reached the limit; the lock that now refuses them (the address's first), or None."""
    locks = [_lock_if_over(session, ADDRESS, address, settings.address_failures(), now),
             _lock_if_over(session, ACCOUNT, username, settings.account_failures(), now)]
    return next((lock for lock in locks if lock is not None), None)


def _lock_if_over(session: Session, scope: str, key: str, limit: int, now: datetime) -> Lock | None:
    failures = _failures(session, scope, key, now)
    if failures < limit:
        return None
    until = now + settings.lockout()
    session.add(LoginLock(scope=scope, key=key, locked_at=now, until=until))
    events.record(session, now, events.ENGINE, f"{scope}_locked",
                  {scope if scope == ADDRESS else "username": key, "failures": failures, "until": until.isoformat()})
    return Lock(scope, key, until)


def _failures(session: Session, scope: str, key: str, now: datetime) -> int:
    """Failures within the window, after the key's last lockout (or its lifting) and, for a user name,
    after its last successful login."""
    column = LoginAttempt.address if scope == ADDRESS else LoginAttempt.username
    since = now - settings.lockout()
    last = session.scalar(select(LoginLock).where(LoginLock.scope == scope, LoginLock.key == key)
                          .order_by(LoginLock.locked_at.desc()).limit(1))
    if last is not None:
        since = max(since, last.lifted_at or last.locked_at)
    if scope == ACCOUNT:
        success = session.scalar(select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == key, LoginAttempt.outcome == SUCCEEDED))
        if success is not None:
            since = max(since, success)
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        column == key, LoginAttempt.outcome == FAILED, LoginAttempt.at > since)) or 0


def lift(session: Session, scope: str, key: str, actor: str, now: datetime) -> int:
    """End the key's active lockouts now; how many there were (each lifting is a security event)."""
    rows = list(session.scalars(select(LoginLock).where(
        LoginLock.scope == scope, LoginLock.key == key, LoginLock.until > now, LoginLock.lifted_at.is_(None))))
    for row in rows:
        row.lifted_at, row.lifted_by = now, actor
    if rows:
        events.record(session, now, actor, "unlocked", {"scope": scope, "key": key})
    return len(rows)


def active_locks(session: Session, now: datetime) -> list[Lock]:
    rows = session.scalars(select(LoginLock).where(LoginLock.until > now, LoginLock.lifted_at.is_(None))
                           .order_by(LoginLock.until))
    return [Lock(r.scope, r.key, r.until) for r in rows]


def recent_failures(session: Session, limit: int = 50) -> list[dict]:
    """The latest failed and refused logins, newest first (the administrators' page)."""
    rows = session.scalars(select(LoginAttempt).where(LoginAttempt.outcome != SUCCEEDED)
                           .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(limit))
    return [{"at": r.at, "username": r.username, "address": r.address, "outcome": r.outcome} for r in rows]


def prune(session: Session, now: datetime) -> int:
    """Forget login attempts older than SALESFLOW_LOGIN_RECORDS_DAYS, and lockouts that ended before
    then (a flood of refused logins would otherwise grow the table without end); returns how many."""
    cutoff = now - settings.login_records()
    attempts = session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff)).rowcount or 0
    locks = session.execute(delete(LoginLock).where(LoginLock.until < cutoff)).rowcount or 0
    return attempts + locks
