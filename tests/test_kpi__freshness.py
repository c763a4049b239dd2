"""Which stored KPI counts the page cannot use after kpi.yaml changed (engine/kpi/freshness.py), as /healthz
reports them, until `salesflow kpi rebuild` counts them again: an operator learns why the page became slow."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest

from engine import Engine
from engine.errors import Unavailable
from engine.kpi import definitions, freshness
from webui.app import create_app

ZONE_TABLES = ["kpi_completed_day", "kpi_registered_day", "kpi_score_day"]


@pytest.fixture
def changed(approval: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., definitions.Definitions]]:
    """changed(timezone=...) -> kpi.yaml read with those changes. Afterwards the counts are rebuilt for the real
    kpi.yaml: the zone and targets they were built for are kept between tests on PostgreSQL (tests/conftest.py)."""
    def change(**changes: object) -> definitions.Definitions:
        defs = dataclasses.replace(definitions.load(), **changes)
        monkeypatch.setattr(definitions, "load", lambda *_: defs)
        return defs

    yield change
    monkeypatch.undo()
    approval.rebuild_kpi()
    assert approval.kpi_counts_state()["current"]


def test_the_counts_kept_as_steps_run_are_current(approval: Engine):
    assert approval.kpi_counts_state() == {"current": True, "stale": []}


def test_a_changed_target_makes_that_measures_decided_counts_stale_until_rebuilt(approval: Engine, changed):
    first, *rest = definitions.load().measures
    changed(measures=(dataclasses.replace(first, target_hours=first.target_hours + 12), *rest))
    assert approval.kpi_counts_state() == {"current": False, "stale": [f"kpi_case_day ({first.key})"]}
    approval.rebuild_kpi()
    assert approval.kpi_counts_state() == {"current": True, "stale": []}


def test_a_changed_zone_makes_every_count_stale_until_rebuilt(approval: Engine, changed):
    defs = changed(timezone="Europe/Berlin")
    stale = approval.kpi_counts_state()["stale"]
    per_measure = [f"{table} ({m.key})" for m in defs.measures
                   for table in ("kpi_case_day", "kpi_open_day", "kpi_hours_month")]
    assert stale == ZONE_TABLES + per_measure
    approval.rebuild_kpi()
    assert approval.kpi_counts_state() == {"current": True, "stale": []}


def test_healthz_names_the_stale_counts_and_the_command_but_stays_ok(approval: Engine, changed):
    client = create_app(approval, {"TESTING": True, "SECRET_KEY": "test"}).test_client()
    assert client.get("/healthz").get_json()["kpi"] == {"current": True, "stale": []}
    changed(timezone="Europe/Berlin")
    response = client.get("/healthz")
    assert response.status_code == 200  # the page still answers (slowly): not a reason to take the server out
    kpi = response.get_json()["kpi"]
    assert kpi["current"] is False and kpi["stale"][:3] == ZONE_TABLES
    assert "salesflow kpi rebuild" in kpi["warning"]


@pytest.mark.parametrize("failure", [RuntimeError("a bug"), Unavailable("the database went away")])
def test_healthz_when_the_check_itself_fails(approval: Engine, monkeypatch, failure):
    """A check that failed is logged and shown, not a reason to take the server out; the database gone since the
    schema check is the 503 of an unreachable database."""
    def failing(self: Engine) -> dict:
        raise failure

    monkeypatch.setattr(Engine, "kpi_counts_state", failing)
    response = create_app(approval, {"TESTING": True, "SECRET_KEY": "test"}).test_client().get("/healthz")
    body = response.get_json()
    if isinstance(failure, Unavailable):
        assert response.status_code == 503 and body["database"] == "unreachable"
    else:
        assert response.status_code == 200 and body["status"] == "ok"
        assert body["kpi"]["current"] is None and "RuntimeError" in body["kpi"]["error"]


def test_a_change_of_the_rules_cases_and_scores_follow_ships_with_a_migration_that_decides_them_again():
    assert definitions.decided_by(definitions.load()) == freshness.DECIDED_BY, (
        "kpi.yaml's rules for deciding a case or a score changed: the kpi_case and kpi_score rows already stored "
        "follow the old ones. Add a migration that decides them again (case_rows.rebuild, score_rows.rebuild and "
        "the counts kept from them, as 0023 and 0033 do), then set freshness.DECIDED_BY to the new digest")


def test_the_digest_follows_the_rules_and_not_the_targets_or_the_zone():
    defs = definitions.load()
    first, *rest = defs.measures
    interval, *others = first.intervals
    end = dataclasses.replace(interval.end, data={**interval.end.data, "outcome": "something else"})
    ended_otherwise = dataclasses.replace(first, intervals=(dataclasses.replace(interval, end=end), *others))
    source, *sources = defs.satisfaction
    assert definitions.decided_by(dataclasses.replace(defs, measures=(ended_otherwise, *rest))) != freshness.DECIDED_BY
    scored_otherwise = dataclasses.replace(defs, satisfaction=(dataclasses.replace(source, field="x"), *sources))
    assert definitions.decided_by(scored_otherwise) != freshness.DECIDED_BY
    retargeted = dataclasses.replace(first, target_hours=first.target_hours + 1)
    assert definitions.decided_by(dataclasses.replace(defs, measures=(retargeted, *rest),
                                                      timezone="Europe/Berlin")) == freshness.DECIDED_BY
