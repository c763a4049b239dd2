"""The governance setting: whether deploying a changed process needs the general manager's approval.

Kept in the database, not the environment, so that switching it is a recorded act: who switched it and
when is appended to the deployments audit chain, and only administrators may switch it. Off until
someone switches it on: tests and a first installation deploy in one step; `salesflow init --demo`
switches it on so that the demo shows the approval.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.chain import DEPLOYMENTS, append
from engine.clock import iso
from engine.definitions.deploy import lock_deployments
from engine.store.models import Setting

NAME = "governance"


def is_on(session: Session) -> bool:
    row = session.get(Setting, NAME)
    return row is not None and row.value == "on"


def state(session: Session) -> dict:
    """{on, changed_by, changed_at}: what the modeler's pages show."""
    row = session.get(Setting, NAME)
    return {"on": row is not None and row.value == "on", "changed_by": row.changed_by if row else None,
            "changed_at": row.changed_at.isoformat() if row else None}


def switch(session: Session, actor: str, on: bool, at: datetime) -> bool:
    """Set the governance setting (the caller checked the actor is an administrator); whether it changed. A
    switch to the state it is already in changes and records nothing."""
    lock_deployments(session)  # a deploy that is deciding under the old setting finishes first
    row = session.scalar(select(Setting).where(Setting.name == NAME).with_for_update())
    value = "on" if on else "off"
    if (row.value if row else "off") == value:
        return False
    if row is None:
        row = Setting(name=NAME)
        session.add(row)
    row.value, row.changed_by, row.changed_at = value, actor, at
    append(session, DEPLOYMENTS, iso(at), actor, f"governance_{value}", None, {"setting": NAME, "value": value})
    return True
