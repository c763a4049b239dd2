"""Phase 2 of the KPI page's median and p90 (engine/kpi/quantiles.py): the values at the wanted ranks, read in the
indexes of kpi_case ordered by hours. Per wanted bucket whose ranks lie deep inside it (TIE_STEPS), its least and
greatest hours of any registration (two seeks: when equal, every case of the bucket has these hours), else one bounded
read in the row's index, seeking the bucket's range and stepping to the rank inside it from the nearer end (a month's
row in its own month's hours, migration 0034; a window of a few months month by month, merged in order: 0037). On
SQLite all reads of a round go as UNION ALL statements of up to ARMS reads; on PostgreSQL the reads of one kind of
row and order as one statement over arrays of their bounds (planned once)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from engine.kpi.day_rows import has_column
from engine.kpi.definitions import Interval, Measure
from engine.kpi.filters import Window
from engine.kpi.hour_buckets import bounds
from engine.store.driver_sql import Placeholders
from engine.store.types import UTCDateTime

# a bucket whose wanted ranks lie more than this many of its cases from its nearer end is first asked whether all its
# hours are equal (two seeks): a run of equal hours (cases closed by a timer at one instant, say) would be stepped
# through case by case; nearer than this, the stepped read costs less than the two seeks (hours are rarely equal)
TIE_STEPS = 1000
ARMS = 200  # reads per statement (SQLite allows 500 terms in a compound SELECT)
# a window over at most this many months reads a row's bucket month by month (migration 0037: an index per key with
# the month before the hours) and merges them in order: it steps over the window's months' cases alone, where the
# key's own index holds every month's (a month or two of a year's data: about a twelfth); more months, more seeks
SPLIT_MONTHS = 3


class Reader:
    """Phase 2: the values at the wanted ranks, read in the indexes on hours, all reads of a round in few
    statements."""

    _COLUMN = {"by_process": "process", "by_role": "role", "by_person": "person"}
    _DIM = {"by_role": "role", "by_person": "person"}  # the count a row's buckets come from; else 'process'

    def __init__(self, session: Session, measure: Measure, specs: list[Interval], window: Window,
                 months: dict[str, tuple[datetime, datetime]], edges: dict[str, tuple]) -> None:
        self.session, self.window, self.months = session, window, months
        self.edges = edges  # the buckets the database's counts are in (quantiles.edges)
        dialect = session.get_bind().dialect
        # the driver's own placeholders and values (driver_sql.Placeholders: SQLAlchemy's text() parsed each
        # statement's hundreds of parameters with a regular expression, ~30 ms a page at full size)
        self.placeholders = Placeholders(dialect)
        self.lateral = dialect.name == "postgresql"
        self.month_column = has_column(session, "kpi_case", "month")  # (migration 0034)
        # the window's months (a span holds those of its first to its last registration), when few
        bounded = window.start is not None or window.end is not None  # (everything: every month, nothing to skip)
        self.split = sorted(months) if self.month_column and bounded and len(months) <= SPLIT_MONTHS else None
        self.instant = UTCDateTime().bind_processor(dialect) or (lambda value: value)
        self.core = f"measure = {self._param(measure.key)} AND unresolved = {self._param(False)}"
        self.base = self.core
        mine = sorted({s.process for s in specs})
        if mine != sorted({s.process for s in measure.intervals}):  # a row of another process never matches
            self.base += " AND process IN (" + ", ".join(self._param(p) for p in mine) + ")"
        if window.start is not None:
            self.base += f" AND started_at >= {self._param(window.start, True)}"
        if window.end is not None:
            self.base += f" AND started_at < {self._param(window.end, True)}"

    def _param(self, value: object, instant: bool = False) -> str:
        return self.placeholders(self.instant(value) if instant else value)

    def _where(self, row: tuple, bucket: int, everywhere: bool = False) -> str:
        """The row's cases in the bucket: in the window, or (everywhere) of any registration and process."""
        name, key = row
        where = (f"{self.core if everywhere else self.base} AND "
                 f"{bounds(self._DIM.get(name, 'process'), bucket, self.edges)}")
        if name == "by_month":
            if not everywhere and self.month_column:  # the month's hours alone, in ix_kpi_case_by_month
                where += f" AND month = {self._param(key)}"
            elif not everywhere:  # (below migration 0034) everywhere: the overall row's bucket, a superset
                start, end = self.months[key]
                where += f" AND started_at >= {self._param(start, True)} AND started_at < {self._param(end, True)}"
        elif name != "overall":
            column = self._COLUMN[name]
            where += f" AND {column} IS NULL" if key is None else f" AND {column} = {self._param(key)}"
        return where

    def _months(self, name: str, everywhere: bool) -> list[str]:
        """The months a read of this kind of row takes one by one ([]: all at once in the key's index)."""
        return [] if everywhere or name == "by_month" or self.split is None else self.split

    def _hours(self, where: str, months: list[str]) -> str:
        """SQL: the hours of kpi_case where `where` holds, month by month when `months` (a compound SELECT: the
        ORDER BY after it merges its parts, each read in order from its index)."""
        if not months:
            return f"SELECT hours FROM kpi_case WHERE {where}"
        return " UNION ALL ".join(f"SELECT hours FROM kpi_case WHERE {where} AND month = {self._param(m)}"
                                  for m in months)

    def _arm_sql(self, arm: Arm, everywhere: bool) -> str:
        row, bucket = arm.group[0], arm.group[1]
        return f"{self._hours(self._where(row, bucket, everywhere), self._months(row[0], everywhere))} {arm.tail()}"

    def values(self, wanted: dict[tuple, dict[int, list[int]]]) -> dict[tuple, dict[int, float]] | None:
        """row -> rank -> value, for wanted (row, bucket, bucket count) -> rank inside the bucket -> ranks."""
        found: dict[tuple, dict[int, float]] = defaultdict(dict)
        stepped = []
        checked = dict.fromkeys(group for group, inner in wanted.items() if _steps(group, inner) > TIE_STEPS)
        least = self._read([Arm(order, 1, 0, group) for group in checked for order in ("ASC", "DESC")],
                           everywhere=True)
        if least is None:
            return None
        for group, inner in wanted.items():
            row = group[0]
            if group in checked and least[(group, 0)] == least[(group, 1)]:  # every value of the bucket is this one
                for ranks_ in inner.values():
                    for rank in ranks_:
                        found[row][rank] = least[(group, 0)][0]
            else:
                stepped.append(group)
        arms, descending = [], set()
        for group in stepped:
            first, last, size = min(wanted[group]), max(wanted[group]), group[2]
            if first - 1 <= size - last:
                arms.append(Arm("ASC", last - first + 1, first - 1, group))
            else:  # nearer the greatest: stepped from there (a p90, mostly)
                arms.append(Arm("DESC", last - first + 1, size - last, group))
                descending.add(group)
        read = self._read(arms)
        if read is None:
            return None
        for group in stepped:
            first, last = min(wanted[group]), max(wanted[group])
            values = read[(group, 0)][::-1] if group in descending else read[(group, 0)]
            if len(values) != last - first + 1:
                return None
            for inner, ranks_ in wanted[group].items():
                for rank in ranks_:
                    found[group[0]][rank] = values[inner - first]
        return found

    def _read(self, arms: list[Arm], everywhere: bool = False) -> dict[tuple, list[float]] | None:
        """(group, the group's n-th arm) -> hours read, in the arm's order; None when an arm read nothing."""
        out: dict[tuple, list[float]] = {}
        seen: dict[tuple, int] = defaultdict(int)
        tagged = []
        for arm in arms:
            tagged.append((arm, seen[arm.group]))
            seen[arm.group] += 1
        unioned = tagged
        if self.lateral:  # (a row of no role or person is read with IS NULL: in a UNION ALL, as on SQLite)
            laterals, unioned = [], []
            for t in tagged:
                (unioned if t[0].group[0][1] is None and t[0].group[0][0] in self._COLUMN else laterals).append(t)
            self._lateral(laterals, everywhere, out)
        for chunk in _chunks(unioned, ARMS):
            sql = " UNION ALL ".join(
                f"SELECT {n:d} AS tag, hours FROM ({self._arm_sql(arm, everywhere)}) s{n:d}"
                for n, (arm, _) in enumerate(chunk))
            # (each driver ignores the names a statement does not use)
            rows = self.session.connection().exec_driver_sql(sql, self.placeholders.values)
            for tag, hours in rows:
                arm, nth = chunk[tag]
                out.setdefault((arm.group, nth), []).append(hours)
        if len(out) != len(tagged):
            return None
        return out

    def _lateral(self, tagged: list[tuple[Arm, int]], everywhere: bool, out: dict[tuple, list[float]]) -> None:
        """PostgreSQL: the reads of one kind of row and order as one lateral join over arrays of their bounds (planned
        once: a UNION ALL of 200 reads took 30-60 ms to plan at a million instances, more than to run them), every
        kind's join in one statement (a statement costs ~0.4 ms however little it reads: a round has up to eight)."""
        shapes: dict[tuple, list[int]] = defaultdict(list)
        for n, (arm, _) in enumerate(tagged):
            shapes[(arm.group[0][0], arm.order)].append(n)
        if not shapes:
            return
        params: dict[str, object] = {}
        joins = []
        for s, ((name, order), tags) in enumerate(shapes.items()):
            arrays = self._arrays(name, [tagged[n][0] for n in tags], tags)
            joins.append(f"({self._join(f'x{s}_', name, order, arrays, everywhere)})")
            params.update({f"x{s}_{k}": values for k, (_, values) in arrays.items()})
        found: dict[int, list[float]] = defaultdict(list)
        # (after the SQL: its months are placeholders of their own)
        params.update(self.placeholders.values)
        for tag, hours in self.session.connection().exec_driver_sql(" UNION ALL ".join(joins), params):
            found[tag].append(hours)
        for tag, values in found.items():  # each arm's values in its order (a join keeps no order of its own)
            arm, nth = tagged[tag]
            out[(arm.group, nth)] = sorted(values, reverse=arm.order == "DESC")

    def _arrays(self, name: str, arms: list[Arm], tags: list[int]) -> dict[str, tuple[str, list]]:
        """The bounds of one kind of row's reads, as arrays (name -> (element type, values))."""
        edges = self.edges[self._DIM.get(name, "process")]
        arrays = {"t": ("int", tags), "lim": ("int", [a.limit for a in arms]), "off": ("int", [a.offset for a in arms]),
                  "lo": ("float8", [float(edges[a.group[1] - 1]) if a.group[1] > 0 else -math.inf for a in arms]),
                  "hi": ("float8", [float(edges[a.group[1]]) if a.group[1] < len(edges) else math.inf for a in arms])}
        if name in self._COLUMN or name == "by_month":
            arrays["k"] = ("text", [a.group[0][1] for a in arms])
        if name == "by_month" and not self.month_column:
            arrays["s"] = ("timestamp", [self.instant(self.months[a.group[0][1]][0]) for a in arms])
            arrays["e"] = ("timestamp", [self.instant(self.months[a.group[0][1]][1]) for a in arms])
        return arrays

    def _join(self, prefix: str, name: str, order: str, arrays: dict[str, tuple[str, list]], everywhere: bool) -> str:
        """SQL: one kind of row's reads as a lateral join over the arrays named `prefix` + their names."""
        where = f"{self.core if everywhere else self.base} AND hours > a.lo AND hours <= a.hi"
        if name in self._COLUMN:
            where += f" AND {self._COLUMN[name]} = a.k"
        elif name == "by_month" and not everywhere:
            where += " AND month = a.k" if self.month_column else " AND started_at >= a.s AND started_at < a.e"
        unnest = ", ".join(f"%({prefix}{k})s::{kind}[]" for k, (kind, _) in arrays.items())
        # month by month, each part its first lim + off hours in order: PostgreSQL sorted the parts' every hour
        # of the bucket (an Append and a top-N sort; no Merge Append for a LIMIT it cannot estimate)
        months = self._months(name, everywhere)
        hours = " UNION ALL ".join(f"(SELECT hours FROM kpi_case WHERE {where} AND month = {self._param(m)} "
                                   f"ORDER BY hours {order} LIMIT a.lim + a.off)" for m in months
                                   ) if len(months) > 1 else self._hours(where, months)
        return (f"SELECT a.t, x.hours FROM unnest({unnest}) AS a({', '.join(arrays)}) CROSS JOIN LATERAL "
                f"({hours} ORDER BY hours {order} LIMIT a.lim OFFSET a.off) x")


def _steps(group: tuple, inner: dict[int, list[int]]) -> int:
    """How many of the bucket's cases a read steps over to reach its wanted ranks (`inner`) from the nearer end."""
    return min(min(inner) - 1, group[2] - max(inner))


class Arm(NamedTuple):
    """One read of phase 2: `limit` hours of the group's bucket from the `offset`-th on, in `order`."""

    order: str  # ASC or DESC
    limit: int
    offset: int
    group: tuple  # (row, bucket, the bucket's count)

    def tail(self) -> str:
        return f"ORDER BY hours {self.order} LIMIT {self.limit:d} OFFSET {self.offset:d}"


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
