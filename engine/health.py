"""What operators watch: is the database reachable and current, how much work waits.

Gauges are read from the database at scrape time, so every web server reports the
same numbers whichever worker answers (counters of commands are per process).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine.runtime import incidents
from engine.store.db import alembic_config
from engine.store.models import READY, Instance, Task, Timer

# A due timer the workers have not fired within this long means they are down or behind.
TIMER_GRACE = timedelta(seconds=60)


def schema_state(session: Session, url: str) -> dict:
    """{"revision": in the database, "head": the code's newest, "current": bool}."""
    session.execute(text("SELECT 1"))
    revision = MigrationContext.configure(session.connection()).get_current_revision()
    head = code_head(url)
    return {"revision": revision, "head": head, "current": revision == head}


@functools.cache
def code_head(url: str) -> str | None:
    """The newest migration this code has. Read once per process: it reads every migration script (~10 ms of
    CPU, on each poll of /healthz before), and the scripts change only with a new release, which restarts."""
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def gauges(session: Session, now: datetime) -> dict:
    """Open tasks per role (and how many are past due), waiting timers, the due/overdue ones of running
    instances (and how many of those failed an attempt), running instances, open incidents per process."""
    # the literal status: the open tasks' partial indexes (ix_task_ready, ix_task_status_due) serve these
    open_tasks = dict(session.execute(select(Task.role, func.count()).where(Task.status == READY)
                                      .group_by(Task.role)).all())
    late_tasks = dict(session.execute(select(Task.role, func.count()).where(
        Task.status == READY, Task.due_at.is_not(None), Task.due_at < now).group_by(Task.role)).all())
    waiting = Timer.status == "waiting"
    # a due timer of an instance halted by an incident waits for people, not for the workers
    workers = waiting & Timer.instance_id.in_(select(Instance.id).where(Instance.status == "running"))
    return {
        "open_tasks": open_tasks,
        "overdue_tasks": late_tasks,
        "timers_waiting": session.scalar(select(func.count()).where(waiting)) or 0,
        "timers_due": session.scalar(select(func.count()).where(workers, Timer.due_at <= now)) or 0,
        "timers_overdue": session.scalar(select(func.count()).where(workers, Timer.due_at <= now - TIMER_GRACE)) or 0,
        "timers_retrying": session.scalar(select(func.count()).where(workers, Timer.attempts > 0)) or 0,
        "instances_running": session.scalar(select(func.count()).where(Instance.status == "running")) or 0,
        "incidents_open": incidents.open_counts(session),
    }
