"""What administrators (and the operator at the console, actor "system") do to accounts, and what every
user does to their own API tokens. Each function runs inside the caller's one transaction; each change
is an event in the `security` chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import tokens, users
from engine.accounts import events, login, sessions, throttle
from engine.errors import Forbidden, InvalidData, NotFound
from engine.roles import RoleDef
from engine.runtime import access
from engine.store.models import ApiToken, Role, User, UserRole

CONSOLE = "system"  # the operator running `salesflow users …` / `salesflow tokens …`
MAX_ID = 2**31 - 1  # ids are 32-bit integers in every database we run on


def acting(session: Session, actor: str) -> users.Actor | None:
    """The acting user, or None for the operator at the console."""
    return None if actor == CONSOLE else users.get_actor(session, actor)


def _account(session: Session, username: str) -> User:
    """Any account, active or not (get_user finds active ones only)."""
    user = session.scalar(select(User).where(User.username == username)) if isinstance(username, str) else None
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_active(session: Session, actor: str, username: str, active: bool, now: datetime) -> bool:
    """Deactivate (ends the user's sessions, revokes their tokens) or activate again; False when the
    account already was so (nothing recorded)."""
    access.check_may_manage_users(acting(session, actor))
    user = _account(session, username)
    if not active and username == actor:
        raise Forbidden("administrators may not deactivate themselves")
    if user.active == active:
        return False
    user.active = active
    payload: dict = {"username": username}
    if not active:
        sessions.end_all(user)
        payload["tokens_revoked"] = tokens.revoke_all(session, username, now)
    events.record(session, now, actor, "user_activated" if active else "user_deactivated", payload)
    return True


def set_roles(session: Session, actor: str, username: str, add: list[str], remove: list[str],
              front_line: dict[str, RoleDef], now: datetime) -> list[str]:
    """Grant and take away roles of an existing account; its roles afterwards. A front-line role is granted
    only to someone with a passed safety training (training_gate); nothing is recorded when nothing changed."""
    acting_user = acting(session, actor)
    access.check_may_manage_users(acting_user)
    user = _account(session, username)
    known = set(session.scalars(select(Role.id)))
    unknown = sorted((set(add) | set(remove)) - known)
    if unknown:
        raise InvalidData(f"unknown role(s): {', '.join(unknown)}")
    if set(add) & set(remove):
        raise InvalidData("a role cannot be both granted and taken away")
    held = users.roles_of(user)
    if username == actor and "admin" in set(remove) & held:
        raise Forbidden("administrators may not take away their own admin role")
    granted = set(add) - held
    access.check_may_grant_roles(session, acting_user, username, granted, front_line)
    removed = set(remove) & held
    if granted or removed:
        kept = [ur for ur in user.roles if ur.role_id not in removed]
        user.roles = kept + [UserRole(role_id=r) for r in sorted(granted)]
        session.flush()
        events.record(session, now, actor, "user_roles_changed",
                      {"username": username, "granted": sorted(granted), "removed": sorted(removed)})
    return sorted(users.roles_of(user))


def reset_password(session: Session, actor: str, username: str, new_hash: str, now: datetime) -> None:
    """An administrator's reset (the policy was checked and the hash made before the transaction)."""
    access.check_may_manage_users(acting(session, actor))
    login.set_password(session, _account(session, username), new_hash, actor, "password_reset", now)


def check_may_reset(session: Session, actor: str, username: str) -> None:
    """Before hashing a new password: the actor may reset it, and the account exists."""
    access.check_may_manage_users(acting(session, actor))
    _account(session, username)


def unlock(session: Session, actor: str, username: str | None, address: str | None, now: datetime) -> int:
    """Lift the lockout of a user name and/or a client address now; how many lockouts ended."""
    access.check_may_manage_users(acting(session, actor))
    if not username and not address:
        raise InvalidData("name a user or an address to unlock")
    lifted = 0
    if username:
        lifted += throttle.lift(session, throttle.ACCOUNT, throttle.name_key(username), actor, now)
    if address:
        lifted += throttle.lift(session, throttle.ADDRESS, throttle.address_key(address), actor, now)
    return lifted


def overview(session: Session, actor: str, now: datetime) -> dict:
    """The administrators' page: every user with roles, active flag, lockout and working tokens; the
    lockouts in force; the latest failed logins."""
    access.check_may_manage_users(acting(session, actor))
    locks = throttle.active_locks(session, now)
    locked = {lock.key: lock.until for lock in locks if lock.scope == throttle.ACCOUNT}
    live: dict[str, list[dict]] = {}
    for row in tokens.live(session, now):
        live.setdefault(row.username, []).append(tokens.view(row, now))
    people = [{"username": u.username, "display_name": u.display_name, "roles": sorted(users.roles_of(u)),
               "active": u.active, "email": u.email, "created_at": u.created_at, "locked_until": locked.get(u.username),
               "tokens": live.get(u.username, [])}
              for u in session.scalars(select(User).order_by(User.username))]
    return {"users": people,
            "locks": [{"scope": lock.scope, "key": lock.key, "until": lock.until} for lock in locks],
            "failures": throttle.recent_failures(session)}


def token_list(session: Session, actor: str, username: str | None, now: datetime,
               current: ApiToken | None = None) -> list[dict]:
    """Working tokens: the actor's own (everyone's for the console); an administrator may name any user."""
    user = acting(session, actor)
    if username is None and user is not None:
        username = user.username
    if user is None or username != user.username:
        access.check_may_manage_users(user)
    return [tokens.view(row, now, current) for row in tokens.live(session, now, username)]


def revoke_token(session: Session, actor: str, token_id: int, now: datetime) -> dict:
    """Revoke one token: the actor's own, or anyone's for an administrator (idempotent)."""
    in_range = isinstance(token_id, int) and 0 < token_id <= MAX_ID
    row = session.get(ApiToken, token_id) if in_range else None
    if row is None:
        raise NotFound(f"no token {token_id}")
    access.check_may_revoke_token(acting(session, actor), row)
    return revoke_row(session, actor, row, now)


def revoke_row(session: Session, actor: str, row: ApiToken, now: datetime) -> dict:
    if tokens.revoke(row, now):
        events.record(session, now, actor, "token_revoked", {"token_id": row.id, "username": row.username})
    return tokens.view(row, now)
