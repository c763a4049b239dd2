"""P2 insale: cases running on the version before issue 12 (tests/fixtures/legacy/insale: insale.bpmn, its
contract_review.dmn and forms as they were on main) and the new version.

The dry run says which can move. A case waiting at its draft cannot (the new draft form asks for the
contract quantity, price and model the old one did not have), nor one waiting at an approval that gained
its deadline (a boundary timer: the engine cannot wrap a waiting task in one); the plan names the element.
Those finish on the old version, or move once they are past it. A case at the stock check or at the payment
moves and finishes on the new version. A moved case that is sent back for revision can be withdrawn but not
resubmitted: the new pricing step needs the approved quotation, which an old case never had (seed 399), so
the resubmission is refused naming price_contract and nothing is saved; such a deal goes through presale
again.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.definitions.bundle import load_paths
from engine.errors import ProcessError
from tests.conftest import FIXTURES, T0, add_users
from tests.scenarios.driver import AUDITOR, assert_audit_intact, company_day, events
from tests.scenarios.insale_steps import (
    ARCHIVE_FILES,
    INSALE_FILES,
    KEY,
    STAFF,
    confirm_in_stock,
    deliver,
    do,
    open_names,
    pay,
    task_of,
)

LEGACY = FIXTURES / "legacy" / "insale"
OWNER = "own"
OLD_CONTRACT = {"contract_no": "XS-2026-0301", "customer_name": "巢湖建材", "customer_class": "local",
                "contact": "王工 0551-8881234", "address": "巢湖市中庙路 8 号",
                "order_lines": [{"product": "复合硅酸盐水泥", "spec": "袋装 50kg", "model": "P·C", "grade": "32.5R",
                                 "quantity": 100, "unit_price": 360}],
                "amount_yuan": 36000, "delivery_date": company_day(T0, 30), "delivery_address": "巢湖工地",
                "contract_type": "standard", "template_modified": False, "payment_term_days": 7}


@pytest.fixture
def running(engine: Engine, clock) -> tuple[Engine, dict[str, int]]:
    """Four cases on the old version (started by hand, as it allowed), then the new version deployed."""
    eng = engine
    assert {(d.key, d.version) for d in eng.deploy("system", files=load_paths([LEGACY, *ARCHIVE_FILES]))} >= {
        (KEY, 1)}
    add_users(eng, {**STAFF, OWNER: ["process_owner"]})
    ids = {name: eng.start("rep1", KEY, {"customer_name": "巢湖建材"}) for name in
           ("at_draft", "at_review", "at_stock", "declined_later", "at_payment")}
    for name in ("at_review", "at_stock", "declined_later", "at_payment"):
        do(eng, "rep1", "draft_contract", OLD_CONTRACT, ids[name])
    for name in ("at_stock", "declined_later", "at_payment"):
        do(eng, "mgr1", "manager_verify", {"approved": True}, ids[name])
        do(eng, "audit1", "audit_approval", {"approved": True}, ids[name])
        assert open_names(eng, ids[name]) == {"check_stock"}
    confirm_in_stock(eng, clock, ids["at_payment"])
    assert open_names(eng, ids["at_payment"]) == {"confirm_payment"}
    deployed = {(d.key, d.version, d.status) for d in eng.deploy("system", files=load_paths(
        [*INSALE_FILES, *ARCHIVE_FILES]))}
    assert (KEY, 2, "deployed") in deployed
    return eng, ids


def test_the_dry_run_names_what_keeps_a_case_on_the_old_version(running):
    eng, ids = running
    plan = {p["instance_id"]: p for p in eng.migration_plan(OWNER, KEY, 2)}
    assert {iid: p["movable"] for iid, p in plan.items()} == {
        ids["at_draft"]: False, ids["at_review"]: False, ids["at_stock"]: True, ids["declined_later"]: True,
        ids["at_payment"]: True}
    assert plan[ids["at_draft"]]["reasons"] == [
        "draft_contract: form insale_contract_draft of version 2 requires contract_quantity, "
        "contract_unit_price_yuan, model, which the form of version 1 did not have"]
    assert plan[ids["at_review"]]["reasons"] == [
        "manager_verify: the instance is at this element (ready), which gains boundary events (a deadline, a "
        "reminder) in version 2; it can move once it is past it"]

    result = eng.migrate(OWNER, KEY, 2)
    assert sorted(result["migrated"]) == sorted([ids["at_stock"], ids["declined_later"], ids["at_payment"]])
    assert sorted(s["instance_id"] for s in result["skipped"]) == sorted([ids["at_draft"], ids["at_review"]])
    # the cases that stayed go on as before, on the old version, and can move once past the blocking step
    assert eng.instance(AUDITOR, ids["at_draft"])["version"] == 1
    do(eng, "rep1", "draft_contract", OLD_CONTRACT, ids["at_draft"])
    assert open_names(eng, ids["at_draft"]) == {"manager_verify"}
    do(eng, "mgr2", "manager_verify", {"approved": True}, ids["at_review"])
    do(eng, "audit1", "audit_approval", {"approved": True}, ids["at_review"])
    assert eng.migrate(OWNER, KEY, 2)["migrated"] == [ids["at_review"]]
    for iid in ids.values():
        assert_audit_intact(eng, iid)


def test_moved_cases_finish_on_the_new_version(running, clock):
    eng, ids = running
    eng.migrate(OWNER, KEY, 2)
    # at the stock check when it moved: past the review, it needs no seal from the new version
    stock, payment = ids["at_stock"], ids["at_payment"]
    confirm_in_stock(eng, clock, stock)
    pay(eng, clock, stock, 36000)
    deliver(eng, clock, stock, "rep1", 36000)
    # at the payment when it moved: its payment term and cancellation deadline run on as they were set
    pay(eng, clock, payment, 36000)
    deliver(eng, clock, payment, "rep1", 36000)
    for case in (stock, payment):
        inst = eng.instance(AUDITOR, case)
        assert (inst["version"], inst["status"], inst["outcome"]) == (2, "completed", "delivered")
        assert [e["payload"]["from_version"] for e in events(eng, case, "migrated")] == [1]
        [sent] = events(eng, case, "message_sent")  # the archive starts as before
        assert sent["payload"]["name"] == "order_delivered"
        assert_audit_intact(eng, case)


def test_a_moved_case_sent_back_can_be_withdrawn_but_not_resubmitted_without_a_quotation(running, clock):
    eng, ids = running
    eng.migrate(OWNER, KEY, 2)
    iid = ids["declined_later"]
    do(eng, "clerk1", "check_stock", {"stock_status": "in_stock"}, iid)
    do(eng, "clerk1", "customer_confirmation", {"customer_accepted": False, "confirmation_note": "客户要求降价"}, iid)
    assert eng.instance(AUDITOR, iid)["data"]["contract_effective"] is False
    revise = task_of(eng, "rep1", "revise_contract", iid)
    resubmit = {"resubmit": True, "revision_note": "重新提交", "contract_no": "XS-2026-0301", "model": "P·C",
                "contract_quantity": 100, "contract_unit_price_yuan": 350, "delivery_date": company_day(T0, 30),
                "delivery_address": "巢湖工地", "contract_type": "standard", "template_modified": False,
                "payment_term_days": 7}
    with pytest.raises(ProcessError, match="price_contract"):
        eng.complete("rep1", revise["id"], resubmit)
    assert open_names(eng, iid) == {"revise_contract"}  # nothing was saved
    do(eng, "rep1", "revise_contract", {"resubmit": False, "revision_note": "降价须先经售前报价审批"}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["version"], inst["status"], inst["outcome"]) == (2, "completed", "rejected")
    assert_audit_intact(eng, iid)
