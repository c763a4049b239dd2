"""Users, their roles and their passwords (stored as salted hashes only)."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
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


def get_user(session: Session, username: str) -> User:
    if not isinstance(username, str) or not _NAME.match(username):
        raise NotFound(f"no active user {username!r}")  # not a name we could have stored
    # the roles in the same statement: every command asks for them next
    user = session.execute(select(User).options(joinedload(User.roles)).where(User.username == username)
                           ).unique().scalar_one_or_none()
    if user is None or not user.active:
        raise NotFound(f"no active user {username}")
    return user


def roles_of(user: User) -> set[str]:
    return {ur.role_id for ur in user.roles}


def managed_roles(session: Session, user: User) -> set[str]:
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

