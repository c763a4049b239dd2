"""The satisfaction scores (kpi_score) counted per company day, kept by the database (migration 0032; docs/kpi.md
"Satisfaction scores").

The satisfaction section read every `completed` event of every instance of a scored process and parsed its JSON in
Python (~120 ms at a million instances before any score, growing with them). `kpi_score_day` holds the kpi_score
rows' counts per company day of recording, process, role, person ('' for none) and value; triggers on kpi_score
keep it in the writing transaction (the step that writes the score rows pays no statement of its own for it), with
the day of `kpi_day` (engine/kpi/rollups.py: same zone rule, same `kpi_rollup_state`). The page sums the rows of
the window's days (its windows are whole company days) when `usable`, else it reads the trail (the same figures).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from engine.kpi.day_rows import OUTSIDE, day_of, has_table
from engine.kpi.day_rows import month as month_of_day
from engine.kpi.filters import Window
from engine.store.models import KpiRollupState, KpiScoreDay

# what a rebuild counts: the trigger's rule as one grouped statement, each row's day found as the trigger finds it
_COUNT = text(
    "INSERT INTO kpi_score_day (day, process, role, person, value, n) "
    "SELECT day, process, role, person, value, count(*) FROM ("
    f"SELECT {day_of('s.at')} AS day, s.process, COALESCE(s.role, '') AS role, COALESCE(s.person, '') AS person, "
    "s.value FROM kpi_score s) AS x GROUP BY day, process, role, person, value")


def exists_in(session: Session) -> bool:
    """Whether the database has kpi_score_day (not below migration 0032)."""
    return has_table(session, KpiScoreDay.__tablename__)


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """kpi_score_day counted again from kpi_score by the listed days (in the caller's transaction; rollups.rebuild
    calls this after listing the days again); returns the scores counted."""
    session.execute(delete(KpiScoreDay))
    session.execute(_COUNT)
    counted = int(session.scalar(select(func.coalesce(func.sum(KpiScoreDay.n), 0))))
    if progress is not None:
        progress(f"kpi_score_day: {counted:,} scores counted")
    return counted


def usable(session: Session, timezone: str) -> bool:
    """Whether kpi_score_day holds the page's counts: the database has it, kpi_day was built for this zone and no
    score fell outside the listed days."""
    if not exists_in(session):
        return False
    outside = select(KpiScoreDay.day).where(KpiScoreDay.day == OUTSIDE, KpiScoreDay.n != 0)
    found = session.scalar(select(KpiRollupState.timezone).where(KpiRollupState.id == 1, ~exists(outside)))
    return found == timezone


def counts(session: Session, process: str, window: Window) -> list[tuple[str, str, str | None, str | None, int, int]]:
    """(process, month, role, person, value, n) of the process's scores recorded in the window's days (None for ''
    role or person; groups that sum to zero left out: a count that fell to zero keeps its row)."""
    month = month_of_day(KpiScoreDay.day)
    keys = (month, KpiScoreDay.role, KpiScoreDay.person, KpiScoreDay.value)
    n = func.sum(KpiScoreDay.n)
    query = select(*keys, n).where(KpiScoreDay.process == process)
    if window.day_from is not None:
        query = query.where(KpiScoreDay.day >= window.day_from.isoformat())
    if window.day_to is not None:
        query = query.where(KpiScoreDay.day <= window.day_to.isoformat())
    rows = session.execute(query.group_by(*keys).having(n != 0))
    return [(process, m, role or None, person or None, int(value), int(count))
            for m, role, person, value, count in rows]


def nonzero_rows(session: Session) -> set[tuple]:
    """kpi_score_day's rows with a non-zero count (for tests and checks: compare with a count of kpi_score)."""
    return {tuple(r) for r in session.execute(select(*KpiScoreDay.__table__.columns).where(KpiScoreDay.n != 0))}
