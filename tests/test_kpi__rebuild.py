"""`salesflow kpi rebuild` (Engine.rebuild_kpi, engine/kpi/rebuild.py) computes the KPI page's stored figures again
in one transaction with their tables' triggers off:

- on after-sales cases driven through the engine (done, reopened and closed unresolved, open, scored), the rows it
  writes are those the engine's steps and the triggers kept — the decided cases, the scores, and every count kept
  from them, the tasks and the instances — and the page is the same;
- the triggers are on again after it: a step after the rebuild is counted as before (a second rebuild finds the
  same rows);
- a rebuild that fails half-way changes nothing and leaves the triggers on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from engine import Engine
from engine.clock import ManualClock
from engine.kpi import rebuild, score_days
from engine.store.models import KpiCase, KpiScore
from tests import test_kpi__case_days as case_days_test
from tests import test_kpi__quantiles as quantiles_test
from tests import test_kpi__rollups as rollups_test
from tests import test_store__kpi_case_migration as migration_test
from tests.cli_runner import run_cli
from tests.scenarios.driver import do
from tests.test_kpi__aftersale import DIAGNOSED, RESOLVED


def stored(eng: Engine) -> dict[str, set[tuple]]:
    """Every stored figure: kpi_case and kpi_score's rows, and each rollup's non-zero rows."""
    with eng.db.read() as s:
        found = {"kpi_case": {(r.measure, r.instance_id, r.process, r.started_at, r.hours, r.unresolved, r.role,
                               r.person) for r in s.scalars(select(KpiCase))},
                 "kpi_score": {(r.instance_id, r.seq, r.process, r.at, r.role, r.person, r.value)
                               for r in s.scalars(select(KpiScore))},
                 "kpi_score_day": score_days.nonzero_rows(s)}
    found.update(rollups_test.kept(eng))
    found.update(quantiles_test.kept(eng))
    found["kpi_case_day"] = case_days_test.kept(eng)
    found["kpi_open_case"] = case_days_test.open_kept(eng)
    return found


def pages(eng: Engine) -> list[dict]:
    return [{k: v for k, v in eng.kpi(user, f).items() if k != "generated_at"}
            for user in ("aud", "mgr1") for f in migration_test.FILTERS]


@pytest.fixture
def cases(engine: Engine, clock: ManualClock) -> Engine:
    migration_test._cases(engine, clock)
    return engine


def _step_after(eng: Engine) -> None:
    """The open case (its first response given) resolved and scored: a decided case, its counts and a score, written
    through the triggers."""
    with eng.db.read() as s:
        responded = set(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "first_response")))
        resolved = set(s.scalars(select(KpiCase.instance_id).where(KpiCase.measure == "resolution")))
    [open_id] = responded - resolved
    do(eng, "fix1", "diagnose", DIAGNOSED, open_id)
    do(eng, "fix1", "resolve", RESOLVED, open_id)
    do(eng, "svc1", "confirm_resolution", {"resolution_confirmed": True, "satisfaction": 4}, open_id)


def _counted_after(before: dict[str, set[tuple]], after: dict[str, set[tuple]]) -> None:
    """The step after the rebuild reached the decided cases, their counts and hour buckets, and the scores."""
    changed = {name for name in after if after[name] != before[name]}
    assert {"kpi_case", "kpi_case_day", "kpi_hours_month", "kpi_open_case", "kpi_score", "kpi_score_day",
            "kpi_completed_day"} <= changed, changed


def test_the_rebuild_writes_what_the_steps_and_triggers_kept(cases, db_url):
    eng = cases
    before, page = stored(eng), pages(eng)
    assert before["kpi_case"] and before["kpi_score"] and before["kpi_case_day"] and before["kpi_open_case"]
    done = run_cli({"SALESFLOW_DATABASE_URL": db_url, "SALESFLOW_LANG": "en"}, "kpi", "rebuild")
    assert done.returncode == 0, done.stderr
    assert f"kpi_case: {len(before['kpi_case'])} decided cases" in done.stdout
    assert f"kpi_score: {len(before['kpi_score'])} satisfaction scores" in done.stdout
    eng.db.dispose()
    assert stored(eng) == before
    assert pages(eng) == page
    _step_after(eng)  # the triggers are on again: the step is counted, as a rebuild would count it
    after = stored(eng)
    _counted_after(before, after)
    eng.rebuild_kpi()
    assert stored(eng) == after


def test_a_rebuild_that_fails_changes_nothing(cases, monkeypatch):
    eng = cases
    before = stored(eng)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as m:  # after the cases and scores were written again, the triggers off
        m.setattr(rebuild.rollups, "rebuild", broken)
        with pytest.raises(RuntimeError):
            eng.rebuild_kpi()
    assert stored(eng) == before
    _step_after(eng)  # the triggers are still on
    after = stored(eng)
    _counted_after(before, after)
    eng.rebuild_kpi()
    assert stored(eng) == after


def test_the_small_rollups_are_compacted_after_a_rebuild(cases):
    """PostgreSQL: a rollup read whole by every page load, grown by row versions (a month row updated many times in
    one transaction, as the triggers' upserts did in earlier rebuilds), is rewritten after a rebuild: its rows' size
    again. (Whether VACUUM FULL may drop the old versions depends on every other transaction of the server: one still
    running in another database — a parallel test worker's — keeps them. So the rewrite is what is checked, the size
    only when no other transaction ran meanwhile.)"""
    eng = cases
    if eng.db.is_sqlite:
        pytest.skip("PostgreSQL's row versions: SQLite rewrites its rows in place")

    def state() -> tuple[int, int, int]:
        """(its file, its pages, other transactions of the server with an xid)."""
        with eng.db.read() as s:
            return tuple(s.execute(text(
                "SELECT pg_relation_filenode('kpi_completed_month'), pg_relation_size('kpi_completed_month') / "
                "current_setting('block_size')::int, (SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS "
                "NOT NULL AND pid <> pg_backend_pid())")).one())

    with eng.db.write() as s:
        for _ in range(400):
            s.execute(text("UPDATE kpi_completed_month SET n = n"))
    file, grown, busy_before = state()
    assert grown > 5
    eng.rebuild_kpi()
    rewritten, pages, busy_after = state()
    assert rewritten != file
    if not busy_before and not busy_after:
        assert pages <= 2 < grown
