"""Issue 11, finding 3: `salesflow incidents list|retry|cancel`, run as a real subprocess on a SQLite
file where a poisoned timer halted an instance (prepared in-process on a manual clock set in the
past, so that the CLI's real clock finds the timer due)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from engine import Engine
from engine.clock import ManualClock
from tests.security._incidents import deploy, fix_poison, run_out_of_attempts, start
from tests.test_cli__commands import assert_one_line_error, environment, ok, sf


@pytest.fixture
def halted(tmp_path) -> tuple[dict[str, str], Engine, list[int]]:
    """(the CLI's environment, an engine on the same file, two instances halted by incidents)."""
    db = tmp_path / "incidents.db"
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=3))
    eng = Engine(f"sqlite:///{db}", clock=clock)
    eng.init()
    deploy(eng)
    ids = [start(eng, "raise", "甲"), start(eng, "raise", "乙")]
    clock.advance(hours=2)
    run_out_of_attempts(eng, clock)
    yield environment(db), eng, ids
    eng.db.dispose()


def incident_of(eng: Engine, iid: int) -> int:
    return next(i["id"] for i in eng.incidents("adm", "all") if i["instance_id"] == iid)


def test_an_administrator_lists_retries_and_cancels_from_the_command_line(halted):
    env, eng, (first, second) = halted
    listed = ok(sf(env, "incidents", "list", "--as", "adm"))
    assert len(listed.strip().splitlines()) == 2
    assert re.search(rf"instance #{first} poison\s+timer at check \(核对\)\s+5 attempt\(s\).*division by zero", listed)

    failed = sf(env, "incidents", "retry", str(incident_of(eng, first)), "--as", "adm")
    assert failed.returncode == 1 and "the retry failed again" in failed.stderr

    eng.migrate("own", "poison", fix_poison(eng))
    out = ok(sf(env, "incidents", "retry", str(incident_of(eng, first)), "--as", "adm"))
    assert f"instance {first} is running" in out
    refused = sf(env, "incidents", "cancel", str(incident_of(eng, second)), "--as", "adm", "--reason", " ")
    assert refused.returncode == 4 and refused.stderr.startswith("error: a reason")
    assert "Traceback" not in refused.stderr
    out = ok(sf(env, "incidents", "cancel", str(incident_of(eng, second)), "--as", "adm", "--reason", "客户撤单"))
    assert f"instance {second} cancelled" in out
    assert ok(sf(env, "incidents", "list", "--as", "adm")).strip() == "no incidents"
    resolved = ok(sf(env, "incidents", "list", "--as", "adm", "--status", "resolved"))
    assert "retried by adm" in resolved and "cancelled by adm" in resolved and "客户撤单" in resolved
    ok(sf(env, "audit", "verify"))


def test_everybody_else_gets_one_error_line(halted):
    env, eng, (first, _second) = halted
    assert_one_line_error(sf(env, "incidents", "list", "--as", "rep"), "administrator")
    assert_one_line_error(sf(env, "incidents", "retry", str(incident_of(eng, first)), "--as", "mgr"))
    assert_one_line_error(sf(env, "incidents", "retry", "99999", "--as", "adm"), "no incident")
