"""Dekads (engine/kpi/dekads.py): a month's days 1-10, 11-20 and 21 to its end, and the cheapest cover of a range of
a month's days by day and dekad rows that phase 1 of the KPI page's median and p90 reads (engine/kpi/quantiles.py).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest

from engine.kpi import dekads


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _counted(pieces: list[dekads.Piece], held: tuple[date, date]) -> dict[date, int]:
    """Each day holding rows that the pieces count, and how often (a dekad counts its days; taken away: -1)."""
    found: Counter[date] = Counter()
    for piece in pieces:
        if piece.dekad:
            starts = [d for d in _days(piece.first, piece.last) if d.day in (1, 11, 21)]
            days = [d for start in starts for d in _days(start, dekads.last_day(start))]
        else:
            days = _days(piece.first, piece.last)
        for day in days:
            if held[0] <= day <= held[1]:
                found[day] += piece.sign
    return {day: n for day, n in found.items() if n}


@pytest.mark.parametrize(("day", "first", "last"), [
    (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 10)),
    (date(2026, 11, 10), date(2026, 11, 1), date(2026, 11, 10)),
    (date(2026, 11, 11), date(2026, 11, 11), date(2026, 11, 20)),
    (date(2026, 11, 30), date(2026, 11, 21), date(2026, 11, 30)),
    (date(2026, 12, 31), date(2026, 12, 21), date(2026, 12, 31)),
    (date(2028, 2, 29), date(2028, 2, 21), date(2028, 2, 29)),
    (date(2026, 2, 21), date(2026, 2, 21), date(2026, 2, 28))])
def test_a_days_dekad_runs_from_the_1st_11th_or_21st_to_the_10th_20th_or_months_end(day, first, last):
    assert (dekads.first_day(day), dekads.last_day(day)) == (first, last)


def test_thirty_days_ending_on_the_18th_read_two_days_and_a_dekad_of_the_month_before():
    held = (date(2026, 1, 5), date(2026, 12, 18))
    assert dekads.cover(date(2026, 11, 19), date(2026, 11, 30), held) == [
        dekads.Piece(False, date(2026, 11, 19), date(2026, 11, 20), 1),
        dekads.Piece(True, date(2026, 11, 21), date(2026, 11, 21), 1)]
    # and the month's own days up to the last holding rows: two dekads, the second's days after the 18th hold none
    assert dekads.cover(date(2026, 12, 1), date(2026, 12, 18), held) == [
        dekads.Piece(True, date(2026, 12, 1), date(2026, 12, 11), 1)]


def test_a_dekad_mostly_in_the_range_is_the_dekad_less_its_days_outside():
    held = (date(2026, 1, 1), date(2026, 12, 31))
    assert dekads.cover(date(2026, 3, 11), date(2026, 3, 18), held) == [
        dekads.Piece(True, date(2026, 3, 11), date(2026, 3, 11), 1),
        dekads.Piece(False, date(2026, 3, 19), date(2026, 3, 20), -1)]
    assert dekads.cover(date(2026, 3, 1), date(2026, 3, 2), held, sign=-1) == [  # taken away: days, signs turned
        dekads.Piece(False, date(2026, 3, 1), date(2026, 3, 2), -1)]


def test_no_day_holding_rows_no_piece():
    assert dekads.cover(date(2026, 3, 1), date(2026, 3, 9), None) == []
    assert dekads.cover(date(2026, 3, 1), date(2026, 3, 9), (date(2026, 4, 1), date(2026, 5, 1))) == []


@pytest.mark.parametrize("seed", range(5))
def test_every_cover_counts_each_day_of_the_range_holding_rows_once_and_reads_no_more_than_its_days(seed):
    rng = random.Random(seed)
    for _ in range(400):
        month = date(rng.choice((2026, 2028)), rng.randrange(1, 13), 1)
        end = dekads.last_day(month.replace(day=21))
        first = month + timedelta(days=rng.randrange(0, end.day))
        last = first + timedelta(days=rng.randrange(0, (end - first).days + 1))
        held = (month + timedelta(days=rng.randrange(-40, end.day)), end + timedelta(days=rng.randrange(-end.day, 40)))
        pieces = dekads.cover(first, last, held)
        inside = [d for d in _days(first, last) if held[0] <= d <= held[1]]
        assert _counted(pieces, held) == dict.fromkeys(inside, 1), (first, last, held, pieces)
        assert sum(p.cost for p in pieces) <= len(inside)
