"""The cluster holds under load and failures (issue 7): 8 simulated staff work full processes
through the REST API of 4 gunicorn workers and 2 timer workers on PostgreSQL, while a web worker
and a timer worker are SIGKILLed and PostgreSQL restarts. Afterwards every acknowledged command is
in the database, no task was completed twice, no timer fired twice, every audit chain verifies and
every instance can be finished. One poisoned instance (its timer's next step always fails, the lowest
id) is present throughout: every other timer still fires exactly once, its failed attempts are
counted, and it can be cancelled (issue 11). bench/load_failures.py runs the same at full size.

PostgreSQL only, in its own database (never `test`). It restarts only the throwaway server the test run
started itself (`make test`: SALESFLOW_TEST_POSTGRES=throwaway); on a server named by
SALESFLOW_TEST_DATABASE_URL it cuts this test's own connections instead, never restarting a server other
people may use.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import PG_URL
from tests.pg_server import ThrowawayServer

pytestmark = pytest.mark.skipif(not PG_URL.startswith("postgresql"), reason="runs in the PostgreSQL pass of make test")


def test_no_acknowledged_command_is_lost_when_workers_die_and_postgres_restarts(capsys) -> None:
    from bench.load_failures import Plan, run

    own_server = ThrowawayServer.of_this_run()
    plan = Plan(staff=8, web_workers=4, timer_workers=2, seconds=30,
                pg_mode="restart" if own_server else "terminate",
                pg_restart=own_server.restart if own_server else None,
                kill_web_at=0.2, kill_timer_at=0.4, pg_at=0.6,
                server=PG_URL.rsplit("/", 1)[0], database=f"load_test_{os.getpid()}")
    with capsys.disabled():
        print()
        outcome = run(plan)

    assert outcome.problems == []
    figures = outcome.figures
    starts, claims, completes = (int(n) for n in figures["commands acknowledged (start/claim/complete)"].split(" / "))
    assert starts >= 3 and claims >= starts and completes >= starts, "the staff got little done: it proves nothing"
    assert figures["instances finished by the staff"] >= 1
    assert figures["timers fired (each at most once)"] >= 1, "the timer workers fired nothing"
    assert {"failure: web", "failure: timer", "failure: postgres"} <= set(figures)
    assert figures["instances completed / not"].endswith(" / 0")
    assert " 0 broken" in figures["audit verify"]
    assert figures["healthy instances whose timers did not each fire exactly once"] == 0
    attempts, then = figures["poisoned instance: failed timer attempts, then"].split(", ", 1)
    assert int(attempts) >= 1 and then.endswith("cancelled"), then
