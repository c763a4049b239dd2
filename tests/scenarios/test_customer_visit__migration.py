"""P6 customer_visit: running instances and the version with the approval deadlines (issue 12).

tests/fixtures/legacy/customer_visit.bpmn is the process as it was on main before the deadlines (its
decision table and forms are unchanged). A request waiting for its approval cannot take on the new
boundary timers of that approval: the dry run names the approval and it finishes on the old version;
a request already approved moves, and a waiting timer keeps its deadline.
"""

from __future__ import annotations

from engine import Engine
from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import PEOPLE, assert_audit_intact, do, holders, local_time, offered_to, open_task
from tests.scenarios.test_customer_visit__paths import RECEPTION, VISIT_DAY, visit_form

KEY = "customer_visit"
OWNER = "owner"
RECORDED = {"visit_summary": "参观顺利", "followup_needed": False}


def bundle(bpmn) -> list:
    return [bpmn, ROOT / "processes" / "visit_approval.dmn", *sorted((ROOT / "forms").glob(f"{KEY}_*.yaml"))]


def test_approved_requests_move_those_awaiting_approval_finish_on_the_old_version(engine: Engine, clock):
    eng = engine
    [old] = eng.deploy("system", bundle(FIXTURES / "legacy" / f"{KEY}.bpmn"))
    assert (old.key, old.version) == (KEY, 1)
    add_users(eng, {**PEOPLE, OWNER: ["process_owner"]})
    awaiting = eng.start("rep1", KEY, visit_form("key_account"))
    reception = eng.start("rep1", KEY, visit_form("local"))
    do(eng, "lead", "leader_approval", {"approved": True}, reception)
    waiting_day = eng.start("rep2", KEY, visit_form("key_account"))
    do(eng, "mgr1", "sales_approval", {"approved": True}, waiting_day)
    do(eng, "rep2", "arrange_reception", RECEPTION, waiting_day)

    [new] = eng.deploy("system", bundle(ROOT / "processes" / f"{KEY}.bpmn"))
    assert (new.key, new.version, new.status) == (KEY, 2, "deployed")
    plan = {p["instance_id"]: p for p in eng.migration_plan(OWNER, KEY, 2)}
    assert {i: p["movable"] for i, p in plan.items()} == {awaiting: False, reception: True, waiting_day: True}
    assert [r.split(":")[0] for r in plan[awaiting]["reasons"]] == ["sales_approval"]
    moved = eng.migrate(OWNER, KEY, 2)
    assert (moved["migrated"], [s["instance_id"] for s in moved["skipped"]]) == ([reception, waiting_day],
                                                                                [awaiting])

    # left on version 1: no deadline, no lapse; the visit goes ahead once approved
    assert open_task(eng, awaiting, "sales_approval")["due_at"] is None
    clock.set(local_time(VISIT_DAY, "00:01"))
    assert eng.fire_due_timers() == 1  # the reception of `reception` was not arranged by 09:00 the day before
    assert offered_to(eng, "reception_overdue_reminder", reception) == holders("sales_manager")
    assert eng.instance("aud", awaiting)["status"] == "running"
    do(eng, "mgr2", "sales_approval", {"approved": True}, awaiting)
    do(eng, "mgr2", "reception_overdue_reminder", {"reminder_acknowledged": True}, awaiting)  # late: at once
    do(eng, "rep1", "arrange_reception", RECEPTION, awaiting)
    do(eng, "rep1", "arrange_reception", RECEPTION, reception)
    do(eng, "mgr1", "reception_overdue_reminder", {"reminder_acknowledged": True}, reception)
    # the moved instance's visit-day timer kept its deadline (18:00 on the visit day)
    clock.set(local_time(VISIT_DAY, "18:01"))
    assert eng.fire_due_timers() == 3
    for iid, starter in ((awaiting, "rep1"), (reception, "rep1"), (waiting_day, "rep2")):
        do(eng, starter, "record_visit", RECORDED, iid)

    for iid, version in ((awaiting, 1), (reception, 2), (waiting_day, 2)):
        inst = eng.instance("aud", iid)
        assert (inst["status"], inst["version"], inst["outcome"]) == ("completed", version, "approved"), iid
        assert_audit_intact(eng, iid)
