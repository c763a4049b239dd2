"""Scenario fixtures: the real processes and forms from the repository, and the people."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import PEOPLE


@pytest.fixture
def flows(engine: Engine) -> Engine:
    """The engine with processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = engine.deploy("system", [ROOT / "processes", ROOT / "forms"])
    assert {(d.key, d.version, d.status) for d in deployed} >= {
        ("sample_request", 1, "deployed"), ("customer_visit", 1, "deployed")}
    assert {d.status for d in deployed} == {"deployed"}
    add_users(engine, PEOPLE)
    return engine
