"""The engine's clock: the only source of "now" for commands, scripts and timers.

SpiffWorkflow's timer module calls `datetime.now(timezone.utc)` itself; we point
that name at a subclass whose `now()` asks the current clock, so that tests can
move time and replay can re-run a step at the instant it first ran.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, replay)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


_SYSTEM = SystemClock()
_current: ContextVar[Clock | None] = ContextVar("salesflow_clock", default=None)


def now() -> datetime:
    return (_current.get() or _SYSTEM).now()


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None) -> datetime:  # noqa: ANN001 - datetime's own signature
        current = now()
        return current.astimezone(tz) if tz else current.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


def iso(when: datetime) -> str:
    """The one text form of an instant in the audit trail (hashed, so it must never vary)."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")
