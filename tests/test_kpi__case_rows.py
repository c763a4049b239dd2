"""The KPI times read from kpi_case (engine/kpi/times.py, kept by the steps: engine/kpi/case_rows.py) are the
figures of summarizing every case in Python (the page before the table: measures.cases summarized by
report._timing_breakdown, kept as the path of a measure whose start is a task), on cases driven through the engine:

- test_kpi__figures' data set: complaints done within and past their targets, open inside and past them, after-sales
  cases resolved, closed unresolved with the customer's consent, open;
- after it (04-02 .. 04-04): R1 resolved, reopened, resolved again (keeps its first resolution); R2 resolved,
  reopened, then closed unresolved (a done case becomes unresolved); R3 cancelled after its first response;
  R4 passed on as a quality complaint (transferred: its resolution is not measured; the complaint it starts is);
  R5 asked to close, the customer objects: open, waiting for the sales manager.

Every date range and process filter, as an auditor and as a sales manager (the rows of his team only), on the
database the tests run on. And the rows the steps wrote are those a rebuild from scratch writes.
"""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Engine, users
from engine.clock import ManualClock
from engine.kpi import case_rows, definitions, measures, report, stats, times
from engine.kpi import filters as filter_rules
from engine.runtime import access
from engine.store.models import KpiCase
from tests import test_kpi__figures as figures
from tests.scenarios.driver import do, local_time

LATER = local_time("2026-04-06", "12:00")
OBJECTS = {"customer_agrees_to_close": False, "customer_closing_answer": "客户不同意"}


def _handle(eng: Engine, iid: int, outcome: dict, engineer: str = "fix1") -> None:
    do(eng, engineer, "first_response", figures.RESPONSE, iid)
    do(eng, engineer, "diagnose", figures.DIAGNOSED, iid)
    do(eng, engineer, "resolve", outcome, iid)


def build(eng: Engine, clock: ManualClock) -> dict[str, int]:
    ids = figures.build_data_set(eng, clock)
    figures.at(clock, "2026-04-02", "09:00")
    for name in ("R1", "R2", "R3", "R4", "R5"):
        ids[name] = eng.start("svc1", "aftersale", figures.request())
    figures.at(clock, "2026-04-02", "15:00")
    for name in ("R1", "R2"):  # resolved after 6 h, then the customer refuses the resolution: reopened
        _handle(eng, ids[name], figures.RESOLVED)
        do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": False, "satisfaction": 2}, ids[name])
    do(eng, "fix2", "first_response", figures.RESPONSE, ids["R3"])
    eng.cancel("adm", ids["R3"], "重复登记")
    do(eng, "fix2", "first_response", figures.RESPONSE, ids["R4"])
    do(eng, "fix2", "diagnose", {**figures.DIAGNOSED, "quality_fault": True, "severity": "minor"}, ids["R4"])
    _handle(eng, ids["R5"], figures.CLOSED, "fix2")
    do(eng, "svc2", "confirm_closing", OBJECTS, ids["R5"])
    figures.at(clock, "2026-04-04", "10:00")
    do(eng, "fix2", "diagnose", figures.DIAGNOSED, ids["R1"])
    do(eng, "fix2", "resolve", figures.RESOLVED, ids["R1"])  # resolved again: the first resolution's 6 h stay
    do(eng, "fix2", "diagnose", figures.DIAGNOSED, ids["R2"])
    do(eng, "fix2", "resolve", figures.CLOSED, ids["R2"])
    do(eng, "svc2", "confirm_closing", figures.CONSENT, ids["R2"])  # closed unresolved: attributed to fix2
    clock.set(LATER)
    return ids


@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from figures.repository_data_set(_schema, tmp_path_factory, build)


def old_times(eng: Engine, user: str, filters: dict, now: datetime) -> list[dict]:
    """report._times as it was: every case of every measure summarized in Python, cut to the user's team."""
    defs = definitions.load()
    with eng.db.read() as s:
        view = access.check_kpi_view(s, users.get_actor(s, user))
        window = filter_rules.parse(s, filters, defs.timezone)
        found = []
        for measure in defs.measures:
            if window.process is not None and window.process not in {i.process for i in measure.intervals}:
                continue
            found.append({"measure": measure.key, "target_hours": measure.target_hours,
                          "processes": [i.process for i in measure.intervals],
                          **report._timing_breakdown(measures.cases(s, measure, window, now, defs.timezone),
                                                     measure.target_hours)})
    return found if view.roles is None else report._only_team(found, (view.roles, view.people or frozenset()))


FILTERS = [{}, {"from": "2026-03-01", "to": "2026-03-31"}, {"from": "2026-04-01"}, {"to": "2026-03-02"},
           {"process": "aftersale"}, {"process": "complaint"}, {"from": "2026-04-02", "process": "aftersale"},
           {"from": "2026-05-01"}]


@pytest.mark.parametrize("user", ["aud", "mgr1"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_the_times_from_the_decided_rows_are_the_ones_of_every_case_summarized(data_set, user, filters):
    eng, _ = data_set
    assert eng.kpi(user, filters)["times"] == old_times(eng, user, filters, eng.clock.now())


def test_the_data_set_has_the_cases_it_describes(data_set):
    eng, ids = data_set
    times = {t["measure"]: t for t in eng.kpi("aud", {"from": "2026-04-02"})["times"]}
    resolution = next(r for r in times["resolution"]["by_process"] if r["key"] == "aftersale")
    # R1 done (6 h, its first resolution), R2 unresolved, R5 open and past 48 h; R3 cancelled, R4 transferred
    assert (resolution["count"], resolution["unresolved"], resolution["open"], resolution["open_breached"]) == \
        (1, 1, 1, 1)
    assert resolution["median_hours"] == 6.0
    assert eng.instance("aud", ids["R4"])["outcome"] == "transferred"
    complaint = next(r for r in times["resolution"]["by_process"] if r["key"] == "complaint")
    assert (complaint["open"], complaint["open_breached"]) == (1, 1)  # the complaint R4 was passed on as


def _rows(eng: Engine) -> list[tuple]:
    with eng.db.read() as s:
        return [tuple(r) for r in s.execute(select(KpiCase.measure, KpiCase.instance_id, KpiCase.process,
                                                   KpiCase.started_at, KpiCase.role, KpiCase.person, KpiCase.hours,
                                                   KpiCase.unresolved).order_by(KpiCase.measure, KpiCase.instance_id))]


def test_the_rows_the_steps_wrote_are_the_ones_a_rebuild_writes(data_set):
    eng, ids = data_set
    kept = _rows(eng)
    assert ("resolution", ids["R2"]) in {(r[0], r[1]) for r in kept if r[7]}  # done first, unresolved now
    with eng.db.write() as s:
        assert case_rows.rebuild(s) == len(kept)
    assert _rows(eng) == kept


def test_the_ranks_read_from_sorted_hours_are_the_median_and_p90_of_stats():
    rng = random.Random(17)
    for n in range(0, 400):
        values = [rng.choice((0.5, 1.25, 3.0, 24.0, 48.01)) + rng.random() * (n % 3) for _ in range(n)]
        assert times._picked(sorted(values)) == (stats.median(values), stats.p90(values))
