"""Bulk loading for the read benchmarks: millions of rows in minutes, not hours.

Rows go to the driver as plain tuples, past SQLAlchemy's per-value type processing: `COPY ... FROM
STDIN` on PostgreSQL, one `executemany` per batch on SQLite. The tables' secondary indexes are
dropped for the load and created again afterwards from the DDL the migrations made (read back from
the database), which is several times faster than keeping them up to date row by row.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

from sqlalchemy import create_engine, text

from engine import Engine


def stamp(eng: Engine):  # noqa: ANN201 - a converter for UTC datetimes
    """How a UTC datetime is given to the driver: SQLite stores SQLAlchemy's text form
    (`YYYY-MM-DD HH:MM:SS.ffffff`, which sorts as time), PostgreSQL takes the datetime."""
    if eng.db.is_sqlite:
        return lambda value: None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return lambda value: None if value is None else value.replace(tzinfo=None)


def _indexes(session, table: str, sqlite: bool) -> list[tuple[str, str]]:  # noqa: ANN001
    """(name, CREATE INDEX statement) of the table's secondary indexes (not the primary key nor a
    unique constraint's: those stay)."""
    if sqlite:
        rows = session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                                    "AND sql IS NOT NULL"), {"t": table})
    else:
        rows = session.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = :t AND t.relkind = 'r' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"), {"t": table})
    return [(name, sql) for name, sql in rows]


@contextlib.contextmanager
def without_indexes(eng: Engine, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes for the block and create them again after it (printing
    how long that took)."""
    with eng.db.write() as s:
        found = [ix for table in tables for ix in _indexes(s, table, eng.db.is_sqlite)]
        for name, _ in found:
            s.execute(text(f'DROP INDEX "{name}"'))
    yield
    start = time.perf_counter()
    for name, sql in found:
        with eng.db.write() as s:
            s.execute(text(sql))
        print(f"  index {name} created ({time.perf_counter() - start:.0f} s)", flush=True)


@contextlib.contextmanager
def without_triggers(eng: Engine, tables: Sequence[str]) -> Iterator[None]:
    """The tables' triggers (the KPI rollups', migration 0025) off for the block, on again after it; the caller
    counts what they would have (rollups.rebuild: one grouped statement per rollup instead of a trigger call per
    row, which tripled the load's time on PostgreSQL). SQLite cannot switch a trigger off: it is dropped and made
    again from its own DDL (read back from the database)."""
    with eng.db.write() as s:
        if eng.db.is_sqlite:
            found = list(s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                                        f"({', '.join(repr(t) for t in tables)})")))
            for name, _ in found:
                s.execute(text(f'DROP TRIGGER "{name}"'))
        else:
            for table in tables:
                s.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    yield
    with eng.db.write() as s:
        if eng.db.is_sqlite:
            for _, sql in found:
                s.execute(text(sql))
        else:
            for table in tables:
                s.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def insert(eng: Engine, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert the rows (tuples in `columns` order) in one transaction."""
    if not rows:
        return
    names = ", ".join(columns)
    with eng.db.write() as s:
        conn = s.connection()
        if eng.db.is_sqlite:
            marks = ", ".join("?" * len(columns))
            conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))
        else:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def settle(eng: Engine) -> None:
    """Statistics for the planner after a bulk load: PostgreSQL's autovacuum would have analysed and
    vacuumed tables this size (the visibility map lets index-only scans skip the table); SQLite gets
    `PRAGMA optimize`, which an application may run on close (we measure the plan it chooses without
    forcing it)."""
    if eng.db.is_sqlite:
        with eng.db.write() as s:
            s.execute(text("PRAGMA optimize"))
        return
    vacuum = create_engine(eng.db.url, isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
    try:
        with vacuum.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    finally:
        vacuum.dispose()


def progress(label: str, done: int, total: int, started: float) -> None:
    print(f"  {label}: {done:,} of {total:,} ({100 * done / total:.0f} %, {time.perf_counter() - started:.0f} s)",
          flush=True)
