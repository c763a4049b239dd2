"""Shared fixtures: a clean database per test (SQLite; PostgreSQL when SALESFLOW_TEST_DATABASE_URL points at
one, or on a throwaway server of the suite's own with SALESFLOW_TEST_POSTGRES=throwaway), an engine on a
manual clock, users."""

from __future__ import annotations

import atexit
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("SALESFLOW_PASSWORD_HASH", "pbkdf2:sha256:1000")

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import StaticPool

from engine import Engine
from engine.clock import ManualClock
from engine.store.db import Database
from engine.store.models import Base
from tests.pg_server import ThrowawayServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BROWSER = Path(__file__).resolve().parent / "browser"


def _per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (test_gw0, test_gw1, ...) on the same server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    server, name = url.rsplit("/", 1)
    return f"{server}/{name}_{worker}"


def _server_url() -> str:
    """The PostgreSQL server under test. A throwaway one is started by the first process (the xdist
    controller, or pytest alone); the workers it spawns inherit its address through the environment."""
    url = os.environ.get("SALESFLOW_TEST_DATABASE_URL") or ""
    if url or os.environ.get("SALESFLOW_TEST_POSTGRES") != "throwaway":
        return url
    global THROWAWAY
    THROWAWAY = ThrowawayServer.start_new()
    atexit.register(THROWAWAY.stop)
    os.environ["SALESFLOW_TEST_DATABASE_URL"] = THROWAWAY.url
    os.environ["SALESFLOW_TEST_PG_FOLDER"] = str(THROWAWAY.folder)
    return THROWAWAY.url


THROWAWAY: ThrowawayServer | None = None
PG_URL = _per_worker(_server_url())
# every test user's password: it meets the password policy (engine/accounts/passwords.py)
PASSWORD = "tulip-harbor-42"
# Monday 2026-03-02 09:00 in Shanghai
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def pytest_report_header(config) -> str:
    where = "a throwaway server in " + str(THROWAWAY.folder) if THROWAWAY else PG_URL
    return f"salesflow database under test: {'PostgreSQL ' + where if PG_URL else 'SQLite'}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db_agnostic: runs the same whatever database is under test (set by "
                                       "tests/conftest.py; the PostgreSQL pass of `make test` deselects it)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests whose outcome does not depend on the database under test, so the PostgreSQL pass can
    leave them to the SQLite pass instead of running them twice:
    - those that never reach it. It is reached only through the `_schema` fixture (db_url, engine, approval,
      flows, every app and server built on them) or by a module that reads PG_URL itself; anything else
      (pure units, the CLI's own SQLite files) runs identically;
    - the browser tests (tests/browser/): they prove what the bundles and pages do in chromium. The server
      under them answers through the same engine calls that tests/web/ and tests/scenarios/ run on both
      databases; on PostgreSQL as well they were almost a fifth of that pass's time (18 %, 2026-12-05);
    - those marked so by hand: a test in a module that reads PG_URL for its other tests, yet never uses it."""
    for item in items:
        reads_pg_url = hasattr(getattr(item, "module", None), "PG_URL")
        in_browser = BROWSER in Path(str(item.path)).parents
        if in_browser or ("_schema" not in getattr(item, "fixturenames", ()) and not reads_pg_url):
            item.add_marker(pytest.mark.db_agnostic)


def _create_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def _schema(tmp_path_factory) -> str:
    """Migrate once per session; returns the URL (PostgreSQL) or a template file (SQLite)."""
    if PG_URL:
        _create_database(PG_URL)
        raw = create_engine(PG_URL)
        with raw.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        raw.dispose()
        Database(PG_URL).upgrade()
        return PG_URL
    template = tmp_path_factory.mktemp("schema") / "template.db"
    db = Database(f"sqlite:///{template}")
    db.upgrade()
    db.dispose()
    return str(template)


def own_database(_schema: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database of its own, migrated and empty, for a data set that outlives a test (a module's): on PostgreSQL a
    worker's tests share its one database, which every test's `db_url` empties, and pytest-xdist's worksteal runs a
    module's tests in any order on a worker, so a module's data set there was emptied by the module's other tests
    between two of its own. SQLite: a copy of the template file; PostgreSQL: a new database copied from a template
    of the worker's own (migrated on the first call), dropped when the worker ends."""
    if not PG_URL:
        target = tmp_path_factory.mktemp("own") / "salesflow.db"
        shutil.copy(_schema, target)
        return f"sqlite:///{target}"
    server, name = PG_URL.rsplit("/", 1)
    if not _OWN:
        _OWN.append(f"{name}_template")
        _drop_databases(server, _OWN)
        _create_database(f"{server}/{_OWN[0]}")
        template = Database(f"{server}/{_OWN[0]}")
        template.upgrade()
        template.dispose()  # a template takes no copies while a session is on it
        atexit.register(_drop_databases, server, _OWN)
    _OWN.append(f"{name}_own{len(_OWN)}")
    _drop_databases(server, _OWN[-1:])  # a run that ended without its exit handlers left it
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # FILE_COPY: half the time of the default for a database this small
            conn.execute(text(f'CREATE DATABASE "{_OWN[-1]}" TEMPLATE "{_OWN[0]}" STRATEGY FILE_COPY'))
    finally:
        admin.dispose()
    return f"{server}/{_OWN[-1]}"


_OWN: list[str] = []  # the worker's template, then the databases copied from it


def _drop_databases(server: str, names: list[str]) -> None:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in reversed(names):  # the copies before their template
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def db_url(_schema: str, tmp_path: Path) -> str:
    if PG_URL:
        _empty(PG_URL)
        return PG_URL
    target = tmp_path / "salesflow.db"
    shutil.copy(_schema, target)
    return f"sqlite:///{target}"


_EMPTYING: dict[str, object] = {}  # url: an engine kept for the worker's life


def _empty(url: str) -> None:
    """Every table emptied and every id counting from 1 again, as on a new database, in one round trip on a
    connection kept open (a new connection and a statement per table cost 90 ms a test). DELETE, children
    first, and only where a row is: most tests write to a few of the tables, and an EXISTS on an empty table
    costs less than its DELETE (TRUNCATE, which gives each table new files, took 95 ms)."""
    if url not in _EMPTYING:
        _EMPTYING[url] = create_engine(url, poolclass=StaticPool)
    with _EMPTYING[url].begin() as conn:
        conn.exec_driver_sql(_EMPTY_ALL)


# kpi_day, kpi_rollup_state, kpi_case_target and kpi_open_end describe the schema (the company days, the zone the KPI
# rollups were built for, the targets the decided cases are counted by, the end tasks of the open cases), as on a new
# database: they stay. The rollups go last: the triggers of the task, instance and kpi_case deletes write them.
KEPT_TABLES = {"kpi_day", "kpi_rollup_state", "kpi_case_target", "kpi_open_end"}
_ROLLUPS = ["kpi_completed_day", "kpi_registered_day", "kpi_case_day", "kpi_open_case", "kpi_open_day",
            "kpi_hours_month", "kpi_hours_day", "kpi_hours_dekad", "kpi_hours_total", "kpi_completed_month",
            "kpi_case_month", "kpi_score_day", "kpi_score_month"]
_EMPTIED = [t.name for t in reversed(Base.metadata.sorted_tables)
            if t.name not in KEPT_TABLES | set(_ROLLUPS)] + _ROLLUPS
_EMPTY_ALL = ("DO $$ DECLARE t text; has boolean; BEGIN "
              "FOREACH t IN ARRAY ARRAY[{tables}] LOOP "
              "EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I)', t) INTO has; "
              "IF has THEN EXECUTE format('DELETE FROM %%I', t); END IF; "
              "END LOOP; "
              "PERFORM setval(format('%%I.%%I', schemaname, sequencename)::regclass, 1, false) FROM pg_sequences "
              "WHERE schemaname = current_schema() AND last_value IS NOT NULL; "
              "END $$").format(tables=", ".join(f"'{t}'" for t in _EMPTIED))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def engine(db_url: str, clock: ManualClock) -> Engine:
    eng = Engine(db_url, clock=clock)
    eng.init()
    _share_compiled_statements(eng)
    yield eng
    eng.db.dispose()


_COMPILED: dict[str, tuple] = {}  # dialect name: (the first engine's dialect, its compiled-statement cache)


def _share_compiled_statements(eng: Engine) -> None:
    """Every test's engine reuses the SQL its predecessors compiled, as a server's one long-lived engine does.
    SQLAlchemy keys compiled statements by the dialect object, and a new engine brings a new one: each test
    compiled every statement it ran again, a fifth of a page test's CPU. The dialects are alike (same backend,
    driver and options; a worker's databases are on one server) and already initialised by init()'s connection."""
    for sql_engine in {eng.db._writer, eng.db._reader}:
        dialect, cache = _COMPILED.setdefault(sql_engine.dialect.name,
                                              (sql_engine.dialect, sql_engine._compiled_cache))
        sql_engine.dialect = sql_engine.pool._dialect = dialect
        sql_engine._compiled_cache = cache


def add_users(eng: Engine, people: dict[str, list[str]]) -> None:
    for name, roles in people.items():
        eng.add_user(name, roles, PASSWORD)


def deploy_approval(engine: Engine) -> None:
    """The small test process in tests/fixtures/approval, deployed, with one user per lane (APPROVAL_PEOPLE)."""
    engine.deploy("system", [FIXTURES / "approval"])
    add_users(engine, APPROVAL_PEOPLE)


APPROVAL_PEOPLE = {"rep": ["sales_rep"], "rep2": ["sales_rep"], "mgr": ["sales_manager"], "mgr2": ["sales_manager"],
                   "dir": ["sales_director"], "aud": ["auditor"], "adm": ["admin"]}


@pytest.fixture
def approval(engine: Engine) -> Engine:
    """The small test process in tests/fixtures/approval, deployed, with one user per lane: built once per
    worker, then restored (tests/deployed_state.py; a third of the CPU of deploying and adding the users)."""
    from tests.deployed_state import prepared  # it imports T0 from here

    prepared(engine, "approval: the process and APPROVAL_PEOPLE", deploy_approval)
    return engine
