"""PostgreSQL pools test a connection only after it rested (engine/store/db.py), and still replace one the
server closed meanwhile; a connection returned a moment ago is used without a test."""

import time

import pytest
from sqlalchemy import create_engine, text

from engine.store.db import Database
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="the pool test is PostgreSQL's")


def _pid(db: Database) -> int:
    with db.write() as s:
        return s.execute(text("SELECT pg_backend_pid()")).scalar()


def test_a_connection_the_server_closed_while_it_rested_is_replaced(db_url, monkeypatch):
    monkeypatch.setenv("SALESFLOW_DB_PING_IDLE_MS", "50")
    db = Database(db_url)
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        first = _pid(db)
        with admin.connect() as conn:  # as a database restart would
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first})
        time.sleep(0.1)
        second = _pid(db)  # no error: the rested connection failed its test and was replaced
        assert second != first
        with db.glance() as conn:  # the test's transaction is gone: autocommit can be switched on
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        admin.dispose()
        db.dispose()


def test_a_connection_returned_a_moment_ago_is_not_tested(db_url, monkeypatch):
    monkeypatch.setenv("SALESFLOW_DB_PING_IDLE_MS", "60000")
    db = Database(db_url)
    pings = []
    original = db._writer.dialect.do_ping
    db._writer.dialect.do_ping = lambda conn: pings.append(conn) or original(conn)
    try:
        assert _pid(db) == _pid(db)  # the same connection, taken again at once
        assert pings == []
    finally:
        db.dispose()
