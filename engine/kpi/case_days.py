"""The decided cases (kpi_case) counted per company day, kept by the database (migration 0026; docs/kpi.md
"Rollups").

The times section counted every decided case of the range per process, month, role and person (done, within the
target, unresolved), and the resolution rate counted them again per month: a read that grows with the range.
`kpi_case_day` holds those counts per measure and company day of the registration; triggers on kpi_case keep it
in the writing transaction (the step that writes a case row pays no statement of its own), with the day of
`kpi_day` (engine/kpi/rollups.py: same zone rule, same `kpi_rollup_state`). `within` is the row's hours against
the measure's target as `kpi_case_target` holds it; the page reads the counts only while those are kpi.yaml's
targets, the days were built for kpi.yaml's zone and no registration fell outside them (`usable`), else it counts
kpi_case (the same figures, slower). The page's windows are whole company days, so a window is a range of days:
its whole months are summed from `kpi_case_month` (migration 0032, triggers on kpi_case_day), only its partial
months' days from kpi_case_day (engine/kpi/month_rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from sqlalchemy import Subquery, delete, exists, func, insert, or_, select, text
from sqlalchemy.orm import Session

from engine.kpi import definitions, month_rows
from engine.kpi.day_rows import OUTSIDE, day_of, has_table, per_transaction
from engine.kpi.filters import Window
from engine.store.models import KpiCaseDay, KpiCaseMonth, KpiCaseTarget, KpiRollupState

# what a rebuild counts: the trigger's rule as one grouped statement, each row's day found as the trigger finds it
# (the last listed day starting at or before it: one seek in kpi_day per row; a range join per day would read
# kpi_case once per listed day, its index leading with the measure)
_COUNT = text(
    "INSERT INTO kpi_case_day (measure, day, process, role, person, done, within, unresolved) "
    "SELECT measure, day, process, role, person, sum(CASE WHEN unresolved THEN 0 ELSE 1 END), "
    "sum(CASE WHEN NOT unresolved AND hours <= target_hours THEN 1 ELSE 0 END), "
    "sum(CASE WHEN unresolved THEN 1 ELSE 0 END) FROM ("
    f"SELECT c.measure, {day_of('c.started_at')} AS day, c.process, "
    "COALESCE(c.role, '') AS role, COALESCE(c.person, '') AS person, c.unresolved, c.hours, t.target_hours "
    "FROM kpi_case c LEFT JOIN kpi_case_target t ON t.measure = c.measure) AS x "
    "GROUP BY measure, day, process, role, person ORDER BY 1, 2")


def exists_in(session: Session) -> bool:
    """Whether the database has kpi_case_day (not below migration 0026)."""
    return has_table(session, KpiCaseDay.__tablename__)


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """kpi.yaml's targets, and kpi_case_day counted again from kpi_case by the listed days (in the caller's
    transaction; rollups.rebuild calls this after listing the days again); returns the cases counted."""
    session.execute(delete(KpiCaseTarget))
    session.execute(insert(KpiCaseTarget), [{"measure": m.key, "target_hours": float(m.target_hours)}
                                            for m in definitions.load().measures])
    session.execute(delete(KpiCaseDay))
    session.execute(_COUNT)
    counted = session.scalar(select(func.coalesce(func.sum(KpiCaseDay.done + KpiCaseDay.unresolved), 0)))
    if progress is not None:
        progress(f"kpi_case_day: {counted:,} decided cases counted")
    return int(counted)


@per_transaction
def usable(session: Session, measure: definitions.Measure, timezone: str) -> bool:
    """Whether kpi_case_day holds the page's counts of this measure: the database has it, kpi_day was built for
    this zone, no registration fell outside the listed days, and `within` was counted by the measure's target."""
    if not exists_in(session):
        return False
    outside = select(KpiCaseDay.day).where(  # the measure first: a seek in the key, not a scan of every row
        KpiCaseDay.measure == measure.key, KpiCaseDay.day == OUTSIDE,
        or_(KpiCaseDay.done != 0, KpiCaseDay.unresolved != 0))
    target = select(KpiCaseTarget.target_hours).where(KpiCaseTarget.measure == measure.key).scalar_subquery()
    found = session.execute(select(KpiRollupState.timezone, target).where(
        KpiRollupState.id == 1, ~exists(outside))).first()
    return found is not None and found[0] == timezone and found[1] == float(measure.target_hours)


def _rows(session: Session, measure: str, processes: Iterable[str], window: Window,
          columns: tuple[str, ...]) -> Subquery:
    """The window's rows of the measure and processes: whole months from kpi_case_month (migration 0032), the
    partial months' days from kpi_case_day (engine/kpi/month_rows.py)."""
    wanted = list(processes)

    def where(table: type) -> list:
        return [table.measure == measure, table.process.in_(wanted)]

    return month_rows.rows(session, KpiCaseDay, KpiCaseMonth, columns, where, (window.day_from, window.day_to))


class DecidedRow(NamedTuple):
    """The decided cases of one row of a breakdown: `dimension` indexes DIMENSIONS, `key` None for not attributed."""

    dimension: int
    key: str | None
    done: int
    within: int
    unresolved: int


DIMENSIONS = ("process", "month", "role", "person")  # times.DIMENSIONS' keys, in its order


def decided_rows(session: Session, measure: str, processes: Iterable[str], window: Window) -> list[DecidedRow]:
    """The measure's decided cases of the processes registered in the window's days, summed per row of each
    breakdown by the database (rows whose counts sum to zero left out): a few hundred rows, where one per process,
    month, role and person were ~2,300 a measure for everything at a million instances, each added to four rows in
    Python. Two groupings (month_rows.summed: per month, and per process, role and person spread here), cheap from the
    month tables (summing ~35,000 day rows four times cost more than one GROUP BY and the loop, before migration
    0032)."""
    found = _rows(session, measure, processes, window, ("process", "role", "person", "done", "within", "unresolved"))
    sums = month_rows.summed(session, found, {name: name for name in DIMENSIONS}, ("done", "within", "unresolved"))
    return [DecidedRow(DIMENSIONS.index(dim), key or None, *counts) for (dim, key), counts in sums.items()]


def done_per_month(session: Session, measure: str, process: str, window: Window) -> dict[str, int]:
    """month -> the measure's done cases of the process registered in the window's days (non-zero months)."""
    found = _rows(session, measure, [process], window, ("done",))
    done = func.sum(found.c.done)
    query = select(found.c.month, done).group_by(found.c.month).having(done != 0)
    return {m: int(n) for m, n in session.execute(query)}


def nonzero_rows(session: Session) -> set[tuple]:
    """kpi_case_day's rows with a non-zero count (for tests and checks: compare with a count of kpi_case)."""
    return {tuple(r) for r in session.execute(select(*KpiCaseDay.__table__.columns).where(
        or_(KpiCaseDay.done != 0, KpiCaseDay.within != 0, KpiCaseDay.unresolved != 0)))}
