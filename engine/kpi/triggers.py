"""The KPI tables' triggers switched off inside one transaction, for a rebuild that counts what they would have kept
in one grouped statement per table (engine/kpi/rollups.py) instead of a trigger call per row.

A trigger call per row made `salesflow kpi rebuild` at a million instances spend minutes deleting and writing the
decided cases again (every kpi_case row's triggers upsert its day, month, dekad, total and open-case counts), and on
PostgreSQL left the tables those triggers update many times their size: in one transaction no row version they
replace can be pruned before the commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine.kpi.day_rows import has_table

_SQLITE_TRIGGERS = text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables "
                        "ORDER BY name").bindparams(bindparam("tables", expanding=True))


@contextlib.contextmanager
def switched_off(session: Session, tables: Sequence[str]) -> Iterator[bool]:
    """Every trigger of the tables (those the database has) off for the block, in the caller's transaction, and on
    again after it; yields whether they are off. The caller counts what they would have kept. A block that fails
    leaves the transaction to be rolled back, and the switching off with it. PostgreSQL disables them; a database
    user who does not own the tables may not, and they stay on (the same counts, slower). SQLite cannot disable a
    trigger: each is dropped and made again from its own DDL (as the database holds it) after the block."""
    present = [t for t in tables if has_table(session, t)]
    if not present:
        yield False
    elif session.get_bind().dialect.name == "sqlite":
        found = list(session.execute(_SQLITE_TRIGGERS, {"tables": present}))
        for name, _sql in found:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        yield True
        for _name, sql in found:  # (the DDL as written: no parameters to parse in it)
            session.connection().exec_driver_sql(sql)
    else:
        off = _disable(session, present)
        yield off
        if off:
            for table in present:
                session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def _disable(session: Session, tables: list[str]) -> bool:
    try:
        with session.begin_nested():
            for table in tables:
                session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    except DBAPIError:  # not the tables' owner: a rebuild with the triggers on is slower, not wrong
        return False
    return True
