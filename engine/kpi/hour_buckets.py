"""The buckets of hours the KPI page's median and p90 are counted in (engine/kpi/quantiles.py; migrations 0028, 0030,
0038): one definition for the triggers' SQL, the rebuild's count and the reads' ranges."""

from __future__ import annotations

import math
from functools import partial

_SQLITE_CEIL = "(CAST({h} AS INTEGER) + ({h} > CAST({h} AS INTEGER)))"  # SQLite may be built without ceil()
# The person counts' buckets (migration 0030): b holds LADDER[b - 1] < hours <= LADDER[b] (bucket 0: up to the first
# edge, the last: past the last edge), each about a third to a half wider than the one before. Per hour, a person's
# month of cases took some 80 rows (phase 1's cost: ~134,000 of the ~180,000 month rows of a year); about 20 here,
# while a bucket holds about as many of the row's cases as an hour did near the median and p90 (the reads step no
# further). Powers of two and their sums: every edge is exact in binary, so the triggers' bucket and the reads'
# range agree.
LADDER = (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536,
          2048, 3072, 4096, 8192)
WEEK = 168
# The role counts' buckets on PostgreSQL (migration 0038): each doubling of hours in eight equal steps, 0.25 to
# 8192 h. A role holds some 25,000 cases a measure at a million instances, and LADDER's buckets near its median and
# p90 held 10,000-16,000 of them: phase 2 stepped ~65,000 index entries a page for the roles alone, ~11,000 here, for
# ~1,900 more count rows a measure (persons hold a twentieth of a role's cases each: their LADDER rows stay).
EIGHTHS = tuple((1 + step / 8) * 2.0 ** octave for octave in range(-2, 13) for step in range(8)) + (8192.0,)
# The process counts' buckets on PostgreSQL (the overall, process and month rows: few keys): quarter hours up to
# 4 h (migration 0038: a first response is mostly a matter of hours, and the whole hour holding the median held
# ~60,000 cases at a million instances), whole hours up to a week, LADDER past it: a bounded number of buckets.
PROCESS = tuple(q / 4 for q in range(17)) + tuple(range(5, WEEK + 1)) + tuple(e for e in LADDER if e > WEEK)
EDGES = {"process": PROCESS, "role": EIGHTHS, "person": LADDER}
# migrations 0030 to 0037 counted in these (their triggers, counts and downgrades keep counting so), and SQLite still
# does: its phase 2 costs per read (~40 us of its subquery and merge machinery), hardly per index entry, while
# phase 1 sums each count row in Python (~1.5 us): the finer buckets cost its page 7-13 ms at a million instances
# (everything 79 -> 86 ms, 30 days 79-94 -> 93-107, A/B on one copy, 2026-12-06) where they save PostgreSQL's
# (~0.3 us an entry stepped) ~10 ms
EDGES_0030 = {"process": tuple(range(WEEK + 1)) + tuple(e for e in LADDER if e > WEEK), "role": LADDER,
              "person": LADDER}


def edges_for(dialect: str) -> dict[str, tuple]:
    """The buckets a database of this dialect counts in from migration 0038 on."""
    return EDGES if dialect == "postgresql" else EDGES_0030


def mark_for(dialect: str) -> str:
    """kpi_rollup_state.hour_buckets of such a database: the migration that made its buckets the triggers'."""
    return "0038" if edges_for(dialect) is EDGES else "0030"


def bucket_sql(dim: str, column: str, dialect: str, edges: dict[str, tuple] | None = None) -> str:
    """The SQL bucket of the hours `column` in a count of `dim` (the triggers and the rebuild; by default in the
    dialect's buckets, edges_for): b when edges[dim][b - 1] < hours <= edges[dim][b] (0 up to the first edge,
    len(edges) past the last). A run of edges a
    power of two apart is one arithmetic step, ceil(hours / width) shifted to the run's first bucket: exact, since
    dividing by a power of two is (the reads' ranges and the triggers' bucket agree on every edge)."""
    found = (edges or edges_for(dialect))[dim]
    whens = [f"WHEN {column} <= {found[0]!r} THEN 0"]
    b = 1
    while b < len(found):
        width, last = found[b] - found[b - 1], b
        while last + 1 < len(found) and found[last + 1] - found[last] == width:
            last += 1
        if last > b and math.frexp(width)[0] == 0.5 and (found[last] / width).is_integer():
            shift = last - int(found[last] / width)
            whens.append(f"WHEN {column} <= {found[last]!r} THEN {_ceil(f'{column} / {float(width)!r}', dialect)} "
                         f"+ {shift:d}")
        else:
            whens += [f"WHEN {column} <= {found[k]!r} THEN {k:d}" for k in range(b, last + 1)]
        b = last + 1
    return "(CASE " + " ".join(whens) + f" ELSE {len(found):d} END)"


def _ceil(value: str, dialect: str) -> str:
    return f"CAST(ceil({value}) AS integer)" if dialect == "postgresql" else _SQLITE_CEIL.format(h=f"({value})")


bucket_sql_0030 = partial(bucket_sql, edges=EDGES_0030)  # the buckets of migrations 0030 to 0037


def bounds(dim: str, bucket: int, edges: dict[str, tuple]) -> str:
    """The SQL condition on `hours` of the bucket of a count of `dim` in `edges` (the database's: quantiles.edges;
    bucket_sql's inverse)."""
    found = edges[dim]
    low = f"hours > {found[bucket - 1]!r}" if bucket > 0 else ""
    high = f"hours <= {found[bucket]!r}" if bucket < len(found) else ""
    return " AND ".join(part for part in (low, high) if part)


def hourly_sql(dim: str, column: str, dialect: str) -> str:
    """Migration 0028's buckets, ceil(hours) for every dim: its upgrade's count and migration 0030's downgrade."""
    return f"CAST(ceil({column}) AS integer)" if dialect == "postgresql" else _SQLITE_CEIL.format(h=column)
