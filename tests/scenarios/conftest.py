"""Scenario fixtures: the real processes and forms from the repository, and the people."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.scenarios.repository import deploy_repository

__all__ = ["deploy_repository"]  # the scenario modules import it from here


@pytest.fixture
def flows(engine: Engine) -> Engine:
    """The engine with processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = deploy_repository(engine)
    assert deployed >= {("sample_request", 1, "deployed"), ("customer_visit", 1, "deployed")}
    assert {status for _key, _version, status in deployed} == {"deployed"}
    return engine
