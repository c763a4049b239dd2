"""Who is offered a task, who may claim, complete, reassign, read and cancel (the `approval` fixture)."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, NotFound
from tests.conftest import add_users

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def start(eng, who: str = "rep") -> int:
    return eng.start(who, "approval", dict(REQUEST))


def open_task(eng, iid: int, name: str) -> dict:
    """The one open task with this BPMN id, seen by the administrator."""
    found = [t for t in eng.instance("adm", iid)["tasks"] if t["name"] == name]
    assert len(found) == 1, f"expected one open {name} task, found {found}"
    return found[0]


def inbox_ids(eng, user: str) -> set[str]:
    return {t["id"] for t in eng.inbox(user)}


def trail_of(eng, iid: int, task_id: str) -> list[dict]:
    """The events about one task (those carrying its task id), in order."""
    return [e for e in eng.history("aud", iid) if e["payload"].get("task_id") == task_id]


def task_row(eng, iid: int, task_id: str) -> dict:
    view = eng.instance("adm", iid)
    [row] = [t for t in view["tasks"] + view["history_tasks"] if t["id"] == task_id]
    return row


# -- offering ------------------------------------------------------------------


def test_manager_task_is_offered_to_every_manager_and_nobody_else(approval):
    iid = start(approval)
    approve = open_task(approval, iid, "approve")
    assert approve["role"] == "sales_manager" and approve["assignee"] is None
    assert approve["id"] in inbox_ids(approval, "mgr")
    assert approve["id"] in inbox_ids(approval, "mgr2")
    for outsider in ("rep", "rep2", "dir", "aud", "adm"):
        assert approve["id"] not in inbox_ids(approval, outsider), outsider


def test_claim_takes_the_task_away_from_the_other_managers(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)

    assert task_id in inbox_ids(approval, "mgr")
    assert task_id not in inbox_ids(approval, "mgr2")
    with pytest.raises(Conflict) as conflict:
        approval.claim("mgr2", task_id)
    assert conflict.value.status == 409
    with pytest.raises(Forbidden) as forbidden:
        approval.complete("mgr2", task_id, {"approved": True})
    assert forbidden.value.status == 403

    row = task_row(approval, iid, task_id)
    assert row["status"] == "ready" and row["assignee"] == "mgr"
    kinds = [(e["kind"], e["actor"]) for e in trail_of(approval, iid, task_id)]
    assert kinds == [("task_ready", "rep"), ("claimed", "mgr")]
    assert not any(e["kind"] == "completed" for e in approval.history("aud", iid))


def test_claiming_twice_by_the_holder_changes_nothing(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    approval.claim("mgr", task_id)
    assert [e["kind"] for e in trail_of(approval, iid, task_id)].count("claimed") == 1


def test_unclaim_offers_the_task_to_every_manager_again(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    approval.unclaim("mgr", task_id)

    assert task_id in inbox_ids(approval, "mgr")
    assert task_id in inbox_ids(approval, "mgr2")
    assert task_row(approval, iid, task_id)["assignee"] is None
    last = trail_of(approval, iid, task_id)[-1]
    assert (last["kind"], last["actor"], last["payload"]["from"]) == ("unclaimed", "mgr", "mgr")
    approval.claim("mgr2", task_id)  # now free for the other manager
    assert task_row(approval, iid, task_id)["assignee"] == "mgr2"


def test_another_manager_cannot_release_a_claimed_task(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    with pytest.raises(Forbidden):
        approval.unclaim("mgr2", task_id)
    assert task_row(approval, iid, task_id)["assignee"] == "mgr"


# -- reassigning -----------------------------------------------------------------


@pytest.mark.parametrize("actor", ["mgr", "mgr2", "rep", "aud"])
def test_reassign_needs_management_rights_over_the_lane(approval, actor):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    with pytest.raises(Forbidden):
        approval.reassign(actor, task_id, "mgr2")
    assert task_row(approval, iid, task_id)["assignee"] == "mgr"
    assert "reassigned" not in [e["kind"] for e in approval.history("aud", iid)]


def test_director_reassigns_a_manager_task_and_the_trail_records_it(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    approval.reassign("dir", task_id, "mgr2")

    assert task_row(approval, iid, task_id)["assignee"] == "mgr2"
    assert task_id in inbox_ids(approval, "mgr2")
    assert task_id not in inbox_ids(approval, "mgr")
    last = trail_of(approval, iid, task_id)[-1]
    assert last["kind"] == "reassigned" and last["actor"] == "dir"
    assert (last["payload"]["from"], last["payload"]["to"]) == ("mgr", "mgr2")

    with pytest.raises(Forbidden):
        approval.complete("mgr", task_id, {"approved": True})
    approval.complete("mgr2", task_id, {"approved": True})
    assert task_row(approval, iid, task_id)["completed_by"] == "mgr2"


def test_reassign_of_an_unclaimed_task_by_the_director(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.reassign("dir", task_id, "mgr")
    assert task_row(approval, iid, task_id)["assignee"] == "mgr"
    assert task_id not in inbox_ids(approval, "mgr2")
    last = trail_of(approval, iid, task_id)[-1]
    assert last["kind"] == "reassigned" and last["payload"]["from"] is None and last["payload"]["to"] == "mgr"


@pytest.mark.parametrize("target", ["rep", "dir", "aud"])
def test_reassign_to_someone_without_the_lane_role_is_forbidden(approval, target):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    with pytest.raises(Forbidden):
        approval.reassign("dir", task_id, target)
    assert task_row(approval, iid, task_id)["assignee"] == "mgr"
    assert task_id not in inbox_ids(approval, target)


# -- separation of duties --------------------------------------------------------------


def test_requester_who_is_also_a_manager_may_not_approve_their_own_request(approval):
    add_users(approval, {"boss": ["sales_rep", "sales_manager"]})
    iid = start(approval, "boss")
    task_id = open_task(approval, iid, "approve")["id"]

    with pytest.raises(Forbidden):
        approval.claim("boss", task_id)
    with pytest.raises(Forbidden):
        approval.complete("boss", task_id, {"approved": True})
    with pytest.raises(Forbidden):
        approval.reassign("dir", task_id, "boss")
    row = task_row(approval, iid, task_id)
    assert row["status"] == "ready" and row["assignee"] is None
    assert [e["kind"] for e in trail_of(approval, iid, task_id)] == ["task_ready"]

    approval.complete("mgr", task_id, {"approved": True})
    row = task_row(approval, iid, task_id)
    assert row["status"] == "completed" and row["completed_by"] == "mgr"


def test_a_manager_may_approve_a_request_someone_else_started(approval):
    add_users(approval, {"boss": ["sales_rep", "sales_manager"]})
    iid = start(approval, "rep")
    task_id = open_task(approval, iid, "approve")["id"]
    approval.complete("boss", task_id, {"approved": True})
    assert task_row(approval, iid, task_id)["completed_by"] == "boss"


# -- the initiator lane ------------------------------------------------------------------


def test_archive_task_goes_to_the_requester_only(approval):
    iid = start(approval, "rep")
    approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})
    archive = open_task(approval, iid, "archive")
    assert archive["role"] == "initiator" and archive["assignee"] == "rep"

    assert archive["id"] in inbox_ids(approval, "rep")
    for other in ("rep2", "mgr", "mgr2", "dir"):
        assert archive["id"] not in inbox_ids(approval, other), other
    with pytest.raises(NotFound):  # rep2 takes no part in rep's request: its tasks do not exist for rep2
        approval.complete("rep2", archive["id"], {"archive_no": "A-1"})
    with pytest.raises(NotFound):
        approval.claim("rep2", archive["id"])
    with pytest.raises(Forbidden):  # mgr did a task of it: may know the task, may not work it
        approval.complete("mgr", archive["id"], {"archive_no": "A-1"})
    with pytest.raises(Conflict):
        approval.unclaim("rep", archive["id"])  # the requester's own task cannot be released
    assert task_row(approval, iid, archive["id"])["assignee"] == "rep"

    approval.complete("rep", archive["id"], {"archive_no": "A-1"})
    assert approval.instance("rep", iid)["status"] == "completed"


def test_archive_task_of_another_requester_is_not_in_my_inbox(approval):
    mine = start(approval, "rep")
    theirs = start(approval, "rep2")
    for iid in (mine, theirs):
        approval.complete("mgr", open_task(approval, iid, "approve")["id"], {"approved": True})
    assert inbox_ids(approval, "rep") == {open_task(approval, mine, "archive")["id"]}
    assert inbox_ids(approval, "rep2") == {open_task(approval, theirs, "archive")["id"]}


# -- completing ----------------------------------------------------------------------------


def test_completing_an_unclaimed_task_claims_it_in_the_same_step(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.complete("mgr", task_id, {"approved": True})

    events = trail_of(approval, iid, task_id)
    assert [(e["kind"], e["actor"]) for e in events] == [("task_ready", "rep"), ("claimed", "mgr"),
                                                          ("completed", "mgr")]
    claimed, completed = events[1], events[2]
    assert completed["position"] == claimed["position"] + 1
    assert claimed["at"] == completed["at"]
    row = task_row(approval, iid, task_id)
    assert (row["status"], row["assignee"], row["completed_by"]) == ("completed", "mgr", "mgr")


def test_completing_a_completed_task_is_a_conflict_and_recorded_once(approval):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.complete("mgr", task_id, {"approved": True})
    rev = approval.instance("adm", iid)["rev"]
    for actor in ("mgr", "mgr2"):
        with pytest.raises(Conflict) as err:
            approval.complete(actor, task_id, {"approved": False, "comment": "again"})
        assert err.value.status == 409
    assert [e["kind"] for e in trail_of(approval, iid, task_id)].count("completed") == 1
    view = approval.instance("adm", iid)
    assert view["rev"] == rev and view["data"]["approved"] is True
    assert [t["name"] for t in view["tasks"]] == ["archive"]


def test_completing_with_invalid_data_changes_nothing(approval):
    from engine.errors import InvalidData

    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    before = approval.history("aud", iid)
    with pytest.raises(InvalidData) as err:
        approval.complete("mgr", task_id, {"approved": False})  # a rejection needs a comment
    assert "comment" in err.value.fields
    assert approval.history("aud", iid) == before
    assert task_row(approval, iid, task_id)["assignee"] is None


# -- reading ------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["rep2", "dir", "fin"])
def test_people_not_involved_cannot_read_the_instance(approval, outsider):
    add_users(approval, {"fin": ["finance"]})
    iid = start(approval)
    with pytest.raises(NotFound, match=f"^no instance {iid}$"):  # the words of a missing instance
        approval.instance(outsider, iid)
    with pytest.raises(NotFound, match=f"^no instance {iid}$"):
        approval.history(outsider, iid)


@pytest.mark.parametrize("reader", ["aud", "adm", "rep", "mgr", "mgr2"])
def test_auditor_admin_requester_and_offered_managers_can_read_the_instance(approval, reader):
    iid = start(approval)
    view = approval.instance(reader, iid)
    assert view["id"] == iid and view["started_by"] == "rep"
    assert view["data"]["customer_name"] == REQUEST["customer_name"]
    assert approval.history(reader, iid)[0]["kind"] == "started"


# -- cancelling ------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["mgr", "rep2", "dir", "aud"])
def test_only_the_requester_or_an_admin_may_cancel(approval, actor):
    iid = start(approval)
    # who sees the instance (mgr: a task of his role waits; the auditor) is refused, the others are told
    # it does not exist
    with pytest.raises(Forbidden if actor in ("mgr", "aud") else NotFound):
        approval.cancel(actor, iid, "not mine")
    assert approval.instance("adm", iid)["status"] == "running"
    assert "cancelled" not in [e["kind"] for e in approval.history("aud", iid)]


def test_requester_cancels_and_the_open_tasks_leave_every_inbox(approval, clock):
    iid = start(approval)
    task_id = open_task(approval, iid, "approve")["id"]
    approval.claim("mgr", task_id)
    approval.cancel("rep", iid, "customer withdrew")

    view = approval.instance("adm", iid)
    assert view["status"] == "cancelled" and view["ended_at"] is not None
    assert view["tasks"] == []
    assert task_row(approval, iid, task_id)["status"] == "cancelled"
    for user in ("mgr", "mgr2", "rep", "dir"):
        assert task_id not in inbox_ids(approval, user)
    kinds = [e["kind"] for e in approval.history("aud", iid)]
    assert "cancelled" in kinds
    assert [e["kind"] for e in trail_of(approval, iid, task_id)][-1] == "task_cancelled"

    with pytest.raises(Conflict):
        approval.complete("mgr", task_id, {"approved": True})
    with pytest.raises(Conflict):
        approval.cancel("rep", iid, "twice")
    clock.advance(hours=48)
    assert approval.fire_due_timers() == 0  # the SLA timer went with the instance
    assert approval.history("aud", iid)[-1]["kind"] == kinds[-1]


def test_admin_may_cancel_someone_elses_instance(approval):
    iid = start(approval)
    approval.cancel("adm", iid, "duplicate")
    assert approval.instance("rep", iid)["status"] == "cancelled"
    assert inbox_ids(approval, "mgr") == set()
