"""Issue 17: a command reuses the workflow its instance's last command saved in this process, and only
when the database still holds exactly that state; whatever else changed the instance (another engine
on the same database, a rolled-back step) makes it restore the state from the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine import Engine
from engine.errors import ProcessError
from engine.process import workflow as workflow_mod
from engine.runtime.warm_workflows import WarmWorkflows
from tests.test_runtime__concurrency import REQUEST, assert_consistent, open_task


@pytest.fixture
def restores(monkeypatch) -> list[int]:
    """One entry per state restored from the database by any engine of the test."""
    calls: list[int] = []
    real = workflow_mod.load

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow_mod, "load", counted)
    return calls


def test_the_next_command_on_an_instance_reuses_the_saved_workflow(approval, restores):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})
    approval.complete("rep", open_task(approval, iid, "archive")["id"], {"archive_no": "A-1"})

    assert restores == []  # started, approved and archived on the workflow kept from each step
    assert approval.instance("adm", iid)["status"] == "completed"
    assert approval.replay(iid).verified  # what was kept ran exactly as a restored state would have


def test_a_change_by_another_engine_makes_the_state_restored(approval, db_url, clock, restores):
    iid = approval.start("rep", "approval", dict(REQUEST))
    other = Engine(db_url, clock=clock)
    try:
        approve = open_task(approval, iid, "approve")["id"]
        other.complete("mgr", approve, {"approved": True})  # `approval` still keeps the state from its start
        assert len(restores) == 1  # the other engine had nothing kept

        approval.complete("rep", open_task(approval, iid, "archive")["id"], {"archive_no": "A-2"})
    finally:
        other.db.dispose()

    assert len(restores) == 2  # the kept workflow was from before the approval: restored instead
    view = approval.instance("adm", iid)
    assert view["status"] == "completed" and view["data"]["approved"] is True
    assert_consistent(approval, iid)


def test_a_state_changed_behind_the_engine_is_restored_not_reused(approval, db_url, restores):
    iid = approval.start("rep", "approval", dict(REQUEST))
    with approval.db.write() as s:  # as a migration or an administrator's repair would, without this cache
        state = s.execute(text("SELECT state_json FROM instance WHERE id = :i"), {"i": iid}).scalar()
        s.execute(text("UPDATE instance SET state_json = :s WHERE id = :i"), {"s": state + " ", "i": iid})

    approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})

    assert len(restores) == 1


def test_a_step_that_failed_keeps_nothing(approval, restores, monkeypatch):
    iid = approval.start("rep", "approval", dict(REQUEST))
    approve = open_task(approval, iid, "approve")["id"]

    def fail(*_args, **_kwargs):
        raise ProcessError("the notification could not be written")

    with monkeypatch.context() as patch:  # fails after the step saved its state, inside its transaction
        patch.setattr("engine.runtime.step.notify.after_step", fail)
        with pytest.raises(ProcessError):
            approval.complete("mgr", approve, {"approved": True})

    approval.complete("mgr", approve, {"approved": True})

    assert len(restores) == 1  # the failed step took the kept workflow and kept none: restored once
    assert_consistent(approval, iid)


def test_kept_workflows_stay_within_their_budget(engine):
    cache = WarmWorkflows(budget=10)
    with engine.db.write() as s:
        cache.keep_on_commit(s, 1, "a" * 4, "wf1")
        cache.keep_on_commit(s, 2, "b" * 4, "wf2")
        cache.keep_on_commit(s, 3, "c" * 11, "too big")  # larger than the whole budget: never kept
    with engine.db.write() as s:
        cache.keep_on_commit(s, 4, "d" * 4, "wf4")  # 12 characters in all: the oldest goes

    assert cache.take(1, "a" * 4) is None
    assert cache.take(3, "c" * 11) is None
    assert (cache.take(2, "b" * 4), cache.take(4, "d" * 4)) == ("wf2", "wf4")
    assert cache.take(2, "b" * 4) is None  # taken: a second command on it restores


def test_nothing_is_kept_from_a_rolled_back_savepoint_or_transaction(engine):
    cache = WarmWorkflows(budget=100)
    with engine.db.write() as s:
        with s.begin_nested():
            cache.keep_on_commit(s, 1, "kept", "wf1")  # released: kept once the whole transaction commits
        savepoint = s.begin_nested()
        cache.keep_on_commit(s, 2, "gone", "wf2")
        savepoint.rollback()
    with pytest.raises(RuntimeError), engine.db.write() as s:
        cache.keep_on_commit(s, 3, "gone", "wf3")
        raise RuntimeError("the command failed")

    assert cache.take(2, "gone") is None and cache.take(3, "gone") is None
    # a rollback drops every pending entry of the session, the released savepoint's too: restoring costs
    # time, never correctness
    assert cache.take(1, "kept") is None
