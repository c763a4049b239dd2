"""P1 presale: inquiries running on the version before the price list (tests/fixtures/legacy/presale: the
diagram, its decision table, its forms and the P5/P6 it calls, as they were on main before issue 12)
move to the new version where they can.

An inquiry that has not reached the quotation moves, and is then quoted from the price list. One that
waits at the quotation, a discount approval or the outcome cannot move: the new forms ask for what the old
ones did not have (the item instead of a typed price; the reviewer's finding on a quote without authority;
the day the customer decided), and the plan names that element. Those finish on the old version.
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    company_day,
    do,
    events,
)
from tests.scenarios.presale_steps import KEY, NO_UNAUTHORISED_QUOTE, PRICE_LIST, inquiry, needs, quotation

LEGACY = FIXTURES / "legacy" / "presale"
OWNER = "owner1"


@pytest.fixture
def legacy(engine: Engine) -> Engine:
    deployed = {(d.key, d.version) for d in engine.deploy("system", [LEGACY])}
    assert (KEY, 1) in deployed
    add_users(engine, {**PEOPLE, OWNER: ["process_owner"]})
    return engine


def version_of(eng: Engine, iid: int) -> int:
    return eng.instance(AUDITOR, iid)["version"]


def test_inquiries_before_the_quotation_move_to_the_price_list_version_the_others_say_why_not(legacy, clock):
    eng = legacy
    waiting = eng.start("rep1", KEY, inquiry("key_account"), business_key="XS-OLD-1")  # at the needs analysis
    quoting = eng.start("rep1", KEY, inquiry("key_account"), business_key="XS-OLD-2")
    do(eng, "rep1", "analyse_needs", needs(), quoting)  # at the quotation
    approving = eng.start("rep2", KEY, inquiry("local"), business_key="XS-OLD-3")
    do(eng, "rep2", "analyse_needs", needs(), approving)
    old_quotation = {"list_price_yuan": 430, "quantity_t": 200, "discount_pct": 2, "discount_reason": "老客户"}
    do(eng, "rep2", "prepare_quotation", old_quotation, approving)  # at the manager's approval

    deployed = {d.key: d for d in eng.deploy("system", [ROOT / "processes", ROOT / "forms"])}
    assert (deployed[KEY].version, deployed[KEY].status) == (2, "deployed")
    eng.import_prices("dir", PRICE_LIST.read_bytes(), PRICE_LIST.name)

    plan = {p["instance_id"]: p for p in eng.migration_plan(OWNER, KEY, 2)}
    assert (plan[waiting]["movable"], plan[waiting]["reasons"]) == (True, [])
    assert not plan[quoting]["movable"]
    [why] = plan[quoting]["reasons"]
    assert why.startswith("prepare_quotation: form presale_quotation of version 2 requires ")
    asked = why.split("requires ")[1].split(", which")[0].split(", ")
    assert {"product", "spec", "grade", "quantity", "quotation_no"} <= set(asked)
    assert sorted(plan[approving]["reasons"]) == [
        "manager_discount_approval: form presale_manager_discount_approval of version 2 requires "
        "authority_finding, quoted_without_authority, which the form of version 1 did not have",
        "manager_discount_approval: the instance is at this element (ready), which gains boundary events "
        "(a deadline, a reminder) in version 2; it can move once it is past it"]

    moved = eng.migrate(OWNER, KEY, 2)
    assert moved["migrated"] == [waiting]
    assert {s["instance_id"] for s in moved["skipped"]} == {quoting, approving}
    assert [version_of(eng, i) for i in (waiting, quoting, approving)] == [2, 1, 1]

    # the moved inquiry is quoted from the price list and ends won, on version 2
    do(eng, "rep1", "analyse_needs", needs(), waiting)
    do(eng, "rep1", "prepare_quotation", quotation(399), waiting)
    assert eng.instance(AUDITOR, waiting)["data"]["list_price_yuan"] == 420
    do(eng, "mgr1", "manager_discount_approval", {"approved": True, **NO_UNAUTHORISED_QUOTE}, waiting)
    do(eng, "rep1", "record_outcome", {"outcome": "won", "outcome_date": company_day(clock.now())}, waiting)
    inst = eng.instance(AUDITOR, waiting)
    assert (inst["status"], inst["outcome"], inst["version"]) == ("completed", "won", 2)
    [sent] = events(eng, waiting, "message_sent")
    assert sent["payload"]["payload"]["quotation_no"] == "BJ-2026-0031"
    assert [e["payload"]["to_version"] for e in events(eng, waiting, "migrated")] == [2]
    assert_audit_intact(eng, waiting)

    # the ones that stayed finish on version 1 as they began: a typed price, no price list
    do(eng, "rep1", "prepare_quotation", {"list_price_yuan": 420, "quantity_t": 100, "discount_pct": 0}, quoting)
    do(eng, "rep1", "record_outcome", {"outcome": "lost", "lost_reason": "客户暂缓"}, quoting)
    do(eng, "mgr1", "manager_discount_approval", {"approved": True}, approving)
    do(eng, "rep2", "record_outcome", {"outcome": "won"}, approving)
    for iid, outcome in ((quoting, "lost"), (approving, "won")):
        inst = eng.instance(AUDITOR, iid)
        assert (inst["status"], inst["outcome"], inst["version"]) == ("completed", outcome, 1)
        assert_audit_intact(eng, iid)


def test_an_inquiry_waiting_for_its_outcome_stays_on_the_old_version(legacy, clock):
    """Version 2 asks the day the customer decided: an old inquiry at its outcome cannot be asked for
    more than its form had, and the won message of version 2 needs the item, which it never named."""
    eng = legacy
    iid = eng.start("rep1", KEY, inquiry("key_account"))
    do(eng, "rep1", "analyse_needs", needs(), iid)
    do(eng, "rep1", "prepare_quotation", {"list_price_yuan": 420, "quantity_t": 100, "discount_pct": 0}, iid)
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    [plan] = eng.migration_plan(OWNER, KEY, 2)
    assert plan["reasons"] == ["record_outcome: form presale_outcome of version 2 requires outcome_date, "
                               "which the form of version 1 did not have"]
