"""Sessions: one transaction per command, with the locking each database needs.

SQLite: writes start with `BEGIN IMMEDIATE`, so two writers queue on the
database lock instead of failing halfway; reads use a second engine with plain
deferred transactions. PostgreSQL: rows are locked with `SELECT ... FOR UPDATE`
by the commands themselves.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.config import SettingError, whole_number
from engine.errors import Unavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_SQLITE_TRANSIENT = ("database is locked", "unable to open database", "disk I/O error")


SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")


def sqlite_synchronous() -> str:
    """How hard SQLite makes each commit durable (SALESFLOW_SQLITE_SYNCHRONOUS, docs/deployment.md).

    NORMAL (the default): in WAL mode a commit is safe against a crash of the server or the process,
    but the last commits before a power cut or an operating system crash may be lost (never corrupted:
    the database stays consistent, it just ends at an earlier commit); one fsync per checkpoint instead
    of one per commit. FULL: every commit is on disk before the answer goes out."""
    raw = os.environ.get("SALESFLOW_SQLITE_SYNCHRONOUS", "NORMAL")
    value = raw.strip().upper() or "NORMAL"
    if value not in SQLITE_SYNCHRONOUS:
        raise SettingError(f"SALESFLOW_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {raw!r}")
    return value


def _sqlite_engine(url: str, begin: str) -> SqlEngine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    synchronous = sqlite_synchronous()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        # on the driver's connection: through exec_driver_sql (a cursor result, its events) every command and
        # page paid ~15 µs more for it. Its errors are wrapped as SQLAlchemy's would be (a lock held past the
        # timeout is an OperationalError, answered "unavailable").
        try:
            conn.connection.dbapi_connection.execute(begin)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(begin, None, exc, sqlite3.Error) from exc

    return engine


def _ping_when_idle(engine: SqlEngine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it rested longer than `idle_seconds`.

    SQLAlchemy's pool_pre_ping tests every connection taken from the pool: one round trip more for
    each command and each page. A connection returned a moment ago is almost always alive; one that
    rested may have been closed by a database restart, a proxy or an idle timeout, and is tested (a
    dead one is replaced, as pre_ping does). A connection in use at the instant of a restart fails
    its request with `Unavailable` (HTTP 503, nothing committed), as it did with pre_ping, and the
    pool then discards all connections opened before the failure (SQLAlchemy invalidates the pool on
    a disconnect), so the next requests reconnect."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi_conn, record) -> None:  # noqa: ANN001
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _test_if_rested(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        since = record.info.get("checked_in")
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # new (just connected) or rested only a moment
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # the ping opened a transaction: the command starts its own, clean
        except Exception as exc:  # the driver's error, whatever it is: the pool retries with a new connection
            raise DisconnectionError(f"connection lost while idle: {exc}") from exc


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._writer = _sqlite_engine(url, "BEGIN IMMEDIATE")
            self._reader = _sqlite_engine(url, "BEGIN")
        else:
            self._writer = self._reader = create_engine(
                url, pool_size=whole_number("SALESFLOW_DB_POOL_SIZE", 10),
                max_overflow=whole_number("SALESFLOW_DB_MAX_OVERFLOW", 20))
            _ping_when_idle(self._writer, whole_number("SALESFLOW_DB_PING_IDLE_MS", 1000) / 1000)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._unreachable_is_unavailable(), self._write_sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._unreachable_is_unavailable(), self._read_sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def glance(self) -> Iterator[Connection]:
        """A connection for a short read of Core statements (the inbox, its counts), without a Session.
        SQLite: one deferred transaction, as `read`. PostgreSQL: autocommit, so that no BEGIN and COMMIT
        travel to the server (two of its round trips); each statement sees the data committed when it
        runs, which is all a read of a user's roles, then their tasks, needs."""
        with self._unreachable_is_unavailable(), self._reader.connect() as conn:
            if self.is_sqlite:
                with conn.begin():
                    yield conn
            else:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def maintenance(self) -> Iterator[Connection]:
        """A connection outside any transaction, for a statement that may not run inside one (PostgreSQL's
        VACUUM); each statement is its own."""
        with self._unreachable_is_unavailable(), self._writer.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def _unreachable_is_unavailable(self) -> Iterator[None]:
        """A lost connection or a database that stays locked is not a bug in the request: callers
        get `Unavailable` (HTTP 503, retry later) instead of an internal error."""
        try:
            yield
        except (OperationalError, InterfaceError) as exc:
            if self.is_sqlite and not any(m in str(exc.orig) for m in _SQLITE_TRANSIENT):
                raise
            raise Unavailable(f"the database is unavailable ({type(exc.orig).__name__}); if the connection broke "
                              "while committing, the command may have been saved: check before retrying") from exc

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision. Every engine start asks (each command-line run,
        each test): a database already there is answered by one read of its revision, without Alembic
        loading its environment and migration scripts (90 ms on PostgreSQL)."""
        if self.schema_revision() != _head_revision():
            command.upgrade(alembic_config(self.url), "head")

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: a new database)."""
        with self._writer.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self, close: bool = True) -> None:
        """Drop the pools; `close=False` after a fork leaves the parent's connections to the parent."""
        self._writer.dispose(close=close)
        if self._reader is not self._writer:
            self._reader.dispose(close=close)


@functools.cache
def _head_revision() -> str:
    """The newest revision of engine/store/migrations (read once per process: the scripts ship with the code)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
