"""`salesflow kpi rebuild`: the KPI page's stored figures computed again from the source rows in one transaction.

The decided cases (kpi_case, engine/kpi/case_rows.py), the counted satisfaction scores (kpi_score, score_rows.py),
then every count kept from them and from the tasks and instances (engine/kpi/rollups.py). Their tables' triggers are
off meanwhile (engine/kpi/triggers.py): rollups.rebuild counts, in one grouped statement per table, all that they
would have kept a row at a time (the decided cases' days, months, dekads and hour buckets, the open cases, the
scores' days and months). At a million instances the triggers' calls per row took minutes (PostgreSQL was still
deleting the old decided cases after five). One transaction: a failure leaves the figures, and the triggers, as
they were.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.kpi import case_rows, rollups, score_rows, triggers

# the tables whose triggers count into the rollups that rollups.rebuild counts again
COUNTED_AFTER = ("kpi_case", "kpi_score", "kpi_open_case")
# the rollups of a few thousand rows that every page load reads whole (a row per month, key and count; the open cases'
# days): rewritten, compacted after the rebuild on PostgreSQL
SMALL = ("kpi_completed_month", "kpi_case_month", "kpi_score_month", "kpi_hours_total", "kpi_open_day",
         "kpi_registered_day", "kpi_open_end", "kpi_case_target", "kpi_rollup_state")


def everything(session: Session, timezone: str, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Every stored figure again, in the caller's transaction; returns each table's count (rollups.rebuild's, and
    kpi_case's and kpi_score's rows written)."""
    # (rollups.rebuild switches some of them off again for its own counts and back on: the same state, nested)
    with triggers.switched_off(session, COUNTED_AFTER):
        found = {"kpi_case": case_rows.rebuild(session, progress)}
        found["kpi_score"] = score_rows.rebuild(session, progress)
        found.update(rollups.rebuild(session, timezone, progress))
    return found


def compact(conn: Connection, progress: Callable[[str], None] | None = None) -> list[str]:
    """PostgreSQL, after the rebuild committed (`conn` outside a transaction: Database.maintenance): the small
    rollups rewritten without their dead rows (VACUUM FULL: an exclusive lock of a few milliseconds each), the
    other KPI tables vacuumed, and every one's statistics read again. A rebuild replaces each row in one
    transaction, which left the old ones' pages behind: the small tables stayed twice their size or more (~30 times
    after the triggers' upserts of earlier versions, 1,700 pages for 4,656 rows), read whole by every page load;
    and until a vacuum marks kpi_case's rewritten pages all-visible, the reads at the ranks fetch each row they
    step over from the table (phase 2 for everything 50 -> 190 ms at a million instances; the vacuum takes ~7 s
    there). Returns the tables compacted; SQLite (rows rewritten in place, the file's free pages reused) has
    nothing to do."""
    if conn.dialect.name != "postgresql":
        return []
    present = set(inspect(conn).get_table_names())
    small = [t for t in SMALL if t in present]
    for table in small:
        conn.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {table}")
    others = sorted(t for t in present if t.startswith("kpi_") and t not in small)
    if others:  # (VACUUM of no table names is a vacuum of the whole database)
        conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(others)}")
    if progress is not None:
        progress(f"compacted: {', '.join(small)}; vacuumed: {', '.join(others)}")
    return small
