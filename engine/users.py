"""Users, their roles and their passwords (stored as salted hashes only)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, FromClause, Row, Select, and_, bindparam, select
from sqlalchemy.orm import Session, joinedload

from engine import clock
from engine.accounts import passwords
from engine.errors import Conflict, InvalidData, NotFound
from engine.store.models import Role, User, UserRole

_NAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
# the engine itself as the actor: timers, message starts, deploys from the command line
SYSTEM = "system"


def valid_name(username: str) -> bool:
    return bool(_NAME.match(username))


@dataclass(frozen=True, slots=True)
class Actor:
    """An active user as a request that only reads them needs them (who they are, what they hold), read by
    `get_actor` in one Core statement: no ORM identity map, no relationship loading. Commands that change
    the account itself (password, e-mail, roles, sessions ended) take the ORM `User` from `get_user`."""

    username: str
    display_name: str
    active: bool
    roles: frozenset[str]
    session_generation: int | None  # a web session's id names it (engine/accounts/sessions.py)


# whoever acts, as the permission rules (engine/runtime/access.py) take them: either form answers alike
Person = User | Actor

_USER, _USER_ROLE = User.__table__, UserRole.__table__
# one row per role (one row with role_id NULL for a user without roles); built once, so that each call
# reuses its memoized cache key and compiled form
ACTOR_COLUMNS = (_USER.c.username.label("actor_username"), _USER.c.display_name.label("actor_display_name"),
                 _USER.c.session_generation.label("actor_session_generation"), _USER_ROLE.c.role_id.label("actor_role"))
ACTOR_FROM = _USER.outerjoin(_USER_ROLE, _USER_ROLE.c.user_id == _USER.c.id)
ACTOR_WHERE = and_(_USER.c.username == bindparam("username"), _USER.c.active.is_(True))
_ACTOR = select(*ACTOR_COLUMNS).select_from(ACTOR_FROM).where(ACTOR_WHERE)


def with_actor(statement: Select, left: FromClause) -> Select:
    """`statement` with the active user `:username` and their roles (ACTOR_COLUMNS) outer-joined to `left`: a
    command's first statement reads the actor with what it locks (engine/runtime/loading.py), saving the
    actor's own round trip. Two flat outer joins, not one to a parenthesised join: SQLite materialised that
    one and built an automatic index on it at every execution (~40 µs a command)."""
    return (statement.outerjoin_from(left, _USER, ACTOR_WHERE)
            .outerjoin_from(_USER, _USER_ROLE, _USER_ROLE.c.user_id == _USER.c.id))


def get_actor(session: Session | Connection, username: str) -> Actor:
    """The active user `username` for reading (NotFound as get_user): one statement, no ORM objects."""
    if not isinstance(username, str) or not _NAME.match(username):
        raise NotFound(f"no active user {username!r}")  # not a name we could have stored
    rows = session.execute(_ACTOR, {"username": username}).all()  # (autoflushes, as get_user did, in a command)
    return actor_of(rows, username)


def actor_of(rows: Sequence[Row], username: str) -> Actor:
    """The Actor from rows holding ACTOR_COLUMNS (one per role, or one with actor_role NULL); NotFound when
    none names the user (an outer join brings NULLs in every column then)."""
    first = next((r for r in rows if r.actor_username is not None), None)
    if first is None:
        raise NotFound(f"no active user {username}")
    return Actor(first.actor_username, first.actor_display_name, True,
                 frozenset(r.actor_role for r in rows if r.actor_role), first.actor_session_generation)


def may_exist(username: object) -> bool:
    """Whether `username` is a name we could have stored (else no statement need ask for it)."""
    return isinstance(username, str) and bool(_NAME.match(username))


def get_user(session: Session, username: str) -> User:
    """The active user `username` as an ORM row, for commands that change the account (get_actor to read)."""
    if not isinstance(username, str) or not _NAME.match(username):
        raise NotFound(f"no active user {username!r}")  # not a name we could have stored
    # the roles in the same statement: every command asks for them next
    user = session.execute(select(User).options(joinedload(User.roles)).where(User.username == username)
                           ).unique().scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active user {username}")
    return user


def roles_of(user: Person) -> set[str]:
    if isinstance(user, Actor):
        return set(user.roles)
    return {ur.role_id for ur in user.roles}


def managed_roles(session: Session, user: Person) -> set[str]:
    managed: set[str] = set()
    for role in session.scalars(select(Role).where(Role.id.in_(roles_of(user)))):
        managed.update(json.loads(role.manages))
    return managed


def add_user(session: Session, username: str, roles: list[str], password: str,
             display_name: str | None = None) -> User:
    if not _NAME.match(username):
        raise InvalidData("a user name is 2-64 letters, digits, '.', '_' or '-'")
    passwords.check_policy(username, password)
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username} already exists")
    known = set(session.scalars(select(Role.id)))
    unknown = sorted(set(roles) - known)
    if unknown:
        raise InvalidData(f"unknown role(s): {', '.join(unknown)} (run `salesflow init` to load processes/roles.yaml)")
    user = User(username=username, display_name=display_name or username, created_at=clock.now(),
                password_hash=passwords.make_hash(password), active=True)
    user.roles = [UserRole(role_id=r) for r in dict.fromkeys(roles)]
    session.add(user)
    session.flush()
    return user

