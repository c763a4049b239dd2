"""The timer worker: find instances with due timers and fire them, each instance on its own.

A failing instance affects only itself. Its step is rolled back (its own transaction), the failure
counts as an attempt on its due timer rows, and the worker leaves it alone for a back-off that
doubles per attempt: 1, 2, 4, 8 minutes (capped at 30 for a larger MAX_ATTEMPTS). The fifth failure
(MAX_ATTEMPTS), about a quarter of an hour after the first, halts the instance with an incident
(engine/runtime/incidents.py) for an administrator to retry or cancel. A step that fails once for a
passing reason (a lock, a deadlock the database broke) gets its retries; one that fails for good
(a script's bug, a state that cannot be saved) reaches people quickly. `Unavailable` (the database
is away) is nobody's attempt: the pass stops and the next one starts over.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from engine.errors import SalesflowError, Unavailable
from engine.notify import worker as notify_worker
from engine.runtime import commands, housekeeping, incidents
from engine.runtime.loading import lock_instance
from engine.store.models import Instance, Timer

if TYPE_CHECKING:
    from engine.runtime.context import Context

log = logging.getLogger("salesflow.timers")
MAX_ATTEMPTS = 5  # failed attempts before the instance is halted by an incident
FIRST_DELAY = timedelta(minutes=1)  # the back-off after the first failure; doubled after each next one
MAX_DELAY = timedelta(minutes=30)


def backoff(attempts: int) -> timedelta:
    """How long the worker waits after the `attempts`-th failed attempt."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


def due_instances(ctx: Context, limit: int = 100) -> list[int]:
    """Running instances with a timer due now that is not waiting out a back-off, lowest id first."""
    now = ctx.clock.now()
    with ctx.db.read() as s:
        query = (select(Timer.instance_id).join(Instance, Instance.id == Timer.instance_id)
                 .where(Timer.status == "waiting", Timer.due_at < now, Instance.status == "running",
                        or_(Timer.next_attempt_at.is_(None), Timer.next_attempt_at <= now))
                 .group_by(Timer.instance_id).order_by(Timer.instance_id).limit(limit))
        return list(s.scalars(query))


def record_failure(ctx: Context, instance_id: int, error: BaseException, at: datetime) -> int:
    """Count a failed attempt on the instance's due timers (its step was rolled back) and set their
    next attempt; after the last one, halt the instance with an incident. Returns the attempts."""
    with ctx.db.write() as s:
        inst = lock_instance(s, instance_id)
        if inst.status != "running":
            return 0
        rows = list(s.scalars(select(Timer).where(Timer.instance_id == instance_id, Timer.status == "waiting",
                                                  Timer.due_at < at).order_by(Timer.due_at, Timer.id)))
        if not rows:  # another worker fired them meanwhile
            return 0
        attempts = max(r.attempts for r in rows) + 1
        message, element = incidents.locate(s, inst, error, fallback=rows[0].bpmn_id)
        for row in rows:
            row.attempts, row.last_error, row.next_attempt_at = attempts, message[:2000], at + backoff(attempts)
        if attempts >= MAX_ATTEMPTS:
            incidents.open_incident(s, inst, "timer", {"step": "timers_due"}, at, message, element, attempts)
        return attempts


def run_due(ctx: Context, limit: int = 100) -> int:
    """One pass: fire what is due now. Returns the number of timers fired."""
    fired = 0
    for instance_id in due_instances(ctx, limit):
        try:
            fired += commands.fire_timers(ctx, instance_id)
        except Unavailable:
            raise  # not the timer's fault: the pass stops, nothing counts as an attempt
        except Exception as exc:  # whatever broke, it broke this instance only
            log.error("timers of instance %s failed: %s", instance_id, exc, exc_info=not _expected(exc))
            try:
                attempts = record_failure(ctx, instance_id, exc, ctx.clock.now())
            except Unavailable:
                raise
            except Exception:  # the next pass tries the instance (and the record) again
                log.exception("the failure of instance %s could not be recorded", instance_id)
                continue
            if attempts >= MAX_ATTEMPTS:
                log.error("instance %s is halted by an incident after %s attempts", instance_id, attempts)
    return fired


def _expected(exc: BaseException) -> bool:
    """Our own errors say what failed; anything else gets its traceback in the log."""
    return isinstance(exc, SalesflowError)


def run_forever(ctx: Context, stop: threading.Event, interval: float = 1.0) -> None:
    schedule = housekeeping.Schedule()
    while not stop.is_set():
        try:
            run_due(ctx)
            notify_worker.run(ctx)  # deadlines that passed, then the e-mails of committed notifications
            schedule.maybe(ctx)
        except Unavailable as exc:  # the worker outlives a database restart
            log.warning("timer pass stopped: %s", exc)
        except Exception:
            log.exception("timer pass failed")
        stop.wait(interval)
