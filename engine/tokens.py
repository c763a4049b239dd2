"""API bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from engine.errors import Unauthorized
from engine.store.driver_sql import DriverStatement
from engine.store.models import ApiToken, User

LIFETIME = timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, user: User, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_digest(token), username=user.username, created_at=now,
                         expires_at=now + LIFETIME, revoked=False))
    return token


def row_of(session: Session, token: str, now: datetime) -> ApiToken:
    """The token's row, or Unauthorized (unknown, revoked or expired)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token or "")))
    if row is None or row.revoked:
        raise Unauthorized("invalid token")
    if row.expires_at <= now:
        raise Unauthorized("token expired")
    return row


def resolve(session: Session | Connection, token: str, now: datetime) -> str:
    """The active user a token stands for, or Unauthorized (unknown, revoked or expired token; a user no
    longer active). One read, asked anew on every API request (never cached: a revoked token or a
    deactivated user is refused from the next request on); a Connection suffices (Database.glance)."""
    found = next(iter(_RESOLVE.rows(session, {"digest": _digest(token or ""), "now": now})), None)
    if found is None or found.revoked:
        raise Unauthorized("invalid token")
    if not found.fresh:
        raise Unauthorized("token expired")
    if not found.active:
        raise Unauthorized("the token's user is no longer active")
    return found.username


# Every API request asks this: compiled once and sent as the driver's SQL (engine/store/driver_sql.py), its
# ~70 µs through SQLAlchemy's per-execution path cut to a third. The expiry is compared in SQL (`fresh`), as
# `live` does, so no column needs converting back: the booleans are read as true or false on both databases.
_RESOLVE = DriverStatement(
    select(ApiToken.username, ApiToken.revoked, (ApiToken.expires_at > bindparam("now")).label("fresh"), User.active)
    .outerjoin(User, User.username == ApiToken.username).where(ApiToken.token_hash == bindparam("digest")))


@dataclass(frozen=True)
class Bearer:
    """A command's caller known only by the API token of the request: the commands that take one
    (start_once, complete_once, claim_once) resolve it inside their own transaction, sparing the check a
    BEGIN and COMMIT of its own (the check is the same one `resolve` makes, at the command's instant)."""

    token: str

    def __repr__(self) -> str:  # never the secret in a log or a traceback
        return "Bearer(...)"


def username_of(session: Session, caller: str | Bearer, now: datetime) -> str:
    """The caller's user name: a Bearer's token resolved (Unauthorized as `resolve`), a name as it is."""
    return resolve(session, caller.token, now) if isinstance(caller, Bearer) else caller


def live(session: Session, now: datetime, username: str | None = None) -> list[ApiToken]:
    """The tokens that still work (not revoked, not expired), oldest first; one user's or everyone's."""
    query = select(ApiToken).where(ApiToken.revoked.is_(False), ApiToken.expires_at > now)
    if username is not None:
        query = query.where(ApiToken.username == username)
    return list(session.scalars(query.order_by(ApiToken.created_at, ApiToken.id)))


def revoke(row: ApiToken, now: datetime) -> bool:
    """Revoke one token; False when it already was."""
    if row.revoked:
        return False
    row.revoked, row.revoked_at = True, now
    return True


def revoke_all(session: Session, username: str, now: datetime) -> list[int]:
    """Revoke every working token of the user; their ids."""
    rows = live(session, now, username)
    for row in rows:
        revoke(row, now)
    return [row.id for row in rows]


def view(row: ApiToken, now: datetime, current: ApiToken | None = None) -> dict:
    """What may be shown of a token: never its secret (only its hash is stored anyway)."""
    status = "revoked" if row.revoked else ("expired" if row.expires_at <= now else "active")
    return {"id": row.id, "username": row.username, "created_at": row.created_at, "expires_at": row.expires_at,
            "status": status, "current": current is not None and row.id == current.id}
