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

from sqlalchemy.orm import Session

from engine.kpi import case_rows, rollups, score_rows, triggers

# the tables whose triggers count into the rollups that rollups.rebuild counts again
COUNTED_AFTER = ("kpi_case", "kpi_score", "kpi_open_case")


def everything(session: Session, timezone: str, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Every stored figure again, in the caller's transaction; returns each table's count (rollups.rebuild's, and
    kpi_case's and kpi_score's rows written)."""
    # (rollups.rebuild switches some of them off again for its own counts and back on: the same state, nested)
    with triggers.switched_off(session, COUNTED_AFTER):
        found = {"kpi_case": case_rows.rebuild(session, progress)}
        found["kpi_score"] = score_rows.rebuild(session, progress)
        found.update(rollups.rebuild(session, timezone, progress))
    return found
