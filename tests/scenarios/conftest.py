"""Scenario fixtures: the real processes and forms from the repository, and the people."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import PEOPLE


def deploy_repository(engine: Engine) -> set[tuple[str, int, str]]:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE; {(key, version, status)}."""
    deployed = {(d.key, d.version, d.status) for d in engine.deploy("system", [ROOT / "processes", ROOT / "forms"])}
    add_users(engine, PEOPLE)
    return deployed


@pytest.fixture
def flows(engine: Engine) -> Engine:
    """The engine with processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = deploy_repository(engine)
    assert deployed >= {("sample_request", 1, "deployed"), ("customer_visit", 1, "deployed")}
    assert {status for _key, _version, status in deployed} == {"deployed"}
    return engine
