"""The KPI sections read the completions of every instance of a process in the range (engine/kpi/records.py): a
busy year can hold more instances than one statement may bind ids (PostgreSQL 65,535; SQLite 32,766, or 250,000
as Debian builds it), so the ids are asked in batches, and what comes back is the same as one statement's, each
instance's completions in order; the instances come without their saved workflow state."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import InvalidRequestError

from engine.kpi import records

FAR = 10**9  # ids no instance has
MORE_THAN_BINDS = {"sqlite": 260_000, "postgresql": 70_000}


def _completed(engine) -> tuple[int, int]:
    first = engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    [task] = engine.inbox("mgr")
    engine.complete("mgr", task["id"], {"approved": True})
    [archive] = engine.inbox("rep")
    engine.complete("rep", archive["id"], {"archive_no": "A-1"})
    second = engine.start("rep", "approval", {"customer_name": "Beta", "amount_yuan": 20000})
    [task] = engine.inbox("mgr")
    engine.complete("mgr", task["id"], {"approved": False, "comment": "too dear"})
    return first, second


def test_more_ids_than_one_statement_binds_are_read_in_batches(approval):
    first, second = _completed(approval)
    more = MORE_THAN_BINDS["sqlite" if approval.db.is_sqlite else "postgresql"]
    ids = [first, *range(FAR, FAR + more), second]  # the two real ones in different batches
    with approval.db.read() as s:
        found = records.completions(s, ids, ["approve", "archive"])
    assert sorted(found) == [first, second]
    assert [(c.task, c.actor, c.data) for c in found[first]] == [
        ("approve", "mgr", {"approved": True}), ("archive", "rep", {"archive_no": "A-1"})]
    assert [(c.task, c.data) for c in found[second]] == [("approve", {"approved": False, "comment": "too dear"})]


def test_batches_keep_every_id_once_in_order():
    assert list(records.batches(range(7), size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(records.batches([], size=3)) == []


def test_the_sections_instances_come_without_their_saved_workflow_state(approval):
    """The sections read every instance of their process (years of appraisals, hazards): their data and dates, never
    the saved workflow state (tens of KB each), which is not loaded and may not be touched."""
    first, second = _completed(approval)
    with approval.db.read() as s:
        found = records.instances(s, "approval")
        assert [i.id for i in found] == [first, second]
        assert records.instance_data(found[0])["customer_name"] == "ACME" and found[1].started_at is not None
        with pytest.raises(InvalidRequestError):
            _ = found[0].state_json
