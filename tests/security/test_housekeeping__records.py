"""Records that would otherwise grow without end: login attempts (a flood of refused logins adds a row
each) and idempotency keys. The timer worker deletes them after their time, every ten minutes."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from engine.errors import Locked, Unauthorized
from engine.runtime import housekeeping
from engine.store.models import LoginAttempt, LoginLock
from tests.conftest import PASSWORD, add_users


def attempts(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(LoginAttempt))


def guess(engine, times: int) -> None:
    for _ in range(times):
        with pytest.raises((Unauthorized, Locked)):
            engine.authenticate("rep", "wrong-wrong-wrong", "203.0.113.9")


def test_login_records_older_than_the_setting_are_deleted(engine, clock, monkeypatch):
    monkeypatch.setenv("SALESFLOW_LOGIN_RECORDS_DAYS", "30")
    add_users(engine, {"rep": ["sales_rep"]})
    guess(engine, 8)  # five failures lock the name; the rest are refused while locked, and recorded
    clock.advance(days=20)
    engine.authenticate("rep", PASSWORD, "198.51.100.7")
    assert attempts(engine) == 9
    clock.advance(days=11)  # the guesses are 31 days old, the login 11
    assert engine.tidy()["login_records"] == 8 + 1  # eight attempts and the lockout they caused
    assert attempts(engine) == 1
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(LoginLock)) == 0


def test_the_worker_tidies_on_its_first_pass_and_then_every_ten_minutes(engine, clock, monkeypatch):
    calls = []
    monkeypatch.setattr(housekeeping, "tidy", lambda ctx: calls.append(ctx.clock.now()) or {})
    schedule = housekeeping.Schedule()
    for _ in range(3):
        schedule.maybe(engine)
        clock.advance(minutes=4)
    clock.advance(minutes=1)  # ten minutes after the first pass
    schedule.maybe(engine)
    assert len(calls) == 2 and (calls[1] - calls[0]).total_seconds() == 13 * 60


def test_the_running_worker_tidies(engine, monkeypatch):
    tidied = threading.Event()
    monkeypatch.setattr(housekeeping, "tidy", lambda ctx: tidied.set() or {})
    stop = threading.Event()
    worker = threading.Thread(target=engine.run_worker, args=(stop, 0.01))
    worker.start()
    try:
        assert tidied.wait(10)
    finally:
        stop.set()
        worker.join(10)
