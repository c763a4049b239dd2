"""The arithmetic of the KPI figures, kept apart so each rule is stated (and tested) once.

- median: `statistics.median` (the mean of the two middle values for an even count);
- p90: the nearest-rank 90th percentile, the value at rank ceil(0.9 * n) of the sorted values
  (always one of the measured values; for n <= 10 it is the largest);
- share within target: within / (within + breached); None when nothing is decided yet;
- an interval that ended unresolved (an after-sales case closed unresolved) is a breach whatever its
  hours: it has no resolution time, so it is in no median, and it is never `open`.
- growth: (this month - the previous month) / the previous month; None when the previous month is 0;
- amounts of money are summed and rounded to the fen (0.01 yuan).
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DECIMALS = 2  # hours are reported to 0.01 h (36 seconds)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values at or below it."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError("percent is in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(percent / 100 * len(ordered))
    return ordered[rank - 1]


def p90(values: Sequence[float]) -> float | None:
    return nearest_rank(values, 90)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def growth(current: float, previous: float) -> float | None:
    """The change against the previous figure, as a fraction (0.25 = +25 %); None without a previous figure."""
    return (current - previous) / previous if previous else None


def yuan(values: Iterable[float]) -> float:
    """A sum of money, to the fen."""
    return round(math.fsum(values), DECIMALS)


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


@dataclass(frozen=True)
class Timing:
    """One measured interval: done (hours known), still open (elapsed hours so far), or ended
    unresolved (hours until it ended; never within target)."""

    hours: float
    done: bool
    unresolved: bool = False

    def breached(self, target: float) -> bool:
        return self.unresolved or self.hours > target

    def decided(self, target: float) -> bool:
        """Done, or open and already past its target: an open interval still inside it may yet be met."""
        return self.done or self.breached(target)


class Summary:
    """summarize's figures gathered one timing at a time: the KPI page streams its intervals and keeps of
    each only its hours when done (a compact array, for the exact median and p90), not the timing."""

    def __init__(self, target: float) -> None:
        self.target = target
        self.done = array("d")
        self.open = self.open_breached = self.unresolved = self.within = self.breached = 0

    def add(self, timing: Timing) -> None:
        breached = timing.breached(self.target)
        if timing.done:
            self.done.append(timing.hours)
            self.within += not breached
        elif not timing.unresolved:
            self.open += 1
            self.open_breached += breached
        self.unresolved += timing.unresolved
        self.breached += breached

    def merge(self, other: Summary) -> None:
        self.done.extend(other.done)
        self.open += other.open
        self.open_breached += other.open_breached
        self.unresolved += other.unresolved
        self.within += other.within
        self.breached += other.breached

    def figures(self) -> dict:
        return figures(len(self.done), self.open, self.open_breached, self.unresolved, self.within, self.breached,
                       median(self.done), p90(self.done))


def figures(count: int, open_: int, open_breached: int, unresolved: int, within: int, breached: int,
            median_hours: float | None, p90_hours: float | None) -> dict:
    """A group's figures from its counts and the median and p90 of its done hours (summed in Python by Summary,
    or counted and ranked by the database: engine/kpi/times.py)."""
    return {"count": count, "open": open_, "open_breached": open_breached, "unresolved": unresolved,
            "within": within, "breached": breached, "share_within": share(within, within + breached),
            "median_hours": hours(median_hours), "p90_hours": hours(p90_hours)}


def summarize(timings: Iterable[Timing], target: float) -> dict:
    """count (done), open, unresolved, within, breached, share_within, median_hours and p90_hours of the done ones.

    An interval exactly at its target is within it. An open interval past its target is a breach
    (it cannot be met any more); one still inside its target is `open` and in no share. An interval
    that ended unresolved is a breach too (`breached` includes `unresolved`, as it includes
    `open_breached`), however early it ended."""
    summary = Summary(target)
    for timing in timings:
        summary.add(timing)
    return summary.figures()


def scores(values: Sequence[int]) -> dict:
    """count, average (2 decimals) and the distribution over 1..5 (a list of five counts)."""
    distribution = [sum(1 for v in values if v == score) for score in range(1, 6)]
    average = round(sum(values) / len(values), DECIMALS) if values else None
    return {"count": len(values), "average": average, "distribution": distribution}


def distributed_scores(distribution: Sequence[int]) -> dict:
    """scores of a distribution (how many 1s, 2s ... 5s): the same figures from counts (engine/kpi/score_days.py)."""
    count = sum(distribution)
    total = sum(score * n for score, n in zip(range(1, 6), distribution, strict=True))
    average = round(total / count, DECIMALS) if count else None
    return {"count": count, "average": average, "distribution": list(distribution)}
