"""The satisfaction scores (kpi_score) counted per company day, kept by the database (migration 0033; docs/kpi.md
"Satisfaction scores").

The satisfaction section read every `completed` event of every instance of a scored process and parsed its JSON in
Python (~120 ms at a million instances before any score, growing with them). `kpi_score_day` holds the kpi_score
rows' counts per company day of recording, process, role, person ('' for none) and value, `kpi_score_month` the
same per the day's month; triggers on kpi_score keep both in the writing transaction (the step that writes the
score rows pays no statement of its own for them), with the day of `kpi_day` (engine/kpi/rollups.py: same zone rule,
same `kpi_rollup_state`). The page's windows are whole company days: it sums the month rows of the window's whole
months and the day rows of the days of its partial months (engine/kpi/month_rows.py, as the other rollups; a day a
score, near enough, in the benchmark's data: a year's scores are ~15 times as many day rows as month rows) when
`usable`, else it reads the trail (the same figures).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from engine.kpi import month_rows
from engine.kpi.day_rows import OUTSIDE, day_of, has_table, per_transaction
from engine.kpi.filters import Window
from engine.store.models import KpiRollupState, KpiScoreDay, KpiScoreMonth

# what a rebuild counts: the trigger's rule as one grouped statement, each row's day found as the trigger finds it
_COUNT = text(
    "INSERT INTO kpi_score_day (day, process, role, person, value, n) "
    "SELECT day, process, role, person, value, count(*) FROM ("
    f"SELECT {day_of('s.at')} AS day, s.process, COALESCE(s.role, '') AS role, COALESCE(s.person, '') AS person, "
    "s.value FROM kpi_score s) AS x GROUP BY day, process, role, person, value ORDER BY 1")
_COUNT_MONTHS = text(
    "INSERT INTO kpi_score_month (month, process, role, person, value, n) "
    "SELECT substr(day, 1, 7), process, role, person, value, sum(n) FROM kpi_score_day "
    "GROUP BY substr(day, 1, 7), process, role, person, value ORDER BY 1")


def exists_in(session: Session) -> bool:
    """Whether the database has kpi_score_day (not below migration 0033)."""
    return has_table(session, KpiScoreDay.__tablename__)


def rebuild(session: Session, progress: Callable[[str], None] | None = None) -> int:
    """kpi_score_day and kpi_score_month counted again from kpi_score by the listed days (in the caller's
    transaction; rollups.rebuild calls this after listing the days again); returns the scores counted."""
    session.execute(delete(KpiScoreDay))
    session.execute(delete(KpiScoreMonth))
    session.execute(_COUNT)
    session.execute(_COUNT_MONTHS)
    counted = int(session.scalar(select(func.coalesce(func.sum(KpiScoreDay.n), 0))))
    if progress is not None:
        progress(f"kpi_score_day: {counted:,} scores counted")
    return counted


@per_transaction
def usable(session: Session, timezone: str) -> bool:
    """Whether kpi_score_day holds the page's counts: the database has it, kpi_day was built for this zone and no
    score fell outside the listed days."""
    if not exists_in(session):
        return False
    outside = select(KpiScoreDay.day).where(KpiScoreDay.day == OUTSIDE, KpiScoreDay.n != 0)
    found = session.scalar(select(KpiRollupState.timezone).where(KpiRollupState.id == 1, ~exists(outside)))
    return found == timezone


def counts(session: Session, process: str, window: Window) -> list[tuple[str, str | None, int, int]]:
    """(dim, key, value, n) of the process's scores recorded in the window's days, per month ("by_month"), role
    ("by_role") and person ("by_person"; None for '' role or person; groups that sum to zero left out: a count that
    fell to zero keeps its row): the month rows of its whole months and the day rows of its other days (the partial
    months at its edges), grouped per month and value and per role, person and value by the database in one statement
    (month_rows.summed: some 600 rows for a year, where the ~6,000 rows per month, role, person and value cost more to
    turn into Python objects than to sum)."""
    rows = month_rows.rows(session, KpiScoreDay, KpiScoreMonth, ("role", "person", "value", "n"),
                           lambda table: [table.process == process], (window.day_from, window.day_to))
    sums = month_rows.summed(session, rows, {"by_month": "month", "by_role": "role", "by_person": "person"}, ("n",),
                             by=("value",))
    return [(dim, key if dim == "by_month" else key or None, int(value), count)
            for (dim, key, value), (count,) in sums.items()]


def nonzero_rows(session: Session, table: type = KpiScoreDay) -> set[tuple]:
    """kpi_score_day's (or kpi_score_month's) rows with a non-zero count (for tests and checks: compare with a count
    of kpi_score)."""
    return {tuple(r) for r in session.execute(select(*table.__table__.columns).where(table.n != 0))}
