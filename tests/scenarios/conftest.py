"""Scenario fixtures: the real processes and forms from the repository, and the people."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from engine import Engine
from engine.process import workflow as workflow_mod
from tests.conftest import PG_URL
from tests.pruning_check import assert_pruning_changes_nothing, min_cut, share_proven_trails
from tests.scenarios.repository import deploy_repository

__all__ = ["deploy_repository"]  # the scenario modules import it from here


@pytest.fixture
def flows(engine: Engine) -> Engine:
    """The engine with processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = deploy_repository(engine)
    assert deployed >= {("sample_request", 1, "deployed"), ("customer_visit", 1, "deployed")}
    assert {status for _key, _version, status in deployed} == {"deployed"}
    return engine


@pytest.fixture(scope="session", autouse=True)
def _proven_trails_shared(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The xdist workers of one run share the trails they proved (tests/pruning_check.py) in the run's
    temporary folder: each worker's own is a folder in it (popen-gw0, ...)."""
    if os.environ.get("PYTEST_XDIST_WORKER") and not PG_URL:
        share_proven_trails(tmp_path_factory.getbasetemp().parent / "proven-trails")


@pytest.fixture(autouse=True)
def pruning_changes_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every scenario runs with the finished part of its task trees cut at every command that can cut
    (engine/process/pruning.py, MIN_CUT 1; by default only long instances are cut), and its own
    assertions hold. Then every instance it ran replays the same with its trees cut at every command
    and never cut (tests/pruning_check.py): the recorded digests and derived events, and the history
    page's states, are the same whether the tree is cut or whole, on every process the scenarios drive.
    A trail this run proved already (the same but for its task ids: replay is a function of the trail) is
    not replayed again, and the cut replay with every state that the scenario's own audit check ran
    (driver.assert_audit_intact, inside MIN_CUT 1) of an instance's final trail is that replay already: the
    engine kept it, and it is not run again. Replay runs in memory from the trail, so the SQLite pass proves
    it; the PostgreSQL pass runs the scenarios as production does (short instances are never cut)."""
    if PG_URL:
        yield
        return
    # taken before the test runs, so that the check runs before the engine is torn down
    eng = request.getfixturevalue("engine") if "engine" in request.fixturenames else None
    with min_cut(1):
        yield
    if eng is not None:
        assert_pruning_changes_nothing(eng, cut_replays_kept=True)


@pytest.fixture(autouse=True)
def states_are_spiffworkflows_own(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every state a scenario saves is, byte for byte, SpiffWorkflow's own serialization of the workflow
    (less its specs): engine.process.workflow builds it without converting the specs first (issue 17), and
    stored instances, their restores and the warm-workflow check all rest on the text being the same. The
    scenarios drive call activities, timers, messages and event-based gateways, which a small test would not."""
    real = workflow_mod.dump

    def checked(wf):
        text = real(wf)
        assert text == json.dumps(workflow_mod.full_state(wf), allow_nan=False)
        return text

    monkeypatch.setattr(workflow_mod, "dump", checked)
    yield
