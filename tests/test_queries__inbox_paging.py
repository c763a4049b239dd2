"""The inbox in pages, with separation of duties applied before paging (the `approval` fixture)."""

from __future__ import annotations

import uuid

import pytest

from engine.errors import InvalidData
from engine.store.models import Task
from tests.conftest import add_users

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def _approvals(eng, starters: list[str]) -> list[int]:
    ids = []
    for who in starters:
        ids.append(eng.start(who, "approval", dict(REQUEST)))
        eng.clock.advance(minutes=1)  # distinct created_at: the inbox is oldest first
    return ids


def _open_approve(eng, iid: int) -> Task:
    with eng.db.read() as s:
        return s.query(Task).filter_by(instance_id=iid, bpmn_id="approve", status="ready").one()


def test_pages_follow_the_whole_list_oldest_first(approval):
    _approvals(approval, ["rep", "rep2", "rep", "rep2", "rep"])
    whole = approval.inbox("mgr")
    assert len(whole) == 5
    assert [t["created_at"] for t in whole] == sorted(t["created_at"] for t in whole)
    pages = [approval.inbox("mgr", limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [[t["id"] for t in p] for p in pages] == [[t["id"] for t in whole[i:i + 2]] for i in (0, 2, 4, 6)]
    assert pages[0][0]["customer_name"] == "ACME 贸易" and pages[0][0]["business_key"] is None


def test_own_requests_are_hidden_before_paging(approval):
    add_users(approval, {"boss": ["sales_rep", "sales_manager"]})
    own = _approvals(approval, ["boss", "boss"])
    others = _approvals(approval, ["rep", "rep2"])
    first_page = approval.inbox("boss", limit=2)
    assert [t["instance_id"] for t in first_page] == others  # the two older own requests do not take the page
    assert not {t["instance_id"] for t in approval.inbox("boss")} & set(own)
    assert {t["instance_id"] for t in approval.inbox("mgr", limit=10)} == set(own + others)


def test_whoever_did_an_earlier_step_does_not_see_the_task(approval):
    iid, other = _approvals(approval, ["rep", "rep2"])
    with approval.db.write() as s:
        for instance_id in (iid, other):  # `check_step` done by mgr in the first instance only
            task = s.query(Task).filter_by(instance_id=instance_id, bpmn_id="approve").one()
            task.sod = "initiator check_step"
        earlier = _open_approve(approval, iid)
        s.add(Task(id=str(uuid.uuid4()), instance_id=iid, process_key="approval", bpmn_id="check_step", title="核对",
                   role="sales_manager", assignee="mgr", status="completed", created_at=earlier.created_at,
                   completed_by="mgr", completed_at=earlier.created_at))
    assert [t["instance_id"] for t in approval.inbox("mgr", limit=5)] == [other]
    assert [t["instance_id"] for t in approval.inbox("mgr2", limit=5)] == [iid, other]


def test_an_underscore_in_a_step_id_is_not_a_wildcard(approval):
    [iid] = _approvals(approval, ["rep"])
    with approval.db.write() as s:
        task = s.query(Task).filter_by(instance_id=iid, bpmn_id="approve").one()
        task.sod = "checkXstep"
        s.add(Task(id=str(uuid.uuid4()), instance_id=iid, process_key="approval", bpmn_id="check_step", title="核对",
                   role="sales_manager", assignee="mgr", status="completed", created_at=task.created_at,
                   completed_by="mgr", completed_at=task.created_at))
    assert [t["instance_id"] for t in approval.inbox("mgr")] == [iid]


@pytest.mark.parametrize("limit, offset", [(0, 0), (1001, 0), (10, -1), ("10", 0)])
def test_a_page_outside_the_limits_is_refused(approval, limit, offset):
    with pytest.raises(InvalidData):
        approval.inbox("mgr", limit=limit, offset=offset)


def test_the_counts_per_role_are_the_inbox_rows_per_role_with_separation_of_duties(approval):
    """Engine.inbox_counts (every page's navigation) counts with a statement of its own: it must hide what
    the inbox hides (own requests, an earlier step done, an underscore matching only itself)."""
    add_users(approval, {"boss": ["sales_rep", "sales_manager"]})
    own = _approvals(approval, ["boss", "boss"])
    earlier_done, underscore, plain = _approvals(approval, ["rep", "rep2", "rep"])
    with approval.db.write() as s:
        for iid, sod in ((earlier_done, "initiator check_step"), (underscore, "checkXstep")):
            task = s.query(Task).filter_by(instance_id=iid, bpmn_id="approve").one()
            task.sod = sod
            s.add(Task(id=str(uuid.uuid4()), instance_id=iid, process_key="approval", bpmn_id="check_step",
                       title="核对", role="sales_manager", assignee="mgr", status="completed",
                       created_at=task.created_at, completed_by="mgr", completed_at=task.created_at))
        s.query(Task).filter_by(instance_id=plain, bpmn_id="approve").one().assignee = "mgr2"  # claimed
    expected = {"mgr": {"sales_manager": 3}, "mgr2": {"sales_manager": 5}, "boss": {"sales_manager": 2}}
    for who, counts in expected.items():
        assert approval.inbox_counts(who) == counts
        rows = approval.inbox(who)
        assert approval.inbox_counts(who) == {role: sum(1 for t in rows if t["role"] == role)
                                             for role in {t["role"] for t in rows}}
    assert not {t["instance_id"] for t in approval.inbox("boss")} & set(own)
