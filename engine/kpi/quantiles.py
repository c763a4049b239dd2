"""The median and p90 of each row of the KPI page's time breakdowns, read at their ranks (migrations 0028, 0030).

The exact figures of stats.median and stats.p90 (the middle one or two done hours, the one at rank ceil(0.9 n))
without reading every done case of the window, in two phases:

1. where the ranks lie: `kpi_hours_month` (kept by triggers on kpi_case) counts the done cases per month, process
   and bucket of hours (hour_buckets.edges_for: per process alone in whole hours up to a week, per role and person
   in the wider LADDER; on PostgreSQL finer per role and for the first hours per process; `edges`: those the
   database's counts are in), per dim and label; `kpi_hours_day` the same per day. The window's whole months are
   summed from the first, the days of its partial months at the edges (a window starts and ends on company days)
   from the second (or, when its days outside the window that hold rows are fewer, the month's row less those days'
   rows), per row of each breakdown and bucket and numbered in bucket order (engine/kpi/rank_buckets.py): the
   bucket that holds each wanted rank and the rank inside it.
2. the values (engine/kpi/rank_reads.py): per wanted bucket whose ranks lie deep inside it, its least and greatest
   hours of any registration (two seeks: when equal, every case of the bucket has these hours, the rank's value),
   else one bounded read in an index
   of kpi_case ordered by hours for the row's key (overall: ix_kpi_case_hours; month: ix_kpi_case_by_month; process,
   role, person: their own), seeking the bucket's range and stepping to the rank inside it from the nearer end, the
   window's bounds as a filter, all reads of a round in few statements.

Only where that costs less than sorting the window's done cases (`cheaper`: a whole month has a few count rows per
key, the days of a partial month about one per case and dim, so a short range at the edges of months is sorted).
When the counts are not usable (the rollups were never built or built for another zone, or a registration fell
outside the listed days: rollups.usable), when a row's total differs from the page's own count of its done cases,
or a read finds fewer rows than counted (a count changed by hand: `salesflow kpi rebuild` recounts), the caller
reads every done case the old way (times._ranks): the same figures, slower.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from engine.days import day_start
from engine.kpi import day_rows, dekads, hour_buckets, month_rows, rank_buckets, rank_reads, rollups
from engine.kpi.day_rows import day_of, has_column, has_table, per_transaction
from engine.kpi.definitions import Interval, Measure
from engine.kpi.filters import Window
from engine.kpi.hour_buckets import EDGES, EDGES_0030, LADDER, WEEK, bucket_sql, hourly_sql  # noqa: F401 - named here too
from engine.kpi.rank_buckets import BOTH, MONTH, ROWS
from engine.store.driver_sql import Placeholders, fetch
from engine.store.models import KpiHoursDay, KpiHoursDekad, KpiHoursMonth, KpiHoursTotal, KpiRollupState
from engine.store.types import UTCDateTime

OUTSIDE = day_rows.OUTSIDE[:7]  # the month of a registration kpi_day does not cover
DIRECT = 10_000  # at most this many done cases in the window: times._ranks sorts them all (quicker, see docs/kpi.md)
# What `cheaper` weighs, in done cases of the sorted read (times._ranks: ~2 us a case on SQLite, the Python loop
# most of it), measured on the bench's data with hours spread (docs/kpi.md): a count row of phase 1 (summed,
# numbered) costs ~0.5 of one; phase 2's reads per row of the breakdown ~80 at a tenth of the size and ~160 at full
# size (two seeks and a stepped read per wanted bucket, which steps over the bucket's cases of every registration:
# more the more months the data hold). The higher figure: a range where both ways cost about the same is sorted.
ROW_COST = 0.5
ROW_READS = 160
WORTH_COUNTING = 0.7  # count the rows (~0.05 of a sorted case each) only when phase 2 leaves 30 % of the sort to win
DIMENSIONS = ("by_process", "by_month", "by_role", "by_person")  # times.DIMENSIONS, in its order
Ranked = dict[tuple, tuple[float | None, float | None]]  # (dimension, key) -> (median, p90)

# what a rebuild counts: the triggers' rule as one grouped statement per table and dim, each case's day by a seek
# in kpi_day
_DAY = day_of("c.started_at")
_COUNT = ("INSERT INTO {table} (measure, {period}, dim, process, label, bucket, n) "
          "SELECT measure, period, '{dim}', process, label, bucket, count(*) FROM ("
          "SELECT c.measure, substr(" + _DAY + ", 1, {length}) AS period, c.process, {label} AS label, "
          "{bucket} AS bucket FROM kpi_case c WHERE c.unresolved = :no) s "
          "GROUP BY measure, period, process, label, bucket ORDER BY 1, 2")
_COUNT_TOTAL = ("INSERT INTO kpi_hours_total (measure, dim, process, label, bucket, n) "
                "SELECT measure, '{dim}', process, label, bucket, count(*) FROM ("
                "SELECT c.measure, c.process, {label} AS label, {bucket} AS bucket FROM kpi_case c "
                "WHERE c.unresolved = :no) s GROUP BY measure, process, label, bucket")
_TABLES = ((KpiHoursMonth, "month", 7), (KpiHoursDay, "day", 10))
_LABELS = {"process": "''", "role": "COALESCE({c}role, '')", "person": "COALESCE({c}person, '')"}  # dim -> label
def rebuild(session: Session, bucket: Callable[[str, str, str], str] = bucket_sql) -> int:
    """kpi_hours_month and kpi_hours_day counted again from kpi_case (in the caller's transaction; after
    rollups.rebuild, which lists the days they come from) in the buckets of `bucket` (a migration's own); returns
    the done cases counted."""
    for table, period, length in _TABLES:
        session.execute(delete(table))
        for dim, label in _LABELS.items():
            session.execute(text(_COUNT.format(table=table.__tablename__, period=period, length=length, dim=dim,
                                               label=label.format(c="c."),
                                               bucket=bucket(dim, "c.hours", session.get_bind().dialect.name))),
                            {"no": False})
    if has_table(session, KpiHoursTotal.__tablename__):  # (migrations 0028 and 0030 count before 0031 made it)
        count_totals(session, bucket)
    if has_table(session, KpiHoursDekad.__tablename__):  # (and 0028 to 0035 before 0036 made it)
        count_dekads(session)
    return int(session.scalar(select(func.coalesce(func.sum(KpiHoursMonth.n), 0)).where(
        KpiHoursMonth.dim == "process")))


def count_totals(session: Session, bucket: Callable[[str, str, str], str] = bucket_sql) -> None:
    """kpi_hours_total counted again from kpi_case (migration 0031, rebuild)."""
    session.execute(delete(KpiHoursTotal))
    for dim, label in _LABELS.items():
        session.execute(text(_COUNT_TOTAL.format(dim=dim, label=label.format(c="c."), bucket=bucket(
            dim, "c.hours", session.get_bind().dialect.name))), {"no": False})


def count_dekads(session: Session) -> None:
    """kpi_hours_dekad counted again: the day rows summed per dekad (migration 0036, rebuild; after the day rows)."""
    session.execute(delete(KpiHoursDekad))
    session.execute(text(f"INSERT INTO kpi_hours_dekad (measure, dekad, dim, process, label, bucket, n) "
                         f"SELECT measure, dekad, dim, process, label, bucket, sum(n) FROM (SELECT measure, "
                         f"{dekads.sql('day')} AS dekad, dim, process, label, bucket, n FROM kpi_hours_day) s "
                         f"GROUP BY measure, dekad, dim, process, label, bucket ORDER BY 1, 2"))


@per_transaction
def usable(session: Session, measure: Measure, timezone: str) -> bool:
    """Whether kpi_hours_month holds this zone's counts of the measure: the database has it (asked of the schema
    once per session), the day rollups are usable (rollups.usable: built for this zone, nothing outside the listed
    days), no registration of its done cases fell outside them, and they are counted in the code's buckets
    (kpi_rollup_state.hour_buckets, migration 0038)."""
    if not has_table(session, KpiHoursMonth.__tablename__) or not rollups.usable(session, timezone):
        return False
    outside = select(KpiHoursMonth.month).where(  # the measure first: a seek in the key, not a scan of every row
        KpiHoursMonth.measure == measure.key, KpiHoursMonth.month == OUTSIDE, KpiHoursMonth.dim == "process",
        KpiHoursMonth.n != 0)
    if not has_column(session, KpiRollupState.__tablename__, "hour_buckets"):  # (below migration 0038: 0030's)
        return not session.scalar(select(exists(outside)))
    return session.scalar(select(KpiRollupState.hour_buckets).where(
        KpiRollupState.id == 1, ~exists(outside))) == hour_buckets.mark_for(session.get_bind().dialect.name)


@per_transaction
def edges(session: Session) -> dict[str, tuple]:
    """The buckets the database's hour counts are in: its dialect's (hour_buckets.edges_for) from migration 0038 on,
    which marks them in kpi_rollup_state.hour_buckets (usable checks the mark), else migration 0030's."""
    if has_column(session, KpiRollupState.__tablename__, "hour_buckets"):
        return hour_buckets.edges_for(session.get_bind().dialect.name)
    return EDGES_0030


def cheaper(session: Session, measure: Measure, specs: list[Interval], window: Window,
            span: list[tuple[str, datetime, datetime]], timezone: str, done: dict[tuple, int]) -> bool:
    """Whether reading at the ranks costs less than sorting the window's done cases (`done`: each row's count of
    done cases, as ranks takes it). Phase 1 costs its count rows: a whole month's are few per key (at most a row
    per key and bucket), but the days of a partial month hold about one per case and dim, so a window of mostly
    partial months is sorted quicker. First an upper bound of the rows from the counts alone; when that says no and
    a win is still likely, the rows themselves counted in the tables' keys (a few ms at most), before deciding."""
    n = done.get(("overall", None), 0)
    reads = ROW_READS * len(done)
    if reads >= n:
        return False
    processes = len({s.process for s in specs})
    keys = {"process": processes,
            "role": processes * sum(1 for name, _ in done if name == "by_role"),
            "person": processes * sum(1 for name, _ in done if name == "by_person")}
    buckets = {dim: len(found) + 1 for dim, found in edges(session).items()}
    bound = 0
    for part in _parts(session, measure, span, window, timezone):
        cases = done.get(("by_month", part.label), 0)
        bound += sum(min(cases, keys[dim] * buckets[dim] * part.periods) for dim in keys)
    if ROW_COST * bound + reads < n:
        return True
    if reads > WORTH_COUNTING * n:  # phase 2 alone costs nearly as much as sorting: not worth counting the rows
        return False
    return ROW_COST * _rows(session, measure, window, span, timezone, done) + reads < n


class _Part(NamedTuple):
    """How phase 1 counts one month of the window: its month row (whole), pieces of its day and dekad rows added
    (sign 1) or taken away (-1) — a partial month's days in the window, or the month row less its days outside the
    window, whichever reads fewer rows (engine/kpi/dekads.py) — or, for a window not on days, its cases (`cases`:
    [lo, hi))."""

    label: str
    whole: bool
    pieces: tuple[dekads.Piece, ...] = ()
    cases: tuple[datetime, datetime] | None = None

    @property
    def periods(self) -> int:
        """The month rows and days' rows read (`cheaper`'s measure of phase 1's rows)."""
        return self.whole + sum(piece.cost for piece in self.pieces)


def _parts(session: Session, measure: Measure, span: list[tuple[str, datetime, datetime]], window: Window,
           timezone: str) -> Iterator[_Part]:
    """The window's months, each as phase 1 counts it. Days outside [the first, the last day holding a count of
    the measure] hold no rows: a month's days after today cost nothing to take away, so a window ending today
    reads its last month's row instead of its days."""
    held, asked = None, False  # month_rows.held_days of kpi_hours_day, asked at the first partial month
    in_dekads = has_table(session, KpiHoursDekad.__tablename__)  # (migration 0036)
    for label, start, end in span:
        lo = start if window.start is None else max(start, window.start)
        hi = end if window.end is None else min(end, window.end)
        if lo == start and hi == end:
            yield _Part(label, True)
        elif lo < hi:  # a partial month at an edge
            days = _days(lo, hi, timezone)
            if days is None:
                yield _Part(label, False, cases=(lo, hi))
                continue
            if not asked:
                held, asked = _held_days(session, measure.key), True
            first, last = days
            inside = _Part(label, False, tuple(_cover(first, last, held, in_dekads)))
            complement = _Part(label, True, tuple(piece for a, b in month_rows.outside_days(first, last, held)
                                                  for piece in _cover(a, b, held, in_dekads, -1)))
            yield complement if complement.periods < inside.periods else inside


def _cover(first: date, last: date, held: tuple[date, date] | None, in_dekads: bool,
           sign: int = 1) -> list[dekads.Piece]:
    """The days first..last as pieces of day and dekad rows (dekads.cover); day rows alone below migration 0036."""
    if in_dekads:
        return dekads.cover(first, last, held, sign)
    if held is None or max(first, held[0]) > min(last, held[1]):
        return []
    return [dekads.Piece(False, max(first, held[0]), min(last, held[1]), sign)]


_PIECES = {False: ("kpi_hours_day", "day"), True: ("kpi_hours_dekad", "dekad")}  # dekad? -> (table, its period)


def _rows(session: Session, measure: Measure, window: Window, span: list[tuple[str, datetime, datetime]],
          timezone: str, done: dict[tuple, int]) -> int:
    """The count rows phase 1 would read, of every process (a process filter reads fewer: an upper bound), each a
    plain count of a range of the table's key (~2 ms for 50,000 rows on SQLite; a filter on the process, which
    follows the dim in the key, made it twice that), all in one statement. A partial month not on days: three per
    case (kpi_case)."""
    p = Placeholders(session.get_bind().dialect)
    total = 0
    whole, counts = [], []
    for part in _parts(session, measure, span, window, timezone):
        if part.cases is not None:
            total += len(_LABELS) * done.get(("by_month", part.label), 0)
        if part.whole:
            whole.append(part.label)
        for piece in part.pieces:
            table, period = _PIECES[piece.dekad]
            counts.append(f"(SELECT count(*) FROM {table} WHERE measure = {p(measure.key)} AND "
                          f"{period} >= {p(piece.first.isoformat())} AND {period} <= {p(piece.last.isoformat())})")
    if whole:
        counts.append(f"(SELECT count(*) FROM kpi_hours_month WHERE measure = {p(measure.key)} AND "
                      f"month IN ({p.each(whole)}))")
    if counts:
        total += fetch(session, "SELECT " + " + ".join(counts), p.values)[0][0] or 0
    return total


def ranks(session: Session, measure: Measure, specs: list[Interval], window: Window,
          span: list[tuple[str, datetime, datetime]], timezone: str, done: dict[tuple, int] | None = None
          ) -> Ranked | None:
    """(dimension, key) -> (median, p90) of the done hours of every row of the breakdown (times._ranks' figures).
    `done`, when given, is each row's count of done cases as the page counted them ((dimension, key) -> count, rows
    of none left out): None when the rollup's counts differ from them, or when a read found fewer rows than they said
    (a count changed by hand; the caller then reads every case)."""
    wanted: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))  # (row, bucket) -> k -> ranks
    counts: dict[tuple, int] = {}
    for dimension, key, bucket, size, upto, total in _located(session, measure, specs, window, span, timezone):
        row = ("overall", None) if dimension == 0 else (DIMENSIONS[dimension - 1], key or None)
        counts[row] = total
        for rank in rank_buckets.wanted_ranks(total):
            if upto - size < rank <= upto:
                wanted[(row, bucket, size)][rank - (upto - size)].append(rank)
    if done is not None and counts != done:
        return None
    months = {label: (start, end) for label, start, end in span}
    found = rank_reads.Reader(session, measure, specs, window, months, edges(session)).values(wanted)
    if found is None:
        return None
    ranked: Ranked = {}
    for row, n in counts.items():
        at = found[row]
        median = at[(n + 1) // 2] if n % 2 else (at[n // 2] + at[n // 2 + 1]) / 2
        ranked[row] = (median, at[(9 * n + 9) // 10])
    return ranked


_COLUMNS = "dim, process, {month} AS month, label, bucket, {sign}n AS n"


def _located(session: Session, measure: Measure, specs: list[Interval], window: Window,
             span: list[tuple[str, datetime, datetime]], timezone: str) -> list[tuple]:
    """(d, key, bucket, its cases, cases up to it, the row's cases) of each bucket holding a wanted rank of a row
    of the breakdown (d and key: see engine/kpi/rank_buckets.py)."""
    dialect = session.get_bind().dialect
    p = Placeholders(dialect)
    instant = UTCDateTime().bind_processor(dialect) or (lambda value: value)
    mine = f"measure = {p(measure.key)} AND process IN ({p.each(sorted({s.process for s in specs}))})"
    whole, parts = [], []
    for part in _parts(session, measure, span, window, timezone):
        if part.whole:
            whole.append(part.label)
        month = f"CAST({p(part.label)} AS varchar(7))"
        if part.cases is not None:  # a window not on days: the month's cases in it, counted as the triggers count
            lo, hi = (p(instant(at)) for at in part.cases)
            parts += [f"SELECT {BOTH} AS used, '{dim}' AS dim, process, {month} AS month, {key.format(c='')} AS label, "
                      f"{bucket_sql(dim, 'hours', dialect.name, edges(session))} AS bucket, 1 AS n FROM kpi_case "
                      f"WHERE {mine} AND "
                      f"unresolved = {p(False)} AND started_at >= {lo} AND started_at < {hi}"
                      for dim, key in _LABELS.items()]
        parts += [f"SELECT {BOTH} AS used, {_COLUMNS.format(month=month, sign='-' if piece.sign < 0 else '')} "
                  f"FROM {_PIECES[piece.dekad][0]} WHERE {mine} AND {_PIECES[piece.dekad][1]} >= "
                  f"{p(piece.first.isoformat())} AND {_PIECES[piece.dekad][1]} <= {p(piece.last.isoformat())}"
                  for piece in part.pieces]
    if whole:
        months = f"month IN ({p.each(whole)})"
        outside = _months_outside(session, measure, whole) if has_table(session, KpiHoursTotal.__tablename__) else None
        if outside is None:
            parts.append(f"SELECT {BOTH} AS used, {_COLUMNS.format(month='month', sign='')} FROM kpi_hours_month "
                         f"WHERE {mine} AND {months}")
        else:  # the totals less the months outside, and the months' own rows (dim process) for the rows per month
            parts += [f"SELECT {ROWS} AS used, {_COLUMNS.format(month='CAST(NULL AS varchar(7))', sign='')} "
                      f"FROM kpi_hours_total WHERE {mine}",
                      f"SELECT {MONTH} AS used, {_COLUMNS.format(month='month', sign='')} FROM kpi_hours_month "
                      f"WHERE {mine} AND {months} AND dim = 'process'"]
            if outside:
                parts.append(f"SELECT {ROWS} AS used, {_COLUMNS.format(month='month', sign='-')} "
                             f"FROM kpi_hours_month WHERE {mine} AND month IN ({p.each(outside)})")
    if not parts:
        return []
    if dialect.name == "postgresql":  # summed and numbered by the database (rank_buckets: why there)
        return fetch(session, rank_buckets.SQL.format(rows=" UNION ALL ".join(parts)), p.values)
    return rank_buckets.locate(fetch(session, " UNION ALL ".join(parts), p.values))


@per_transaction
def _held_days(session: Session, measure: str) -> tuple[date, date] | None:
    """month_rows.held_days of the measure's kpi_hours_day rows (asked by `cheaper`, `_rows` and `_located` alike)."""
    return month_rows.held_days(session, KpiHoursDay.day, KpiHoursDay.measure == measure)


def _months_outside(session: Session, measure: Measure, whole: list[str]) -> list[str] | None:
    """The months holding counts of the measure that are not among the window's `whole` ones, when the totals less
    them read fewer months than `whole` (a total holds about a month's rows); else None: sum the whole months."""
    bounds = _held_days(session, measure.key)
    held, month = [], bounds[0].replace(day=1) if bounds else None
    while bounds and month <= bounds[1]:
        held.append(month.strftime("%Y-%m"))
        month = month_rows.next_month(month)
    outside = sorted(set(held) - set(whole))
    return outside if len(outside) + 1 < len(whole) else None


def _days(lo: datetime, hi: datetime, timezone: str) -> tuple[date, date] | None:
    """The first and last company day of [lo, hi) when both are days' first instants (a window from the page's
    filters always is); else None."""
    first = lo.astimezone(ZoneInfo(timezone)).date()
    last = hi.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    if day_start(first, timezone) != lo or day_start(last + timedelta(days=1), timezone) != hi:
        return None
    return first, last
