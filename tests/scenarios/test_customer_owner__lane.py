"""The `customer_owner` lane (seed 270: 公司所来客户，谁的客户归谁接待): a task about a customer goes to the
representative who owns it; without an active owner it stays with the representative who registered the
case (he received the customer), and goes to every sales representative when that one is no longer one.

Used in P1 presale (the inquiry's work, from the needs analysis to the outcome) and P6 customer visit (the
reception, the record and the follow-up). The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai.
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.scenarios.customer_steps import register
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    do,
    events,
    holders,
    inbox_task,
    offered_to,
    open_task,
)
from tests.scenarios.presale_steps import NO_UNAUTHORISED_QUOTE, deploy_sales, inquiry, needs, quotation

CUSTOMER = "芜湖商砼有限公司"  # the customer of presale_steps.inquiry and the visit form


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


def routed(eng: Engine, iid: int) -> list[tuple[str, str | None, str]]:
    return [(e["task"], e["payload"]["to"], e["payload"]["why"]) for e in events(eng, iid, "routed")]


@pytest.mark.rule("P14.5")
def test_an_inquiry_of_an_owned_customer_goes_to_its_owner_not_to_whoever_registered_it(sales):
    eng = sales
    register(eng, "rep1", CUSTOMER)
    iid = eng.start("rep2", "presale", inquiry("key_account"))
    assert offered_to(eng, "analyse_needs", iid) == {"rep1"}
    task = open_task(eng, iid, "analyse_needs")
    assert (task["role"], task["assignee"]) == ("sales_rep", "rep1")
    assert routed(eng, iid) == [("analyse_needs", "rep1", "owner")]
    do(eng, "rep1", "analyse_needs", needs(), iid)
    # every later step of the inquiry is the owner's too
    assert offered_to(eng, "prepare_quotation", iid) == {"rep1"}
    do(eng, "rep1", "prepare_quotation", quotation(399), iid)
    assert offered_to(eng, "manager_discount_approval", iid) == holders("sales_manager")
    do(eng, "mgr1", "manager_discount_approval", {"approved": True, "comment": "同意", **NO_UNAUTHORISED_QUOTE}, iid)
    assert offered_to(eng, "record_outcome", iid) == {"rep1"}
    # the history says who it was given to, in the owner's role
    timeline = eng.timeline(AUDITOR, iid)
    [first] = [e for e in timeline if e["kind"] == "routed"][:1]
    assert first["assignment"] == {"from": None, "to": "rep1"}
    [done] = [e for e in timeline if e["kind"] == "completed" and e["task"] == "analyse_needs"]
    assert done["role"] == "sales_rep"
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P14.5")
def test_the_owner_who_quoted_may_not_approve_his_own_discount(sales):
    eng = sales
    register(eng, "rep_mgr", CUSTOMER)  # a sales rep who is also a sales manager owns the customer
    iid = eng.start("rep1", "presale", inquiry("key_account"))
    do(eng, "rep_mgr", "analyse_needs", needs(), iid)
    do(eng, "rep_mgr", "prepare_quotation", quotation(399), iid)
    assert offered_to(eng, "manager_discount_approval", iid) == holders("sales_manager") - {"rep_mgr"}


@pytest.mark.rule("P14.5")
def test_the_sales_manager_may_reassign_a_task_given_to_the_owner(sales):
    eng = sales
    register(eng, "rep1", CUSTOMER)
    iid = eng.start("rep2", "presale", inquiry("key_account"))
    eng.reassign("mgr1", inbox_task(eng, "rep1", "analyse_needs", iid)["id"], "rep2")
    assert offered_to(eng, "analyse_needs", iid) == {"rep2"}


@pytest.mark.rule("P14.6")
def test_without_a_registered_customer_the_inquiry_stays_with_the_rep_who_registered_it(sales):
    eng = sales
    iid = eng.start("rep2", "presale", inquiry("key_account"))
    assert offered_to(eng, "analyse_needs", iid) == {"rep2"}
    task = open_task(eng, iid, "analyse_needs")
    assert (task["role"], task["assignee"]) == ("initiator", "rep2")
    assert routed(eng, iid) == []


@pytest.mark.rule("P14.6")
def test_an_inactive_owner_leaves_the_inquiry_with_its_registrant(sales):
    eng = sales
    register(eng, "rep1", CUSTOMER)
    eng.deactivate_user("adm", "rep1")
    iid = eng.start("rep2", "presale", inquiry("key_account"))
    task = open_task(eng, iid, "analyse_needs")
    assert (task["role"], task["assignee"]) == ("initiator", "rep2")
    assert routed(eng, iid) == []


@pytest.mark.rule("P14.6")
def test_a_refused_customer_has_no_owner_and_leaves_the_inquiry_with_its_registrant(sales):
    eng = sales
    rid = eng.start("rep1", "customer_register", {"customer_name": CUSTOMER, "customer_class": "local",
                                                  "contact_person": "钱先生", "contact_phone": "13900000000",
                                                  "needs": "询价", "source": "phone"})
    refused = {"approved": False, "refusal_reason": "not_prospect", "comment": "同行打探"}
    do(eng, "mgr1", "review_customer", refused, rid)
    iid = eng.start("rep2", "presale", inquiry("key_account"))
    assert offered_to(eng, "analyse_needs", iid) == {"rep2"}
    assert routed(eng, iid) == []


@pytest.mark.rule("P14.6")
def test_when_the_registrant_is_no_sales_rep_any_more_the_work_goes_to_every_sales_rep(sales):
    eng = sales
    iid = eng.start("rep_qa", "presale", inquiry("key_account"))
    do(eng, "rep_qa", "analyse_needs", needs(), iid)
    eng.set_user_roles("adm", "rep_qa", remove=["sales_rep"])
    assert offered_to(eng, "prepare_quotation", iid) == {"rep_qa"}  # offered before the change: it stays
    do(eng, "rep_qa", "prepare_quotation", quotation(), iid)
    assert offered_to(eng, "record_outcome", iid) == holders("sales_rep") - {"rep_qa"}
    task = open_task(eng, iid, "record_outcome")
    assert (task["role"], task["assignee"]) == ("sales_rep", None)
    assert routed(eng, iid) == [("record_outcome", None, "no_owner")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P14.5")
def test_a_new_owner_gets_the_tasks_that_become_ready_after_the_change(sales):
    eng = sales
    cid = register(eng, "rep1", CUSTOMER)
    iid = eng.start("rep1", "presale", inquiry("key_account"))
    eng.change_customer_owner("mgr1", cid, {"owner": "rep2", "reason": "rep1 调往合肥片区"})
    assert offered_to(eng, "analyse_needs", iid) == {"rep1"}  # already offered: stays until reassigned
    do(eng, "rep1", "analyse_needs", needs(), iid)
    assert offered_to(eng, "prepare_quotation", iid) == {"rep2"}


@pytest.mark.rule("P14.5")
def test_the_visit_reception_goes_to_the_customers_owner(sales, clock):
    from tests.scenarios.test_customer_visit__paths import RECEPTION, visit_form

    eng = sales
    register(eng, "rep1", CUSTOMER)
    iid = eng.start("rep2", "customer_visit", visit_form("key_account"))
    do(eng, "mgr1", "sales_approval", {"approved": True, "comment": "同意"}, iid)
    assert offered_to(eng, "arrange_reception", iid) == {"rep1"}
    do(eng, "rep1", "arrange_reception", RECEPTION, iid)
    assert_audit_intact(eng, iid)
