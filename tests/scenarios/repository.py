"""The repository's processes/ and forms/ deployed as they are, with the scenario PEOPLE: the state most
scenario tests start from, built once per worker (tests/deployed_state.py)."""

from __future__ import annotations

from engine import Engine
from tests.conftest import ROOT, add_users
from tests.deployed_state import prepared
from tests.scenarios.driver import PEOPLE


def deploy_repository(engine: Engine) -> set[tuple[str, int, str]]:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE; {(key, version, status)}."""
    return prepared(engine, "repository", _deploy)


def _deploy(engine: Engine) -> set[tuple[str, int, str]]:
    deployed = {(d.key, d.version, d.status) for d in engine.deploy("system", [ROOT / "processes", ROOT / "forms"])}
    add_users(engine, PEOPLE)
    return deployed
