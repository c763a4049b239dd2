"""The timer worker: find instances with due timers and fire them."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.errors import SalesflowError, Unavailable
from engine.runtime import commands
from engine.store.models import Timer

if TYPE_CHECKING:
    from engine.api import Engine

log = logging.getLogger("salesflow.timers")
MAX_ATTEMPTS = 10  # a timer whose step keeps failing stops being retried; its error stays on the row


def due_instances(ctx: Engine, limit: int = 100) -> list[int]:
    now = ctx.clock.now()
    with ctx.db.read() as s:
        query = (select(Timer.instance_id).where(Timer.status == "waiting", Timer.due_at < now,
                                                 Timer.attempts < MAX_ATTEMPTS)
                 .group_by(Timer.instance_id).order_by(Timer.instance_id).limit(limit))
        return list(s.scalars(query))


def _record_failure(ctx: Engine, instance_id: int, error: str) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as s:
        for row in s.scalars(select(Timer).where(Timer.instance_id == instance_id, Timer.status == "waiting",
                                                 Timer.due_at < now)):
            row.attempts += 1
            row.last_error = error[:2000]


def run_due(ctx: Engine, limit: int = 100) -> int:
    """One pass: fire what is due now. Returns the number of timers fired."""
    fired = 0
    for instance_id in due_instances(ctx, limit):
        try:
            fired += commands.fire_timers(ctx, instance_id)
        except Unavailable:
            raise  # not the timer's fault: the pass stops, nothing counts as an attempt
        except SalesflowError as exc:
            # the step was rolled back; keep the error on the timer rows for people to see
            log.error("timers of instance %s failed: %s", instance_id, exc)
            _record_failure(ctx, instance_id, str(exc))
    return fired


def run_forever(ctx: Engine, stop: threading.Event, interval: float = 1.0) -> None:
    while not stop.is_set():
        try:
            run_due(ctx)
        except Unavailable as exc:  # the worker outlives a database restart
            log.warning("timer pass stopped: %s", exc)
        except Exception:
            log.exception("timer pass failed")
        stop.wait(interval)
