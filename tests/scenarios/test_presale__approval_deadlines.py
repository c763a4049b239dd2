"""P1 presale: every discount approval is due one working day after it is offered (our own choice: the
rules give no deadline); when it is late, the next level up gets a follow-up task while the approval
stays where it is: the sales manager's goes to the sales director, the director's to the sales vice
president, the vice president's to the general manager. The case still ends won or lost by its own path.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from engine import Engine
from engine.errors import InvalidData
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    company_day,
    do,
    end_events,
    events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    trail,
)
from tests.scenarios.presale_steps import (
    NO_UNAUTHORISED_QUOTE,
    deploy_sales,
    open_names,
    quotation,
    reach_quotation,
)

FRIDAY_AFTERNOON = local_time("2026-03-06", "15:00")
MONDAY_AFTERNOON = local_time("2026-03-09", "15:00")
# (unit price against the list's 420 for a key account, the approval, its role, the follow-up, who follows up)
LEVELS = [
    (399, "manager_discount_approval", "sales_manager", "manager_approval_reminder", "sales_director", "mgr1"),
    (390, "director_discount_approval", "sales_director", "director_approval_reminder", "sales_vp", "dir"),
    (360, "vp_discount_approval", "sales_vp", "vp_approval_reminder", "general_manager", "vp1"),
]


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


def due(eng: Engine, iid: int, name: str) -> datetime:
    [task] = [t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == name]
    return datetime.fromisoformat(task["due_at"])


@pytest.mark.rule("P1.DUE")
@pytest.mark.rule("P1.6a")
@pytest.mark.parametrize(("price", "approval", "role", "reminder", "next_level", "approver"), LEVELS,
                         ids=["manager", "director", "vice_president"])
def test_a_late_discount_approval_is_followed_up_by_the_next_level_and_the_deal_still_ends_won(
        sales, clock, price, approval, role, reminder, next_level, approver):
    eng, starter = sales, "rep1"
    clock.set(FRIDAY_AFTERNOON)
    iid = reach_quotation(eng, starter, business_key="XS-2026-0077")
    do(eng, starter, "prepare_quotation", quotation(price), iid)
    assert offered_to(eng, approval, iid) == holders(role)
    assert due(eng, iid, approval) == MONDAY_AFTERNOON  # one working day: the weekend does not count

    clock.set(local_time("2026-03-09", "14:59"))
    assert eng.fire_due_timers() == 0
    assert offered_to(eng, reminder, iid) == set()
    clock.set(local_time("2026-03-09", "15:01"))
    assert eng.fire_due_timers() == 1
    assert offered_to(eng, reminder, iid) == holders(next_level)
    assert offered_to(eng, approval, iid) == holders(role)  # the approval stays with its approver
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["payload"]["attached_to"], escalated["payload"]["interrupting"]) == (approval, False)

    do(eng, approver, approval, {"approved": True, **NO_UNAUTHORISED_QUOTE}, iid)
    do(eng, starter, "record_outcome", {"outcome": "won", "outcome_date": company_day(clock.now())}, iid)
    [sent] = events(eng, iid, "message_sent")  # P2 starts at once, the follow-up does not hold it back
    assert len(sent["payload"]["started"]) == 1
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], open_names(eng, iid)) == ("running", {reminder})

    who = sorted(holders(next_level))[0]
    clock.advance(hours=1)
    do(eng, who, reminder, {f"{reminder}_noted": True, f"{reminder}_comment": "已督促，当日审批"}, iid)
    inst = eng.instance(AUDITOR, iid)
    # the case ends when the follow-up is done too, at the follow-up's end, which decides nothing: still won
    assert (inst["status"], inst["outcome"]) == ("completed", "won")
    assert end_events(eng, iid) == [reminder.replace("approval_reminder", "reminder_handled")]
    assert ("completed", reminder) in trail(eng, iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P1.DUE")
def test_a_discount_decided_within_the_working_day_asks_nobody_to_follow_up(sales, clock):
    eng = sales
    clock.set(FRIDAY_AFTERNOON)
    iid = reach_quotation(eng, "rep1")
    do(eng, "rep1", "prepare_quotation", quotation(399), iid)
    clock.set(local_time("2026-03-09", "14:00"))
    do(eng, "mgr2", "manager_discount_approval", {"approved": True, **NO_UNAUTHORISED_QUOTE}, iid)
    clock.set(local_time("2026-03-10", "09:00"))
    assert eng.fire_due_timers() == 0
    assert events(eng, iid, "escalated") == []
    for name in ("manager_approval_reminder", "director_approval_reminder", "vp_approval_reminder"):
        assert offered_to(eng, name, iid) == set()
    assert open_names(eng, iid) == {"record_outcome"}
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P1.DUE")
def test_the_follow_up_must_be_confirmed(sales, clock):
    eng = sales
    iid = reach_quotation(eng, "rep1")
    do(eng, "rep1", "prepare_quotation", quotation(399), iid)
    clock.advance(days=1, minutes=1)
    assert eng.fire_due_timers() == 1
    task = inbox_task(eng, "dir", "manager_approval_reminder", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("dir", task["id"], {"manager_approval_reminder_noted": False})
    assert refused.value.fields == {"manager_approval_reminder_noted": {
        "zh": "请确认已知悉并督办", "en": "Please confirm that you have followed it up"}}
