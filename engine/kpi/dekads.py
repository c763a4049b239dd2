"""Dekads: a month's days 1 to 10, 11 to 20 and 21 to its end (migration 0036; docs/kpi.md "Phase 1").

kpi_hours_dekad counts the done cases per dekad as kpi_hours_day counts them per day, so phase 1 of the KPI page's
median and p90 (engine/kpi/quantiles.py) reads a partial month at a window's edge as whole dekads and a few days,
not as every day: a dekad holds about two days' count rows (a person's cases of ten days fall in some twenty
buckets, of one day in ten), so 30 days ending on the 18th read 19 to 20 November as days and 21 to 30 November as
one dekad instead of twelve days of rows. A dekad is named by its first day (YYYY-MM-01, -11 or -21).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

COST = 2  # a dekad's count rows, in days' rows (the bench's persons: ~1,700 rows a dekad, ~950 a day)


class Piece(NamedTuple):
    """Count rows phase 1 adds (sign 1) or takes away (-1): the days first..last, or (dekad) the dekads whose first
    days are first..last."""

    dekad: bool
    first: date
    last: date
    sign: int

    @property
    def cost(self) -> int:
        """What the piece reads, in days' rows."""
        return _count(self.first, self.last) * COST if self.dekad else (self.last - self.first).days + 1


def first_day(day: date) -> date:
    """The first day of the day's dekad."""
    return day.replace(day=min(21, (day.day - 1) // 10 * 10 + 1))


def last_day(day: date) -> date:
    """The last day of the day's dekad."""
    if day.day > 20:
        return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)
    return day.replace(day=(day.day - 1) // 10 * 10 + 10)


def sql(day: str) -> str:
    """SQL: the first day of the dekad of the YYYY-MM-DD text `day` (named three times: a column, not a seek)."""
    return (f"substr({day}, 1, 8) || CASE WHEN substr({day}, 9, 2) <= '10' THEN '01' "
            f"WHEN substr({day}, 9, 2) <= '20' THEN '11' ELSE '21' END")


def cover(first: date, last: date, held: tuple[date, date] | None, sign: int = 1) -> list[Piece]:
    """The days first..last (of one month) as the pieces that read the fewest rows: per dekad, its days in the range,
    or the dekad less its days outside the range; days before or after `held` (the first and last day holding any
    row) hold none and cost nothing."""
    if held is None:
        return []
    first, last = max(first, held[0]), min(last, held[1])
    pieces: list[Piece] = []
    start = first_day(first) if first <= last else last + timedelta(days=1)
    while start <= last:
        end = last_day(start)
        inside = Piece(False, max(first, start), min(last, end), sign)
        outside = [Piece(False, a, b, -sign) for a, b in ((max(start, held[0]), min(inside.first - timedelta(days=1),
                                                                                  held[1])),
                                                           (max(inside.last + timedelta(days=1), held[0]),
                                                            min(end, held[1]))) if a <= b]
        whole = [Piece(True, start, start, sign), *outside]
        pieces += whole if sum(p.cost for p in whole) < inside.cost else [inside]
        start = end + timedelta(days=1)
    return _merged(pieces)


def _count(first: date, last: date) -> int:
    """The dekads whose first days lie in first..last."""
    months = (last.year - first.year) * 12 + last.month - first.month
    return months * 3 + (last.day - 1) // 10 - (first.day - 1) // 10 + 1


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Adjacent pieces of one kind and sign as one (fewer statements to read them)."""
    out: list[Piece] = []
    for piece in pieces:
        before = out[-1] if out else None
        if before and before.dekad == piece.dekad and before.sign == piece.sign and _follows(before, piece):
            out[-1] = before._replace(last=piece.last)
        else:
            out.append(piece)
    return out


def _follows(before: Piece, piece: Piece) -> bool:
    after = last_day(before.last) if before.dekad else before.last
    return after + timedelta(days=1) == piece.first
