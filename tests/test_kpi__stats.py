"""The KPI arithmetic: median, nearest-rank p90, share within target, open intervals, scores."""

from __future__ import annotations

import pytest

from engine.kpi import definitions
from engine.kpi.stats import Timing, growth, median, nearest_rank, p90, scores, share, summarize, yuan


def test_median_of_nothing_one_odd_and_even_counts():
    assert median([]) is None
    assert median([7.0]) == 7.0
    assert median([5, 1, 3]) == 3  # sorted [1, 3, 5]
    assert median([4, 1, 3, 2]) == 2.5  # (2 + 3) / 2


def test_p90_is_the_nearest_rank():
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([2, 1]) == 2  # rank ceil(1.8) = 2
    assert p90(list(range(1, 11))) == 9  # rank ceil(9.0) = 9: exactly 90 % at or below 9
    assert p90(list(range(1, 12))) == 10  # rank ceil(9.9) = 10
    assert p90(list(range(1, 21))) == 18  # rank ceil(18.0) = 18
    assert p90([30, 10, 20]) == 30  # unsorted input; rank ceil(2.7) = 3


def test_nearest_rank_bounds():
    assert nearest_rank([3, 1, 2], 100) == 3
    assert nearest_rank([3, 1, 2], 1) == 1  # rank ceil(0.03) = 1
    with pytest.raises(ValueError):
        nearest_rank([1], 0)


def test_share():
    assert share(0, 0) is None
    assert share(2, 3) == pytest.approx(2 / 3)


def test_summary_counts_an_open_interval_past_its_target_as_a_breach():
    timings = [Timing(2, True), Timing(24, True), Timing(30, True),  # 24 h exactly is within
               Timing(25, False),  # open, already past 24 h: a breach
               Timing(5, False)]  # open, inside its target: undecided
    assert summarize(timings, 24) == {"count": 3, "open": 2, "open_breached": 1, "unresolved": 0, "within": 2,
                                      "breached": 2, "share_within": 0.5, "median_hours": 24, "p90_hours": 30}


def test_summary_counts_an_interval_that_ended_unresolved_as_a_breach_however_early():
    timings = [Timing(10, True),  # resolved in 10 h: within
               Timing(3, False, unresolved=True),  # closed unresolved after 3 h: a breach, no resolution time
               Timing(70, False, unresolved=True)]  # closed unresolved after 70 h: one breach, not two
    assert summarize(timings, 48) == {"count": 1, "open": 0, "open_breached": 0, "unresolved": 2, "within": 1,
                                      "breached": 2, "share_within": 1 / 3, "median_hours": 10, "p90_hours": 10}


def test_summary_of_nothing_and_of_open_intervals_only():
    empty = {"count": 0, "open": 0, "open_breached": 0, "unresolved": 0, "within": 0, "breached": 0,
             "share_within": None, "median_hours": None, "p90_hours": None}
    assert summarize([], 48) == empty
    assert summarize([Timing(3, False)], 48) == {**empty, "open": 1}


def test_summary_rounds_hours_to_hundredths():
    # 1 h 20 min = 1.3333.. h
    assert summarize([Timing(4 / 3, True)], 24)["median_hours"] == 1.33


def test_scores():
    assert scores([]) == {"count": 0, "average": None, "distribution": [0, 0, 0, 0, 0]}
    assert scores([5]) == {"count": 1, "average": 5.0, "distribution": [0, 0, 0, 0, 1]}
    assert scores([1, 2, 2, 5]) == {"count": 4, "average": 2.5, "distribution": [1, 2, 0, 0, 1]}


def test_definitions_refuse_a_file_without_targets():
    with pytest.raises(definitions.DefinitionsError, match="target_hours"):
        definitions.parse({"intervals": {"first_response": {"processes": {"p": {"start": "registration",
                                                                               "end": {"tasks": ["t"]}}}}},
                           "resolution_rate": {"process": "p", "resolved": {"tasks": ["t"]}}})
    with pytest.raises(definitions.DefinitionsError, match="start"):
        definitions.parse({"intervals": {"x": {"target_hours": 1, "processes": {"p": {"start": "later",
                                                                                     "end": {"tasks": ["t"]}}}}},
                           "resolution_rate": {"process": "p", "resolved": {"tasks": ["t"]}}})


def test_the_shipped_definitions_state_the_targets():
    defs = definitions.load()
    assert {m.key: m.target_hours for m in defs.measures} == {"first_response": 24, "resolution": 48}
    assert defs.timezone == "Asia/Shanghai"


def test_growth_against_the_previous_figure():
    assert growth(130000, 150000) == pytest.approx(-2 / 15)
    assert growth(150000, 100000) == 0.5
    assert growth(0, 130000) == -1.0
    assert growth(110000.5, 0) is None  # nothing to grow from
    assert growth(0, 0) is None


def test_sums_of_money_are_to_the_fen():
    assert yuan([]) == 0.0
    assert yuan([0.1] * 10) == 1.0  # no float drift: fsum
    assert yuan([10000.5, 60000, 40000]) == 110000.5
    assert yuan([0.004, 0.004]) == 0.01
