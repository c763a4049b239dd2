"""Replay: re-running the recorded commands must give the recorded history, step by step."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import create_engine, text

from engine import Engine
from engine.audit.chain import GENESIS
from engine.errors import NotFound
from tests.conftest import deploy_approval
from tests.deployed_state import prepared

REQUEST = {"customer_name": "华东客户", "amount_yuan": 20000}


def first(eng: Engine, user: str, iid: int, name: str) -> str:
    [task] = [t for t in eng.inbox(user) if t["instance_id"] == iid and t["name"] == name]
    return task["id"]


def approved_run(eng: Engine) -> int:
    iid = eng.start("rep", "approval", dict(REQUEST))
    eng.complete("mgr", first(eng, "mgr", iid, "approve"), {"approved": True, "comment": "同意"})
    eng.complete("rep", first(eng, "rep", iid, "archive"), {"archive_no": "GD-2026-001"})
    return iid


@pytest.fixture
def approved(engine: Engine) -> tuple[Engine, int]:
    """The approval deployed and one request run to its end (approved_run): built once per worker, then
    restored (tests/deployed_state.py)."""
    return engine, prepared(engine, "replay: one approval run to its end", _deployed_and_approved)


def _deployed_and_approved(eng: Engine) -> int:
    deploy_approval(eng)
    return approved_run(eng)


def escalated_run(eng: Engine, clock) -> int:
    iid = eng.start("rep", "approval", dict(REQUEST))
    clock.advance(hours=25)
    assert eng.fire_due_timers() == 1
    clock.advance(hours=1)
    eng.complete("mgr", first(eng, "mgr", iid, "approve"), {"approved": True})
    clock.advance(hours=1)
    eng.complete("dir", first(eng, "dir", iid, "escalation"), {"comment": "已督办"})
    clock.advance(days=2)
    eng.complete("rep", first(eng, "rep", iid, "archive"), {"archive_no": "GD-2"})
    return iid


def position_of(eng: Engine, iid: int, kind: str, task: str | None = None) -> int:
    return next(e["position"] for e in eng.history("aud", iid)
                if e["kind"] == kind and (task is None or e["task"] == task))


def test_a_finished_instance_replays_as_verified(approved):
    approval, iid = approved
    assert approval.instance("aud", iid)["status"] == "completed"
    result = approval.replay(iid)
    assert result.verified, result.first_mismatch
    assert result.first_mismatch is None
    assert result.steps == len(approval.history("aud", iid))


def test_a_rejected_instance_replays_as_verified(approval):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", first(approval, "mgr", iid, "approve"), {"approved": False, "comment": "价格不符"})
    assert approval.instance("aud", iid)["status"] == "completed"
    assert approval.replay(iid).verified


def test_a_running_and_a_cancelled_instance_replay_as_verified(approval):
    running = approval.start("rep", "approval", dict(REQUEST))
    cancelled = approval.start("rep", "approval", dict(REQUEST))
    approval.claim("mgr", first(approval, "mgr", cancelled, "approve"))
    approval.cancel("rep", cancelled, "客户撤回")
    assert approval.replay(running).verified
    assert approval.replay(cancelled).verified


def test_state_after_the_started_event(approved):
    approval, iid = approved
    result = approval.replay(iid, step=1)
    assert result.verified
    state = result.state
    assert state["position"] == 1 and state["kind"] == "started" and state["actor"] == "rep"
    assert "approve" in state["active"]
    assert "archive" not in state["active"] and "archive" not in state["completed"]
    assert state["data"]["customer_name"] == "华东客户"
    assert state["data"]["amount_yuan"] == 20000
    assert state["data"]["level"] == "high"  # the script task ran in the start step
    assert state["finished"] is False


def test_state_after_the_approval(approved):
    approval, iid = approved
    step = position_of(approval, iid, "completed", "approve")
    state = approval.replay(iid, step=step).state
    assert state["position"] == step and state["task"] == "approve" and state["actor"] == "mgr"
    assert "archive" in state["active"]
    assert "approve" not in state["active"] and "approve" in state["completed"]
    assert state["data"]["approved"] is True and state["data"]["comment"] == "同意"
    assert "archive_no" not in state["data"]
    assert state["finished"] is False


def test_state_at_the_end(approved):
    approval, iid = approved
    last = len(approval.history("aud", iid))
    state = approval.replay(iid, step=last).state
    assert state["finished"] is True and state["active"] == []
    assert state["data"]["archive_no"] == "GD-2026-001"
    assert "end_ok" in state["completed"]


def test_each_step_matches_the_trail(approved):
    """The state after each step has exactly the tasks the trail says are open by then."""
    approval, iid = approved
    history = approval.history("aud", iid)
    opened: set[str] = set()
    for event in history:
        if event["kind"] == "task_ready":
            opened.add(event["task"])
        if event["kind"] == "completed":
            opened.discard(event["task"])
        state = approval.replay(iid, step=event["position"]).state
        assert state["position"] == event["position"]
        if event["kind"] in ("task_ready", "completed", "ended"):
            assert opened <= set(state["active"]), (event, state)


def test_a_step_beyond_the_trail_gives_no_state(approved):
    approval, iid = approved
    result = approval.replay(iid, step=999)
    assert result.verified and result.state is None


def test_an_instance_with_a_fired_timer_replays_as_verified(approval, clock):
    iid = escalated_run(approval, clock)
    assert approval.instance("aud", iid)["status"] == "completed"
    result = approval.replay(iid)
    assert result.verified, result.first_mismatch
    fired_at = position_of(approval, iid, "task_ready", "escalation")
    state = approval.replay(iid, step=fired_at).state
    assert {"approve", "escalation"} <= set(state["active"])
    before = approval.replay(iid, step=position_of(approval, iid, "task_ready", "approve")).state
    assert "escalation" not in before["active"]


def test_replay_checks_who_may_see(approved):
    approval, iid = approved
    assert approval.replay(iid, actor="aud").verified
    with pytest.raises(NotFound):  # as if it did not exist
        approval.replay(iid, actor="rep2")
    with pytest.raises(NotFound):
        approval.replay(iid + 100)


# -- tampering that keeps the hash chain intact -------------------------------------------


def rehash_chain(db_url: str, chain: str) -> None:
    """Recompute every prev_hash/hash of the chain and its head from the stored rows, as a forger would."""
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            rows = conn.execute(text("SELECT id, position, at, actor, kind, task, payload FROM audit_event "
                                     "WHERE chain = :c ORDER BY position"), {"c": chain}).all()
            prev = GENESIS
            for row in rows:
                body = {"chain": chain, "position": row.position, "at": row.at, "actor": row.actor,
                        "kind": row.kind, "task": row.task, "payload": json.loads(row.payload)}
                canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
                conn.execute(text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :i"),
                             {"p": prev, "h": digest, "i": row.id})
                prev = digest
            conn.execute(text("UPDATE audit_chain SET length = :n, head = :h WHERE chain = :c"),
                         {"n": len(rows), "h": prev, "c": chain})
    finally:
        raw.dispose()


def rewrite_payload(db_url: str, iid: int, position: int, change) -> None:
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            chain = f"instance:{iid}"
            payload = json.loads(conn.execute(text("SELECT payload FROM audit_event WHERE chain = :c AND "
                                                   "position = :p"), {"c": chain, "p": position}).scalar_one())
            change(payload)
            conn.execute(text("UPDATE audit_event SET payload = :v WHERE chain = :c AND position = :p"),
                         {"v": json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                          "c": chain, "p": position})
    finally:
        raw.dispose()
    rehash_chain(db_url, chain)


def test_forged_decision_with_a_consistent_chain_is_caught_by_replay(approved, db_url):
    approval, iid = approved
    step = position_of(approval, iid, "completed", "approve")

    def forge(payload: dict) -> None:
        payload["data"] = {"approved": True, "comment": "同意，金额可上调"}  # a different comment

    rewrite_payload(db_url, iid, step, forge)

    [chain] = list(approval.verify_chains(iid))
    assert chain.ok, chain.describe()  # the forger recomputed the hashes: the chain alone is fooled
    result = approval.replay(iid)
    assert not result.verified
    assert result.first_mismatch.position == step
    assert result.first_mismatch.kind == "completed"


def test_forged_rejection_turned_into_approval_is_caught_by_replay(approval, db_url):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", first(approval, "mgr", iid, "approve"), {"approved": False, "comment": "不批"})
    step = position_of(approval, iid, "completed", "approve")

    def forge(payload: dict) -> None:
        payload["data"] = {"approved": True}

    rewrite_payload(db_url, iid, step, forge)
    assert all(r.ok for r in approval.verify_chains(iid))
    result = approval.replay(iid)
    assert not result.verified and result.first_mismatch.position == step


def test_forged_derived_event_is_caught_by_replay(approved, db_url):
    """A recorded consequence (who the archive task went to) that the definition would not produce."""
    approval, iid = approved
    step = position_of(approval, iid, "task_ready", "archive")

    def forge(payload: dict) -> None:
        payload["assignee"] = "rep2"

    rewrite_payload(db_url, iid, step, forge)
    assert all(r.ok for r in approval.verify_chains(iid))
    result = approval.replay(iid)
    assert not result.verified and result.first_mismatch.position == step


def alter_actor(db_url: str, iid: int, position: int = 3) -> None:
    """Change who did one recorded event, behind the engine's back (as someone with database access could)."""
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.execute(text("UPDATE audit_event SET actor = 'mgr2' WHERE chain = :c AND position = :p"),
                         {"c": f"instance:{iid}", "p": position})
    finally:
        raw.dispose()


def test_a_broken_chain_does_not_replay(approved, db_url):
    approval, iid = approved
    alter_actor(db_url, iid)
    result = approval.replay(iid)
    assert not result.verified
    assert result.first_mismatch.position == 3 and result.first_mismatch.kind == "chain"
