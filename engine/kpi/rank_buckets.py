"""Phase 1's last step (engine/kpi/quantiles.py): from the window's count rows, the buckets that hold each row's
wanted ranks — the middle one or two ((n + 1) / 2 and n / 2 + 1; both for an even count) and ceil(0.9 n).

Phase 1's rows are (used, dim, process, month, label, bucket, n): the window's counts (whole months, the days of
partial ones, or the totals less the months outside the window) as one UNION ALL, each tagged with what it counts
for (`used`): BOTH the rows of the breakdown (overall, process, role, person) and its month, ROWS alone (the totals
and the months taken from them: their month is none of the window's) or MONTH alone (the month rows standing for
those totals' months). They are summed per row of each breakdown (d: 0 overall, 1 process, 2 month, 3 role,
4 person; key '' for none) and bucket, and numbered in bucket order.

Two forms of the one rule, the same buckets (tests/test_kpi__rank_buckets.py): `locate`, in Python over the fetched
rows, and `sql`, the database summing and numbering them itself and sending only the buckets found. SQLite sums
them quicker in Python (its GROUP BY and window functions sorted the rows three times: 22 → 35 ms a page at a
million instances, 2026-12-06). On PostgreSQL the page reads its measures on threads of their own
(engine/kpi/parallel_reads.py) and Python's time is the scarcer: fetching and summing ~7,500 rows a measure for
everything cost ~6 ms of it, the database's sums ~1 ms more of its own (the page's p50 110 → 104 ms for
everything, 99-106 → 90-93 ms for 30 days at a million instances, 2026-12-06).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

BOTH, ROWS, MONTH = 0, 1, 2
_ROW_OF_DIM = {"role": 3, "person": 4}  # d of a role or person count


def wanted_ranks(n: int) -> set[int]:
    """The 1-based ranks stats.median and stats.p90 take of n sorted values."""
    middle = {(n + 1) // 2} if n % 2 else {n // 2, n // 2 + 1}
    return middle | {(9 * n + 9) // 10}


def locate(rows: Iterable[tuple]) -> list[tuple]:
    """(d, key, bucket, its cases, cases up to it, the row's cases) of each bucket holding a wanted rank, from phase
    1's rows; buckets of no cases left out."""
    counts: dict[tuple[int, str], Counter[int]] = defaultdict(Counter)
    for used, dim, process, month, label, bucket, n in rows:
        if dim != "process":
            if used != MONTH:
                counts[(_ROW_OF_DIM[dim], label)][bucket] += n
            continue
        if used != MONTH:
            counts[(0, "")][bucket] += n
            counts[(1, process)][bucket] += n
        if used != ROWS:
            counts[(2, month)][bucket] += n
    found = []
    for (d, key), buckets in counts.items():
        total = sum(buckets.values())
        wanted = sorted(wanted_ranks(total)) if total > 0 else []
        upto = 0
        for bucket in sorted(buckets):
            if not wanted:
                break
            n = buckets[bucket]
            upto += n
            if n and wanted[0] <= upto:
                found.append((d, key, bucket, n, upto, total))
                wanted = [rank for rank in wanted if rank > upto]
    return found


def _holds(rank: str) -> str:
    return f"(upto - n < {rank} AND {rank} <= upto)"


# `locate` as SQL around phase 1's UNION ALL ({rows}): each row spread to the rows of the breakdown it counts for,
# summed per row and bucket, numbered by a running sum (integers throughout: a sum of bigints is numeric, and a
# rank of (9 n + 9) / 10 must be cut as Python's // cuts it)
SQL = (
    "WITH r (used, dim, process, month, label, bucket, n) AS ({rows}), "
    "e AS (SELECT CASE r.dim WHEN 'role' THEN 3 ELSE 4 END AS d, r.label AS k, r.bucket, r.n FROM r "
    f"WHERE r.dim <> 'process' AND r.used <> {MONTH} "
    "UNION ALL SELECT x.d, CASE x.d WHEN 0 THEN '' WHEN 1 THEN r.process ELSE r.month END, r.bucket, r.n "
    "FROM r CROSS JOIN (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2) AS x WHERE r.dim = 'process' "
    f"AND CASE WHEN x.d < 2 THEN r.used <> {MONTH} ELSE r.used <> {ROWS} END), "
    "s AS (SELECT d, k, bucket, CAST(sum(n) AS integer) AS n FROM e GROUP BY d, k, bucket), "
    "c AS (SELECT d, k, bucket, n, CAST(sum(n) OVER (PARTITION BY d, k ORDER BY bucket) AS integer) AS upto, "
    "CAST(sum(n) OVER (PARTITION BY d, k) AS integer) AS total FROM s) "
    "SELECT d, k, bucket, n, upto, total FROM c WHERE n <> 0 AND total > 0 AND ("
    f"{_holds('(total + 1) / 2')} OR (total - 2 * (total / 2) = 0 AND {_holds('(total / 2 + 1)')}) "
    f"OR {_holds('(9 * total + 9) / 10')})")
