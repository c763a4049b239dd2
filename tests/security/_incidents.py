"""Shared by the incident tests: the diagrams of tests/fixtures/incident, their users, a worker that
runs through every attempt, and a fixed version of the poisoned process.

`poison`: a script after a one-hour timer; mode "raise" divides by zero, mode "clock" leaves a
date-time object (not JSON) in the data, mode "ok" succeeds. `ping` throws `go` (to a `waiter`
with the same business key) and `hello` (starts a `pong`); both fail after the message when the
mode is "raise".
"""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from engine.clock import ManualClock
from engine.definitions.bundle import KINDS, SourceFile
from engine.runtime import timers
from tests.conftest import FIXTURES, add_users

INCIDENT = FIXTURES / "incident"
PEOPLE = {"rep": ["sales_rep"], "rep2": ["sales_rep"], "mgr": ["sales_manager"], "adm": ["admin"],
          "aud": ["auditor"], "own": ["process_owner"]}
POISON_SCRIPT = """if mode == 'raise':
    checked = 1 / 0
elif mode == 'clock':
    checked = now()
else:
    checked = 'ok'"""


def deploy(engine: Engine) -> Engine:
    engine.deploy("system", [INCIDENT])
    add_users(engine, PEOPLE)
    return engine


def start(engine: Engine, mode: str, name: str = "ACME", key: str = "poison", business_key: str | None = None,
          actor: str = "rep") -> int:
    return engine.start(actor, key, {"customer_name": name, "mode": mode}, business_key)


def kinds(engine: Engine, iid: int) -> list[str]:
    return [e["kind"] for e in engine.history("aud", iid)]


def events(engine: Engine, iid: int, kind: str) -> list[dict]:
    return [e for e in engine.history("aud", iid) if e["kind"] == kind]


def run_out_of_attempts(engine: Engine, clock: ManualClock) -> int:
    """Worker passes, each once the back-off is over, until the last attempt; returns the timers fired."""
    fired = 0
    for attempt in range(1, timers.MAX_ATTEMPTS + 1):
        fired += engine.fire_due_timers()
        clock.advance(seconds=timers.backoff(attempt).total_seconds())
    return fired


def sources(files: dict[str, str]) -> list[SourceFile]:
    return [SourceFile(name, KINDS[Path(name).suffix], text.encode("utf-8")) for name, text in files.items()]


def fixed_version(engine: Engine, key: str, old: str, new: str) -> int:
    """Deploy a new version of `key` whose diagram has `new` where it had `old`; returns its number."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(INCIDENT.iterdir())
             if p.name.startswith(("poison_", key + "."))}
    bpmn = files[f"{key}.bpmn"]
    assert old in bpmn, f"the fixture no longer holds {old!r}"
    files[f"{key}.bpmn"] = bpmn.replace(old, new, 1)
    [deployed] = [d for d in engine.deploy("own", files=sources(files)) if d.key == key]
    assert deployed.status == "deployed"
    return deployed.version


def fix_poison(engine: Engine) -> int:
    return fixed_version(engine, "poison", POISON_SCRIPT, "checked = 'ok'")


def verified(engine: Engine, iid: int) -> None:
    """The trail's hash chain holds and replaying it gives the recorded steps (`audit verify`)."""
    check = engine.check_trail(f"instance:{iid}")
    assert check.ok, check
    assert engine.replay(iid).verified, engine.replay(iid).first_mismatch
