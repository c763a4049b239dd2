"""A deployed state (processes, forms, people) built for real once per test process (each xdist worker)
and restored for every later test that starts from it.

Deploying the whole repository costs about a second (reading, linting and compiling every diagram and
form), the web fixtures' P5/P6 bundle half of that; hundreds of tests start from exactly such a state.
`prepared(engine, name, build)`: the first call on a fresh database runs `build(engine)` and keeps the
result as a snapshot under `name`; later calls on a fresh database at T0 restore the snapshot instead:
SQLite copies the database file back; PostgreSQL copies the rows of every table back (COPY, binary; a
fresh database holds only the role catalogue, the same in both) and sets its sequences where they were.
Anything else (a database with rows of its own, a moved clock, another role catalogue, an engine
with a method replaced by the test) deploys for real, so a restored database is the one a real deploy
would have made.
A build may move the (manual) clock, as a fixture that drives instances through their timers does: the
snapshot keeps where build left it and a restore sets the engine's clock there again, so a test sees the
same "now" after a restore as after the build itself.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import exists, literal, select, text, union_all

from engine import Engine
from engine.store.models import Base
from tests.conftest import T0

# engine.init() fills the role catalogue, the KPI rollups' company days and zone (migration 0025), the targets the
# decided cases are counted by (0026) and the open cases' end tasks (0027) and nothing else; any other row means the
# test did something first
_INIT_TABLES = {"role", "kpi_day", "kpi_rollup_state", "kpi_case_target", "kpi_open_end"}
# what the database's triggers write as the task, instance and kpi_case rows come back: copied, they would count
# twice
_TRIGGERED = {"kpi_completed_day", "kpi_registered_day", "kpi_case_day", "kpi_open_case", "kpi_open_day",
              "kpi_hours_month", "kpi_hours_day", "kpi_hours_dekad", "kpi_hours_total", "kpi_completed_month",
              "kpi_case_month", "kpi_score_day", "kpi_score_month"}


@dataclass
class _Snapshot:
    result: Any  # what build() returned
    clock: datetime  # where build() left the engine's clock
    sqlite_file: Path | None = None
    tables: dict[str, bytes] = field(default_factory=dict)  # PostgreSQL: COPY ... (FORMAT BINARY) per table
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)


T = TypeVar("T")

# by name and "is SQLite": a worker runs on one database, but be exact
_snapshots: dict[tuple[str, bool], _Snapshot] = {}


def prepared(engine: Engine, name: str, build: Callable[[Engine], T]) -> T:
    """build(engine) on this engine's fresh database, or its snapshot restored; build's result either way.
    One name, one build: the snapshot of the first call stands for every later one."""
    if not _fresh(engine):
        return build(engine)
    key = (name, engine.db.is_sqlite)
    snapshot = _snapshots.get(key)
    if snapshot is not None and snapshot.clock != T0 and not hasattr(engine.clock, "set"):
        return build(engine)  # a clock that cannot be set where build left it: build for real
    if snapshot is None:
        result = build(engine)
        _snapshots[key] = _take(engine, result)
        return result
    _restore(engine, snapshot)
    return deepcopy(snapshot.result)


def _fresh(engine: Engine) -> bool:
    """Just initialised with the repository's role catalogue, the clock at T0: what the snapshot starts from."""
    if engine._roles_path is not None or engine.clock.now() != T0 or _patched(engine):
        return False
    with engine.db.read() as s:
        return s.execute(_ANY_ROW).first() is None


# one statement asks every table but the role catalogue whether it holds a row (a count per table cost
# a round trip each, on every restore)
_ANY_ROW = union_all(*(select(literal(table.name)).where(exists().select_from(table))
                       for table in Base.metadata.sorted_tables if table.name not in _INIT_TABLES)).limit(1)


def _patched(engine: Engine) -> bool:
    """A test that replaced one of this engine's methods (display names given in add_user, say) wants it called."""
    return any(hasattr(type(engine), name) for name in vars(engine))


def _take(engine: Engine, result: Any) -> _Snapshot:
    if engine.db.is_sqlite:
        folder = tempfile.mkdtemp(prefix="salesflow-repository-")
        atexit.register(shutil.rmtree, folder, True)  # the worker's snapshot goes with the worker
        target = Path(folder) / "deployed.db"
        _sqlite_copy(_sqlite_path(engine), target)
        return _Snapshot(deepcopy(result), engine.clock.now(), sqlite_file=target)
    snapshot = _Snapshot(deepcopy(result), engine.clock.now())
    with engine.db._writer.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        for table in _deployed_tables():
            with cur.copy(f"COPY {table.name} TO STDOUT (FORMAT BINARY)") as copy:
                snapshot.tables[table.name] = b"".join(bytes(chunk) for chunk in copy)
        names = conn.execute(text("SELECT schemaname || '.' || sequencename FROM pg_sequences "
                                  "WHERE schemaname = current_schema()")).scalars().all()
        for name in names:
            value, called = conn.execute(text(f"SELECT last_value, is_called FROM {name}")).one()
            snapshot.sequences.append((name, value, called))
    return snapshot


def _restore(engine: Engine, snapshot: _Snapshot) -> None:
    if snapshot.clock != T0:
        engine.clock.set(snapshot.clock)  # type: ignore[attr-defined]  # prepared() checked it can
    if snapshot.sqlite_file is not None:
        engine.db.dispose()  # no connection may keep the replaced file open
        _sqlite_copy(snapshot.sqlite_file, _sqlite_path(engine))
        return
    # the database is fresh: every table is empty but the role catalogue, which init() wrote as the snapshot's
    with engine.db._writer.begin() as conn:  # one transaction: never half a template
        cur = conn.connection.driver_connection.cursor()
        for table in _deployed_tables():
            with cur.copy(f"COPY {table.name} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(snapshot.tables[table.name])
        for name, value, called in snapshot.sequences:
            conn.execute(text("SELECT setval(:n, :v, :c)"), {"n": name, "v": value, "c": called})


def _deployed_tables() -> list:
    """Every table but those init() fills and those the triggers fill, parents before children (the foreign keys
    hold row by row)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in _INIT_TABLES | _TRIGGERED]


def _sqlite_path(engine: Engine) -> Path:
    return Path(engine.db.url.removeprefix("sqlite:///"))


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's backup API: a consistent copy whatever the write-ahead log holds, into a file in use or not."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
