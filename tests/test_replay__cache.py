"""Replay cache: a second view of an instance's history is served from memory, never a stale or forged one."""

from __future__ import annotations

import pytest

import engine.facade.audit as facade_audit
from engine import Engine
from engine.errors import NotFound
from engine.replay_cache import ReplayCache
from tests.test_replay__steps import REQUEST, alter_actor, approved_run, first, rewrite_payload


@pytest.fixture
def replays(monkeypatch) -> list[int]:
    """The length of every chain actually replayed through SpiffWorkflow, in order."""
    calls: list[int] = []
    real = facade_audit.replay

    def spy(specs, started_by, events, *args, **kwargs):
        calls.append(len(events))
        return real(specs, started_by, events, *args, **kwargs)

    monkeypatch.setattr(facade_audit, "replay", spy)
    return calls


def test_a_second_view_gives_the_same_states_without_replaying(approval, replays):
    iid = approved_run(approval)
    first_view = approval.replay(iid, actor="aud", states=True)
    second_view = approval.replay(iid, actor="aud", states=True)
    assert first_view.verified and len(first_view.states) == first_view.steps
    assert second_view == first_view
    assert len(replays) == 1


def test_changing_a_returned_view_does_not_change_the_next(approval, replays):
    iid = approved_run(approval)
    view = approval.replay(iid, states=True)
    view.states[0]["data"]["amount_yuan"] = 1
    view.states.clear()
    again = approval.replay(iid, states=True)
    assert again.states[0]["data"]["amount_yuan"] == REQUEST["amount_yuan"]
    assert len(again.states) == again.steps and len(replays) == 1


def test_the_verify_button_and_each_step_are_answered_as_a_fresh_replay_would(approval, db_url, clock, replays):
    iid = approved_run(approval)
    approval.replay(iid, states=True)  # the history page's slider
    fresh = Engine(db_url, clock=clock)
    fresh.replays = ReplayCache(0)  # keeps nothing: every answer is a new replay
    try:
        steps = approval.replay(iid).steps
        assert approval.replay(iid) == fresh.replay(iid)
        for step in range(1, steps + 2):
            assert approval.replay(iid, step=step) == fresh.replay(iid, step=step), step
    finally:
        fresh.db.dispose()
    assert replays.count(steps) == 1 + 1 + steps + 1  # this engine once; the fresh one every time


def test_after_a_new_command_the_next_view_has_the_new_step(approval, replays):
    iid = approval.start("rep", "approval", dict(REQUEST))
    before = approval.replay(iid, actor="aud", states=True)
    approval.complete("mgr", first(approval, "mgr", iid, "approve"), {"approved": True, "comment": "同意"})
    after = approval.replay(iid, actor="aud", states=True)
    assert after.verified and after.steps > before.steps
    assert after.states[: before.steps] == before.states
    assert "approve" in after.states[-1]["completed"]
    assert len(replays) == 2


def test_an_event_altered_after_a_cached_view_is_still_reported(approval, db_url):
    iid = approved_run(approval)
    assert approval.replay(iid, states=True).verified
    alter_actor(db_url, iid)
    for states in (True, False):
        result = approval.replay(iid, states=states)
        assert not result.verified and result.states == []
        assert result.first_mismatch.position == 3 and result.first_mismatch.kind == "chain"


def test_a_forged_and_rehashed_chain_after_a_cached_view_is_replayed_and_caught(approval, db_url, replays):
    iid = approved_run(approval)
    assert approval.replay(iid, states=True).verified
    step = next(e["position"] for e in approval.history("aud", iid) if e["kind"] == "completed")

    def forge(payload: dict) -> None:
        payload["data"] = {"approved": True, "comment": "同意，金额可上调"}

    rewrite_payload(db_url, iid, step, forge)
    for _ in range(2):  # a failed replay is never kept: the second view replays and fails again
        result = approval.replay(iid, states=True)
        assert not result.verified and result.first_mismatch.position == step
    assert len(replays) == 3


def test_another_engine_changing_the_instance_is_seen(approval, db_url, clock):
    iid = approval.start("rep", "approval", dict(REQUEST))
    other = Engine(db_url, clock=clock)
    try:
        seen = other.replay(iid, actor="aud", states=True)
        approval.complete("mgr", first(approval, "mgr", iid, "approve"), {"approved": True, "comment": "同意"})
        now = other.replay(iid, actor="aud", states=True)
        assert now.verified and now.steps > seen.steps
        assert now.steps == len(approval.history("aud", iid))
        assert "approve" in now.states[-1]["completed"]
    finally:
        other.db.dispose()


def test_a_cached_view_still_checks_who_may_see(approval, replays):
    iid = approved_run(approval)
    assert approval.replay(iid, actor="aud", states=True).verified
    with pytest.raises(NotFound):
        approval.replay(iid, actor="rep2", states=True)
    assert len(replays) == 1
