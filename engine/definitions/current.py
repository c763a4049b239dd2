"""The one answer to "which version do new instances of a process start on": its latest `active` version.

A draft (awaiting the general manager's approval), a returned or a withdrawn version never starts an
instance: not by hand, not by a message, not armed at its start timer, not called by another process,
and no running instance migrates to it (engine/runtime/rule_changes.py decides the statuses). Every
reader of "the current version" asks here, so that the rule has one home.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, defer

from engine.errors import Conflict
from engine.store.driver_sql import DriverStatement
from engine.store.models import ProcessVersion

ACTIVE = "active"
DRAFT = "draft"
RETURNED = "returned"
WITHDRAWN = "withdrawn"
STATUSES = (ACTIVE, DRAFT, RETURNED, WITHDRAWN)


def _active() -> Select:
    return select(ProcessVersion).where(ProcessVersion.status == ACTIVE)


def current_version(session: Session, key: str) -> ProcessVersion | None:
    """The version new instances of `key` start on (None: no active version of it). Its compiled specs and
    model (large) are read when first used: a start takes them from the spec cache."""
    return session.scalar(_current_statement(), {"key": key})


@functools.cache
def _current_statement() -> Select:
    """Built once (bound key): every start asks, and building it with its options cost more than running it."""
    return (_active().where(ProcessVersion.key == bindparam("key")).order_by(ProcessVersion.version.desc())
            .limit(1).options(defer(ProcessVersion.spec_json), defer(ProcessVersion.model_json)))


class VersionRef(NamedTuple):
    """What a start needs of its version: which one it is (its specs and forms come from the spec cache)."""

    id: int
    key: str
    version: int


def current_version_as(session: Session, key: str, username: str) -> tuple[VersionRef | None, list]:
    """The current version of `key` (as `current_version`) and the rows of the active user `username`
    (users.ACTOR_COLUMNS, one per role) in one statement, as a start needs both; ([] rows when there is no
    current version: the caller asks for the user on its own then, so that "no active user" is still
    answered first). Plain columns, not the ORM's object: its loading cost more than the statement."""
    found = _current_as_statement().rows(session, {"key": key, "username": username})
    return (VersionRef(*found[0][:3]), found) if found else (None, [])


@functools.cache
def _current_as_statement() -> DriverStatement:
    """The current version of `:key` (the highest active one: its id, key and number), with the actor: every
    start asks, as the driver's SQL (engine/store/driver_sql.py)."""
    from engine.users import ACTOR_COLUMNS, with_actor

    pv = ProcessVersion.__table__
    newest = (select(func.max(pv.c.version))
              .where(pv.c.key == bindparam("key"), pv.c.status == ACTIVE).scalar_subquery())
    statement = with_actor(select(pv.c.id, pv.c.key, pv.c.version, *ACTOR_COLUMNS), pv)
    return DriverStatement(statement.where(pv.c.key == bindparam("key"), pv.c.status == ACTIVE,
                                           pv.c.version == newest))


def current_versions(session: Session) -> dict[str, ProcessVersion]:
    """Every process's current version, by key (sorted by key)."""
    found: dict[str, ProcessVersion] = {}
    for pv in session.scalars(_active().order_by(ProcessVersion.key, ProcessVersion.version.desc())):
        found.setdefault(pv.key, pv)
    return found


def active_before(session: Session, key: str, version: int) -> ProcessVersion | None:
    """The active version a version is compared with (its diff, what an approval would replace)."""
    return session.scalar(_active().where(ProcessVersion.key == key, ProcessVersion.version < version)
                          .order_by(ProcessVersion.version.desc()).limit(1))


def newest_number(session: Session, key: str) -> int:
    """The highest version number of `key` in any status (0: none): a new version takes the next one."""
    pv = session.scalar(select(ProcessVersion).where(ProcessVersion.key == key)
                        .order_by(ProcessVersion.version.desc()).limit(1))
    return pv.version if pv is not None else 0


STATUS_NAMES = {ACTIVE: ("in force", "生效"), DRAFT: ("awaiting approval", "待审批"),
                RETURNED: ("returned", "已退回"), WITHDRAWN: ("withdrawn", "已撤回")}


class NotActive(Conflict):
    """A version that does not start instances was asked to take some (a migration to a draft); `reason`
    is {zh, en} for the pages."""

    def __init__(self, pv: ProcessVersion) -> None:
        en, zh = STATUS_NAMES.get(pv.status, (pv.status, pv.status))
        self.reason = {"en": f"version {pv.version} of {pv.name} is {en}, not in force: no instance moves to it",
                       "zh": f"“{pv.name}”第 {pv.version} 版{zh}，尚未生效，不能把案卷迁移到该版本"}
        super().__init__(f"version {pv.version} of process {pv.key} is {pv.status}, not active: "
                         "no instance may move to it")


def require_active(pv: ProcessVersion) -> ProcessVersion:
    if pv.status != ACTIVE:
        raise NotActive(pv)
    return pv
