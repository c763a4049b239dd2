"""Issue 11, item 7: retries that arrive together. Whatever the timing, a key runs its command once:
the others wait for it and get its answer (engine/runtime/idempotency.py: the key row is inserted
before the command runs, so a second insert of the same key waits on the primary key)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from engine import Engine
from engine.runtime import idempotency
from engine.store.models import IdempotencyKey
from tests.conftest import PG_URL
from tests.web.conftest import SAMPLE_REQUEST

ATTEMPTS = 8
START = "/api/v1/processes/sample_request/instances"


def test_eight_retries_at_once_with_one_key_start_one_instance_and_all_get_its_answer(app: Flask, api_token, engine):
    token = api_token("rep1")
    barrier = threading.Barrier(ATTEMPTS)
    results: list = []
    lock = threading.Lock()

    def attempt() -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(START, json={"data": SAMPLE_REQUEST},
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "burst-1"})
        with lock:
            results.append((response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a retry hung"
    assert [status for status, _, _ in results] == [201] * ATTEMPTS, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert all(body == results[0][1] for _, body, _ in results)
    assert sorted(replayed or "" for _, _, replayed in results) == [""] + ["true"] * (ATTEMPTS - 1)
    assert engine.search("aud")["total"] == 1


def _someone_waits_on_a_lock(deadline: float) -> bool:
    """PostgreSQL: whether a session of this database waits on a lock (the second insert of the key)."""
    raw = create_engine(PG_URL)
    try:
        with raw.connect() as conn:
            while time.monotonic() < deadline:
                waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                            "AND wait_event_type = 'Lock'")).scalar()
                if waiting:
                    return True
                conn.rollback()
                threading.Event().wait(0.02)  # polling for the state, not waiting for luck
        return False
    finally:
        raw.dispose()


def test_a_retry_that_arrives_while_the_first_is_still_running_waits_and_gets_its_answer(app, engine, monkeypatch):
    """The first request holds its transaction open after taking the key; the retry must not run the
    command beside it. On PostgreSQL the test sees the retry wait on the key's lock before letting the
    first one finish; on SQLite the retry waits for the write lock."""
    reserved, go = threading.Event(), threading.Event()
    real = idempotency._reserve

    def held(session, actor, once, now):
        earlier = real(session, actor, once, now)
        if threading.current_thread().name == "first":
            reserved.set()
            assert go.wait(60)
        return earlier

    monkeypatch.setattr(idempotency, "_reserve", held)
    answers: dict = {}

    def run(name: str) -> None:
        answers[name] = engine.start_once("rep1", "sample_request", dict(SAMPLE_REQUEST), idempotency_key="slow-1")

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert reserved.wait(30)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    if PG_URL:
        assert _someone_waits_on_a_lock(time.monotonic() + 30), "the retry did not wait for the first request"
    go.set()
    for t in (first, second):
        t.join(timeout=60)
    assert not first.is_alive() and not second.is_alive()
    assert answers["first"].view == answers["second"].view
    assert (answers["first"].repeated, answers["second"].repeated) == (False, True)
    assert engine.search("aud")["total"] == 1
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


@pytest.mark.skipif(not PG_URL, reason="SQLite: a write transaction starts with BEGIN IMMEDIATE, so a retry cannot "
                                        "read the key before the first request commits; the interleaving cannot occur")
def test_a_retry_that_read_the_key_before_the_first_request_committed_gets_its_answer(app, engine, db_url, clock,
                                                                                      monkeypatch):
    """The race seen once in CI (5b70b62), made deterministic: the retry, on an engine of its own, reads the key
    (no row yet), then the first request runs and commits, then the retry goes on to free an expired row of the
    key and insert its own. The row it finds is alive: its insert must fail and it must answer the first
    request's answer, not delete that row and start a second instance (READ COMMITTED: each statement sees
    what was committed before it, so a DELETE without the expiry condition removed the committed row)."""
    retry_read, first_committed = threading.Event(), threading.Event()
    real = idempotency._answered
    read_once: list[bool] = []

    def paused_after_the_read(session, actor, once, now):
        earlier = real(session, actor, once, now)
        if threading.current_thread().name == "retry" and not read_once:
            read_once.append(True)
            retry_read.set()
            assert first_committed.wait(60), "the first request did not finish"
        return earlier

    monkeypatch.setattr(idempotency, "_answered", paused_after_the_read)
    other = Engine(db_url, clock=clock)
    answers: dict = {}

    def retry() -> None:
        try:
            answers["retry"] = other.start_once("rep1", "sample_request", dict(SAMPLE_REQUEST),
                                                idempotency_key="overlap-1")
        except Exception as exc:  # reported below
            answers["retry"] = exc

    second = threading.Thread(target=retry, name="retry")
    second.start()
    try:
        assert retry_read.wait(30), "the retry never read its key"
        answers["first"] = engine.start_once("rep1", "sample_request", dict(SAMPLE_REQUEST),
                                             idempotency_key="overlap-1")
    finally:
        first_committed.set()
        second.join(timeout=60)
        other.db.dispose()
    assert not second.is_alive(), "the retry hung"
    assert not isinstance(answers["retry"], Exception), answers["retry"]
    assert (answers["first"].repeated, answers["retry"].repeated) == (False, True)
    assert answers["retry"].view == answers["first"].view
    assert engine.search("aud")["total"] == 1
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
