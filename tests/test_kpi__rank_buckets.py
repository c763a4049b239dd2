"""Phase 1's last step (engine/kpi/rank_buckets.py): which buckets hold each row's median and p90 ranks — the Python
form and the SQL form the page uses on PostgreSQL find the same buckets, on the test database's own engine."""

from __future__ import annotations

import random
import statistics

import pytest

from engine import Engine
from engine.kpi import rank_buckets, stats
from engine.kpi.rank_buckets import BOTH, MONTH, ROWS
from engine.store.driver_sql import Placeholders, fetch

PROCESSES = ("aftersale", "complaint")
MONTHS = ("2026-01", "2026-02", "2026-03")
LABELS = ("", "sales_manager", "engineer_1", "engineer_2")


def test_the_ranks_wanted_are_those_of_statistics_median_and_p90():
    for n in range(1, 40):
        values = [float(v) for v in range(n)]
        wanted = rank_buckets.wanted_ranks(n)
        middle = {(n + 1) // 2, n // 2 + 1}
        assert wanted == middle | {(9 * n + 9) // 10}
        assert statistics.median(values) == sum(values[r - 1] for r in middle) / len(middle)
        assert stats.p90(values) == values[(9 * n + 9) // 10 - 1]


def _rows(rng: random.Random) -> list[tuple]:
    """Phase 1's rows as the page reads them: the totals (ROWS), month rows standing for their months (MONTH), a
    month outside the window taken away (ROWS, negative counts) and the partial months' pieces (BOTH), with
    buckets of one case, empty buckets, and rows whose sums have odd and even counts."""
    rows = []
    for dim in ("process", "role", "person"):
        for process in PROCESSES:
            for label in (("",) if dim == "process" else LABELS):
                for bucket in rng.sample(range(40), rng.randint(1, 12)):
                    n = rng.choice((1, 1, 2, 3, 7, 50))
                    rows.append((ROWS, dim, process, None, label, bucket, n + 4))
                    rows.append((ROWS, dim, process, "2025-12", label, bucket, -4))  # a month outside, taken away
                    if dim == "process":
                        rows.append((MONTH, dim, process, rng.choice(MONTHS), label, bucket, n))
                    rows.append((BOTH, dim, process, "2026-04", label, bucket, rng.choice((0, 1, 2))))
    return rows


def _in_sql(eng: Engine, rows: list[tuple]) -> list[tuple]:
    with eng.db.read() as s:
        p = Placeholders(s.get_bind().dialect)
        union = " UNION ALL ".join(
            f"SELECT {used} AS used, {p(dim)} AS dim, {p(process)} AS process, "
            f"CAST({p(month)} AS varchar(7)) AS month, {p(label)} AS label, {bucket} AS bucket, {n} AS n"
            for used, dim, process, month, label, bucket, n in rows)
        return sorted(tuple(r) for r in fetch(s, rank_buckets.SQL.format(rows=union), p.values))


@pytest.mark.parametrize("seed", range(6))
def test_the_database_finds_the_buckets_python_finds(engine: Engine, seed: int):
    rows = _rows(random.Random(seed))
    found = sorted(rank_buckets.locate(rows))
    assert found and {d for d, *_ in found} == {0, 1, 2, 3, 4}
    assert _in_sql(engine, rows) == found


def test_each_bucket_found_holds_a_wanted_rank_and_the_rest_hold_none():
    counts = {0: 3, 1: 0, 2: 1, 5: 4, 9: 2}  # ten cases: ranks 5, 6 (the middle two) and 9 (p90)
    rows = [(BOTH, "person", "aftersale", "2026-01", "engineer_1", bucket, n) for bucket, n in counts.items()]
    assert rank_buckets.locate(rows) == [(4, "engineer_1", 5, 4, 8, 10), (4, "engineer_1", 9, 2, 10, 10)]
