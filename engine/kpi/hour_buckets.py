"""The buckets of hours the KPI page's median and p90 are counted in (engine/kpi/quantiles.py; migrations 0028, 0030):
one definition for the triggers' SQL, the rebuild's count and the reads' ranges."""

from __future__ import annotations

_SQLITE_CEIL = "(CAST({h} AS INTEGER) + ({h} > CAST({h} AS INTEGER)))"  # SQLite may be built without ceil()
# The role and person counts' buckets: b holds LADDER[b - 1] < hours <= LADDER[b] (bucket 0: up to the first edge,
# the last: past the last edge), each about a third to a half wider than the one before. Per hour, a person's
# month of cases took some 80 rows (phase 1's cost: ~134,000 of the ~180,000 month rows of a year); about 20 here,
# while a bucket holds about as many of the row's cases as an hour did near the median and p90 (the reads step no
# further). Powers of two and their sums: every edge is exact in binary, so the triggers' bucket and the reads'
# range agree. The process counts (the overall, process and month rows: few) keep whole hours up to a week
# (b-1 < hours <= b; bucket 0: up to 0), the ladder past it: a bounded number of buckets either way (`cheaper`).
LADDER = (0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536,
          2048, 3072, 4096, 8192)
WEEK = 168
EDGES = {"process": tuple(range(WEEK + 1)) + tuple(e for e in LADDER if e > WEEK), "role": LADDER, "person": LADDER}


def bucket_sql(dim: str, column: str, dialect: str) -> str:
    """The SQL bucket of the hours `column` in a count of `dim` (the triggers of migration 0030 and rebuild): b when
    EDGES[dim][b - 1] < hours <= EDGES[dim][b] (0 up to the first edge, len(edges) past the last)."""
    edges, head = EDGES[dim], ""
    if dim == "process":  # its whole hours: ceil(hours) (SQLite may be built without ceil())
        ceil = f"CAST(ceil({column}) AS integer)" if dialect == "postgresql" else _SQLITE_CEIL.format(h=column)
        head = f"WHEN {column} <= 0 THEN 0 WHEN {column} <= {WEEK:d} THEN {ceil} "
        edges = edges[WEEK + 1:]
    first = len(EDGES[dim]) - len(edges)
    return ("(CASE " + head + " ".join(f"WHEN {column} <= {edge!r} THEN {first + b:d}" for b, edge in enumerate(edges))
            + f" ELSE {len(EDGES[dim]):d} END)")


def bounds(dim: str, bucket: int) -> str:
    """The SQL condition on `hours` of the bucket of a count of `dim` (bucket_sql's inverse)."""
    edges = EDGES[dim]
    low = f"hours > {edges[bucket - 1]!r}" if bucket > 0 else ""
    high = f"hours <= {edges[bucket]!r}" if bucket < len(edges) else ""
    return " AND ".join(part for part in (low, high) if part)


def hourly_sql(dim: str, column: str, dialect: str) -> str:
    """Migration 0028's buckets, ceil(hours) for every dim: its upgrade's count and migration 0030's downgrade."""
    return f"CAST(ceil({column}) AS integer)" if dialect == "postgresql" else _SQLITE_CEIL.format(h=column)
