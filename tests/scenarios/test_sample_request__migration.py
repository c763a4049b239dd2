"""P5 sample_request: running instances and the version with deadlines (issue 12).

tests/fixtures/legacy/sample_request.bpmn is the process as it was on main before the deadlines (its
decision table and forms are unchanged). An instance waiting at an approval cannot take on the new
boundary timer of that approval: the dry run names the approval and the instance finishes on the old
version; an instance past the approvals moves and finishes on the new one.
"""

from __future__ import annotations

from engine import Engine
from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import PEOPLE, assert_audit_intact, do, offered_to, open_task
from tests.scenarios.test_sample_request__paths import FEEDBACK, SAMPLING, SHIPPED, request

KEY = "sample_request"
OWNER = "owner"


def bundle(bpmn) -> list:
    return [bpmn, ROOT / "processes" / "sample_routing.dmn", *sorted((ROOT / "forms").glob(f"{KEY}_*.yaml"))]


def test_instances_past_the_approvals_move_those_at_an_approval_finish_on_the_old_version(engine: Engine, clock):
    eng = engine
    [old] = eng.deploy("system", bundle(FIXTURES / "legacy" / f"{KEY}.bpmn"))
    assert (old.key, old.version) == (KEY, 1)
    add_users(eng, {**PEOPLE, OWNER: ["process_owner"]})
    at_sales = eng.start("rep1", KEY, request("key_account"))
    at_leader = eng.start("rep1", KEY, request("local"))
    do(eng, "qa1", "quality_countersign", {"approved": True}, at_leader)
    sampling = eng.start("rep2", KEY, request("key_account"))
    do(eng, "mgr1", "sales_approval", {"approved": True}, sampling)
    do(eng, "qa1", "quality_approval", {"approved": True}, sampling)
    feedback = eng.start("rep2", KEY, request("local"))
    do(eng, "qa2", "quality_countersign", {"approved": True}, feedback)
    do(eng, "lead", "leader_approval", {"approved": True}, feedback)
    do(eng, "qa2", "take_sample", SAMPLING, feedback)
    do(eng, "rep1", "sales_ship", SHIPPED, feedback)

    [new] = eng.deploy("system", bundle(ROOT / "processes" / f"{KEY}.bpmn"))
    assert (new.key, new.version, new.status) == (KEY, 2, "deployed")
    plan = {p["instance_id"]: p for p in eng.migration_plan(OWNER, KEY, 2)}
    assert {i: p["movable"] for i, p in plan.items()} == {at_sales: False, at_leader: False, sampling: True,
                                                           feedback: True}
    assert plan[at_sales]["reasons"] == [
        "sales_approval: the instance is at this element (ready), which gains boundary events (a deadline, "
        "a reminder) in version 2; it can move once it is past it"]
    assert [r.split(":")[0] for r in plan[at_leader]["reasons"]] == ["leader_approval"]

    moved = eng.migrate(OWNER, KEY, 2)
    assert moved["migrated"] == [sampling, feedback]
    assert [s["instance_id"] for s in moved["skipped"]] == [at_sales, at_leader]

    # moved: they finish on version 2
    do(eng, "qa2", "take_sample", SAMPLING, sampling)
    do(eng, "disp", "dispatch_ship", SHIPPED, sampling)
    do(eng, "rep2", "collect_feedback", FEEDBACK, sampling)
    do(eng, "rep2", "collect_feedback", FEEDBACK, feedback)
    # left on version 1: their approvals work as before, without a deadline
    assert open_task(eng, at_sales, "sales_approval")["due_at"] is None
    clock.advance(days=3)
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, "sales_approval_escalation") == set()
    do(eng, "mgr2", "sales_approval", {"approved": False, "comment": "样品库存不足"}, at_sales)
    do(eng, "lead", "leader_approval", {"approved": False, "comment": "本月样品预算已用完"}, at_leader)

    for iid, version, outcome in ((sampling, 2, "approved"), (feedback, 2, "approved"), (at_sales, 1, "rejected"),
                                  (at_leader, 1, "rejected")):
        inst = eng.instance("aud", iid)
        assert (inst["status"], inst["version"], inst["outcome"]) == ("completed", version, outcome), iid
        assert_audit_intact(eng, iid)
