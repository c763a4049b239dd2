"""P2 insale (售中服务): every path from the won deal to an end event.

The process starts only from presale's deal_won (thrown here by a minimal sender with presale's payload:
the customer and the approved quotation). Each path asserts who was offered each task (exact sets, the
starter never offered the review, signature or seal of their own contract), the data at the end (the
quotation, the contract, what the engine computed, the tables' outputs and every step's submission), the
trail with the branch each routing gateway took, the outcome, and that replay reproduces it and every
chain verifies. A recorded delivery throws `order_delivered`, which starts the after-sales archive (P3A
aftersale_archive) for the same business key in the same command. Deadlines and the delivery watch are
in test_insale__deadlines.py, moving running instances to this version in test_insale__migration.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Conflict, Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    company_day,
    dated,
    end_events,
    events,
    parse,
    submissions,
)
from tests.scenarios.insale_steps import (
    ARCHIVE_PAYLOAD,
    BK,
    BULK,
    DELIVERY_TRAIL,
    EXCLUSIVE,
    KEY,
    QUOTE,
    SEALED,
    STANDARD,
    approve_chain,
    assert_archive_started,
    assert_completed,
    chain,
    confirm_in_stock,
    contract,
    customer_accepts,
    deliver,
    deploy_sales,
    do,
    gw,
    holders,
    merged,
    no_timer_until_the_delivery_watch,
    offered,
    open_names,
    paid,
    pay,
    priced,
    produce,
    rd,
    requester_may_not_work,
    review_and_seal,
    review_routes,
    review_trail,
    reviewers,
    routes,
    seal,
    start_order,
    task_of,
    trail,
)

REJECT_MESSAGE = "驳回时须填写驳回理由"
ARCHIVED = {"archive_no": "DA-2026-015", "existing_archive": False,
            "contacts": [{"name": "李明", "position": "采购经理", "phone": "0553-5551234"}],
            "archive_products": [{"product": "普通硅酸盐水泥", "spec": "散装", "model": "P·O", "grade": "42.5"}]}
CALLED = {"called_on": "2026-04-13", "contact_reached": "李明", "satisfaction": 4,
          "feedback": "强度稳定，希望雨天发运加强防潮", "close_archive_proposed": False}


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


def draft(eng: Engine, clock, iid: int, starter: str, form: dict) -> None:
    clock.advance(hours=1)
    do(eng, starter, "draft_contract", form, iid)


def contract_data(form: dict, kind: str, modified: bool) -> dict:
    """The data right after the contract was drafted, priced and its reviewers decided."""
    return merged(QUOTE, form, priced(form), reviewers(kind, modified))


# -- a standard contract at the quoted price ------------------------------------------------------------------


@pytest.mark.rule("P2.1")
@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.2e")
@pytest.mark.rule("P2.3")
@pytest.mark.rule("P2.4")
@pytest.mark.rule("P2.5")
@pytest.mark.rule("P2.6")
@pytest.mark.rule("P2.SOD")
@pytest.mark.rule("P3A.1")
@pytest.mark.rule("P3A.2")
def test_standard_contract_at_the_quoted_price_sealed_in_stock_paid_delivered_then_archived(sales, clock):
    eng, starter = sales, "rep_mgr"  # a sales rep who is also a sales manager
    iid = start_order(eng, starter)
    form = contract(STANDARD, False)
    draft(eng, clock, iid, starter, form)
    # the quotation's product and prices, the contract's figures computed from its quantity and price
    assert eng.instance(starter, iid)["data"] == contract_data(form, STANDARD, False)
    assert priced(form)["amount_yuan"] == 51840 and priced(form)["below_quote"] is False

    requester_may_not_work(eng, iid, starter, "manager_verify", {"approved": True})
    steps = chain(STANDARD, False)
    reviewed = review_and_seal(eng, clock, iid, starter, steps)
    ordered = confirm_in_stock(eng, clock, iid)
    payment = pay(eng, clock, iid, 51840)
    no_timer_until_the_delivery_watch(eng, clock, iid)
    delivered = deliver(eng, clock, iid, starter, 51840)

    done = reviewed + ordered + payment + delivered
    data = merged(contract_data(form, STANDARD, False), *[d for _t, d in done], {"contract_effective": True})
    assert_completed(eng, iid, data, "delivered")
    assert submissions(eng, iid) == [("draft_contract", form), *done]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [*review_routes(steps), ("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert events(eng, iid, "timer_fired") == []
    assert_audit_intact(eng, iid)

    # P3A: the customer's archive, then the first follow-up call 30 days later (the calls go on until it is closed)
    archive_id = assert_archive_started(eng, iid, starter, BK, data)
    delivered_at = clock.now()
    clock.advance(hours=3)
    do(eng, "asst2", "build_archive", ARCHIVED, archive_id)
    clock.set(delivered_at + timedelta(days=30, hours=3, minutes=1))
    eng.fire_due_timers()
    assert offered(eng, "followup_call", archive_id) == holders("sales_assistant")
    clock.advance(hours=2)
    called = dated(CALLED, clock.now(), "called_on")
    do(eng, "asst1", "followup_call", called, archive_id)
    archive = eng.instance(AUDITOR, archive_id)
    assert (archive["status"], archive["tasks"]) == ("running", [])  # the next call is a month away (key account)
    assert archive["data"] == merged({k: data[k] for k in ARCHIVE_PAYLOAD}, ARCHIVED, called)
    assert_audit_intact(eng, archive_id)


# -- exclusive distribution on a modified template: the longest chain -----------------------------------------


@pytest.mark.rule("P2.2")
@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.2d")
@pytest.mark.rule("P2.2e")
@pytest.mark.rule("P2.3a")
@pytest.mark.rule("P2.SOD")
def test_exclusive_distribution_on_a_modified_template_signed_last_bulk_out_of_stock_goes_to_production(
        sales, clock):
    eng, starter = sales, "rep_vp"  # a sales rep who is also the sales VP
    iid = start_order(eng, starter)
    form = contract(EXCLUSIVE, True, quantity=BULK)
    draft(eng, clock, iid, starter, form)
    assert priced(form)["bulk_order"] is True  # 216,000 yuan

    steps = chain(EXCLUSIVE, True)
    assert steps == ["manager_verify", "audit_approval", "vp_template_approval", "hq_template_approval",
                     "gm_price_approval", "vp_price_approval", "manager_sign"]
    reviewed = []
    for step in steps:
        if step in ("vp_template_approval", "vp_price_approval"):  # the VP who drafted it decides neither
            requester_may_not_work(eng, iid, starter, step, {"approved": True})
        if step == "gm_price_approval":  # seed 416: the branch general manager, not the general manager
            assert offered(eng, step, iid) == {"bgm1", "bgm2", "rep_bgm"}
            assert not offered(eng, step, iid) & holders("general_manager")
        if step == "manager_sign":  # the signature comes last, after both price approvals
            assert [s for s, _d in reviewed][-2:] == ["gm_price_approval", "vp_price_approval"]
            assert eng.instance(AUDITOR, iid)["data"].get("contract_effective") is None
        reviewed += approve_chain(eng, clock, iid, starter, [step])
    reviewed += seal(eng, clock, iid, starter)

    out_of_stock = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-20",
                    "stock_note": "散装 P·O 42.5 库存约 200 吨，缺口 300 吨"}
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", out_of_stock, iid)
    assert offered(eng, "customer_confirmation", iid) == set()
    produced = produce(eng, clock, iid)
    confirmed = customer_accepts(eng, clock, iid)
    amount = priced(form)["amount_yuan"]
    payment = pay(eng, clock, iid, amount)
    delivered = deliver(eng, clock, iid, starter, amount)

    done = [*reviewed, ("check_stock", out_of_stock), *produced, *confirmed, *payment, *delivered]
    data = merged(contract_data(form, EXCLUSIVE, True), *[d for _t, d in done], {"contract_effective": True})
    assert_completed(eng, iid, data, "delivered")
    assert submissions(eng, iid) == [("draft_contract", form), *done]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw", "production_merge"), *rd("schedule_production", "report_production"),
        *gw("stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"), *rd("confirm_payment"),
        *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps),
        ("stock_gw", "production_merge", "stock_status == 'out_of_stock' and bulk_order == True"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


@pytest.mark.rule("P2.2b")
@pytest.mark.rule("P2.SOD")
def test_a_starter_who_is_branch_general_manager_never_approves_the_prices_of_their_own_contract(sales, clock):
    eng, starter = sales, "rep_bgm"
    iid = start_order(eng, starter, business_key=None)
    form = contract(EXCLUSIVE, False)
    draft(eng, clock, iid, starter, form)
    approve_chain(eng, clock, iid, starter, ["manager_verify", "audit_approval"])
    requester_may_not_work(eng, iid, starter, "gm_price_approval", {"approved": True})
    assert offered(eng, "gm_price_approval", iid) == {"bgm1", "bgm2"}
    approve_chain(eng, clock, iid, starter, ["gm_price_approval", "vp_price_approval", "manager_sign"])
    assert open_names(eng, iid) == {"seal_contract"}
    assert_audit_intact(eng, iid)


# -- the contract price against the approved quotation ----------------------------------------------------------

# key account: list price 450, quoted at 4 % (432). Below the quotation the contract's discount is judged by
# presale's table: up to 5 % the sales manager, over 5 % up to 10 % the director, over 10 % the VP.
BELOW = [(428, "sales_manager", "contract_discount_manager", 4.89),
         (420, "sales_director", "contract_discount_director", 6.67),
         (400, "sales_vp", "contract_discount_vp", 11.11)]


@pytest.mark.rule("P2.1b")
@pytest.mark.rule("P2.SOD")
@pytest.mark.parametrize(("price", "role", "task", "discount"), BELOW)
def test_a_contract_price_below_the_quotation_needs_the_discount_approved_again(sales, clock, price, role, task,
                                                                                 discount):
    eng, starter = sales, {"sales_manager": "rep_mgr", "sales_director": "rep_dir", "sales_vp": "rep_vp"}[role]
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, price=price)
    draft(eng, clock, iid, starter, form)
    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["below_quote"], data["discount_pct"], data["discount_approver"]) == (True, discount, role)
    assert (data["unit_price_yuan"], data["amount_yuan"]) == (432, price * 120)  # the quotation is kept
    assert open_names(eng, iid) == {task}
    requester_may_not_work(eng, iid, starter, task, {"approved": True})

    steps = chain(STANDARD, False, discount=role)
    assert steps[0] == task
    reviewed = review_and_seal(eng, clock, iid, starter, steps)
    assert open_names(eng, iid) == {"check_stock"}
    assert submissions(eng, iid) == [("draft_contract", form), *reviewed]
    assert trail(eng, iid) == [("started", None), *rd("draft_contract"), *review_trail(steps),
                               ("task_ready", "check_stock")]
    assert routes(eng, iid) == review_routes(steps)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.1b")
def test_a_price_at_or_above_the_quotation_needs_no_discount_approval(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    draft(eng, clock, iid, starter, contract(STANDARD, False, price=440))
    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["below_quote"], data["discount_pct"]) == (False, 2.22)
    assert "discount_approver" not in data
    assert open_names(eng, iid) == {"manager_verify"}
    assert routes(eng, iid) == [("below_quote_gw", "discount_merge", "default")]


# -- every refusal goes back to the starter -----------------------------------------------------------------------

ALL_STEPS = chain(EXCLUSIVE, True, discount="sales_manager")
STARTER_HOLDING = {"contract_discount_manager": "rep_mgr", "manager_verify": "rep_mgr", "audit_approval": "rep_audit",
                   "vp_template_approval": "rep_vp", "hq_template_approval": "rep_hq", "gm_price_approval": "rep_bgm",
                   "vp_price_approval": "rep_vp", "manager_sign": "rep_mgr"}
APPROVER_OF = {"contract_discount_manager": "mgr1", "manager_verify": "mgr2", "audit_approval": "audit1",
               "vp_template_approval": "vp1", "hq_template_approval": "hq1", "gm_price_approval": "bgm1",
               "vp_price_approval": "vp1", "manager_sign": "mgr1"}


def revised(form: dict, **changes: object) -> dict:
    return {**form, **changes, "resubmit": True}


@pytest.mark.rule("P2.2c")
@pytest.mark.rule("P2.SOD")
@pytest.mark.parametrize("rejecting", ALL_STEPS)
def test_a_refusal_returns_to_the_starter_who_revises_and_the_whole_chain_runs_again(sales, clock, rejecting):
    eng, starter = sales, STARTER_HOLDING[rejecting]
    iid = start_order(eng, starter)
    form = contract(EXCLUSIVE, True, price=428)  # below the quotation: the manager approves the discount first
    draft(eng, clock, iid, starter, form)
    before = ALL_STEPS[:ALL_STEPS.index(rejecting)]
    reviewed = approve_chain(eng, clock, iid, starter, before)

    requester_may_not_work(eng, iid, starter, rejecting, {"approved": False, "comment": "自己驳回"})
    task = task_of(eng, APPROVER_OF[rejecting], rejecting, iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete(APPROVER_OF[rejecting], task["id"], {"approved": False})
    assert set(refused.value.fields) == {"comment"}
    rejection = {"approved": False, "comment": "单价低于报价，请按已批准的报价签约"}
    clock.advance(hours=3)
    do(eng, APPROVER_OF[rejecting], rejecting, rejection, iid)

    # back to the starter alone, with the reason; nothing further in the chain is offered
    assert open_names(eng, iid) == {"revise_contract"}
    assert offered(eng, "revise_contract", iid) == {starter}
    seen = eng.instance(starter, iid)["data"]
    assert (seen["approved"], seen["comment"], seen["contract_effective"]) == (False, rejection["comment"], False)
    again_form = revised(form, contract_unit_price_yuan=432, revision_note="按已批准的报价单价 432 元/吨签约")
    clock.advance(hours=2)
    do(eng, starter, "revise_contract", again_form, iid)

    # at the quoted price the discount is not asked again; the rest of the chain runs from the start
    again = chain(EXCLUSIVE, True)
    second = review_and_seal(eng, clock, iid, starter, again)
    ordered = confirm_in_stock(eng, clock, iid)
    payment = pay(eng, clock, iid, 51840)
    delivered = deliver(eng, clock, iid, starter, 51840)

    after = [*reviewed, (rejecting, rejection), ("revise_contract", again_form), *second, *ordered, *payment,
             *delivered]
    data = merged(contract_data(form, EXCLUSIVE, True), {"discount_approver": "sales_manager"},
                  *[d for _t, d in after], priced(again_form), {"contract_effective": True})
    assert_completed(eng, iid, data, "delivered")
    assert submissions(eng, iid) == [("draft_contract", form), *after]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(ALL_STEPS, rejected_at=rejecting),
        *rd("revise_contract"), *gw("resubmit_gw"), *review_trail(again),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        *rd("confirm_payment"), *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(ALL_STEPS, rejected_at=rejecting), ("resubmit_gw", "review_merge", "resubmit == True"),
        *review_routes(again), ("stock_gw", "stock_merge", "default"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert end_events(eng, iid) == ["order_completed"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.2e")
@pytest.mark.rule("P2.2c")
@pytest.mark.rule("P2.SOD")
def test_the_office_refuses_to_seal_a_contract_that_differs_from_the_approved_one(sales, clock):
    eng, starter = sales, "rep_off"  # a sales rep who also works in the office
    iid = start_order(eng, starter)
    form = contract(STANDARD, False)
    draft(eng, clock, iid, starter, form)
    steps = chain(STANDARD, False)
    first = approve_chain(eng, clock, iid, starter, steps)
    requester_may_not_work(eng, iid, starter, "seal_contract", dated(SEALED, clock.now(), "sealed_on"))
    assert offered(eng, "seal_contract", iid) == {"off1", "off2", "svc_off"}
    task = task_of(eng, "off2", "seal_contract", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("off2", task["id"], {"contract_sealed": False})
    assert set(refused.value.fields) == {"seal_note"}
    with pytest.raises(InvalidData) as refused:
        eng.complete("off2", task["id"], {"contract_sealed": True})
    assert set(refused.value.fields) == {"sealed_on"}
    not_sealed = {"contract_sealed": False, "seal_note": "打印稿交货地点与评审稿不一致"}
    clock.advance(hours=1)
    do(eng, "off2", "seal_contract", not_sealed, iid)
    assert offered(eng, "revise_contract", iid) == {starter}
    assert offered(eng, "check_stock", iid) == set()
    assert eng.instance(AUDITOR, iid)["data"]["contract_effective"] is False

    again_form = revised(form, revision_note="按评审稿重新打印")
    do(eng, starter, "revise_contract", again_form, iid)
    second = review_and_seal(eng, clock, iid, starter, steps)
    assert open_names(eng, iid) == {"check_stock"}
    assert submissions(eng, iid) == [("draft_contract", form), *first, ("seal_contract", not_sealed),
                                     ("revise_contract", again_form), *second]
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps, sealed=False), *rd("revise_contract"),
        *gw("resubmit_gw"), *review_trail(steps), ("task_ready", "check_stock")]
    assert routes(eng, iid) == [*review_routes(steps, sealed=False),
                                ("resubmit_gw", "review_merge", "resubmit == True"), *review_routes(steps)]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.2c")
def test_a_rejected_contract_withdrawn_by_the_starter_ends_rejected(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False)
    draft(eng, clock, iid, starter, form)
    rejection = {"approved": False, "comment": "客户资信未核实，暂不签约"}
    clock.advance(hours=1)
    do(eng, "mgr1", "manager_verify", rejection, iid)

    revise = task_of(eng, starter, "revise_contract", iid)
    with pytest.raises(InvalidData) as refused:  # resubmitting needs the whole contract again
        eng.complete(starter, revise["id"], {"resubmit": True, "revision_note": "重新提交"})
    assert {"contract_no", "contract_quantity", "contract_unit_price_yuan"} <= set(refused.value.fields)
    with pytest.raises(InvalidData) as refused:  # withdrawing needs a reason
        eng.complete(starter, revise["id"], {"resubmit": False})
    assert set(refused.value.fields) == {"revision_note"}
    withdrawn = {"resubmit": False, "revision_note": "客户暂缓采购，合同撤销"}
    clock.advance(hours=1)
    do(eng, starter, "revise_contract", withdrawn, iid)

    data = merged(contract_data(form, STANDARD, False), rejection, withdrawn, {"contract_effective": False})
    assert_completed(eng, iid, data, "rejected")
    steps = chain(STANDARD, False)
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps, rejected_at="manager_verify"),
        *rd("revise_contract"), *gw("resubmit_gw"), ("ended", None)]
    assert routes(eng, iid) == [*review_routes(steps, rejected_at="manager_verify"),
                                ("resubmit_gw", "contract_cancelled", "default")]
    assert end_events(eng, iid) == ["contract_cancelled"]
    assert events(eng, iid, "message_sent") == []  # no archive for a contract that never was
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.3")
@pytest.mark.rule("P2.2c")
def test_the_customer_does_not_accept_the_stock_situation_the_contract_is_suspended_and_withdrawn(sales, clock):
    eng, starter = sales, "rep2"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False)
    draft(eng, clock, iid, starter, form)
    steps = chain(STANDARD, False)
    reviewed = review_and_seal(eng, clock, iid, starter, steps)

    short = {"stock_status": "out_of_stock", "expected_available_date": "2026-03-30",
             "stock_note": "散装 P·O 42.5 月底前无货"}
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", short, iid)
    assert offered(eng, "schedule_production", iid) == set()  # a small order is not produced for
    task = task_of(eng, "clerk1", "customer_confirmation", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("clerk1", task["id"], {"customer_accepted": False})
    assert set(refused.value.fields) == {"confirmation_note"}
    declined = {"customer_accepted": False, "confirmation_note": "客户工期紧，不能等到月底"}
    clock.advance(hours=2)
    do(eng, "clerk1", "customer_confirmation", declined, iid)

    assert offered(eng, "confirm_payment", iid) == set()  # no order, no payment
    assert offered(eng, "revise_contract", iid) == {starter}
    assert eng.instance(AUDITOR, iid)["data"]["contract_effective"] is False  # no dealer order under it meanwhile
    withdrawn = {"resubmit": False, "revision_note": "客户改向他厂采购，合同撤销"}
    clock.advance(hours=1)
    do(eng, starter, "revise_contract", withdrawn, iid)

    data = merged(contract_data(form, STANDARD, False), *[d for _t, d in reviewed], short, declined, withdrawn,
                  {"contract_effective": False})
    assert_completed(eng, iid, data, "rejected")
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps), *rd("check_stock"),
        *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw", "rejected_merge"),
        *rd("revise_contract"), *gw("resubmit_gw"), ("ended", None)]
    assert routes(eng, iid) == [*review_routes(steps), ("stock_gw", "stock_merge", "default"),
                                ("confirmed_gw", "rejected_merge", "default"),
                                ("resubmit_gw", "contract_cancelled", "default")]
    assert_audit_intact(eng, iid)


# -- a new variety: trial production only when it is needed in quantity ------------------------------------------

NEW_VARIETY = {"stock_status": "new_variety", "stock_note": "彩色饰面水泥公司尚未生产"}
BOARD = {"sample_board_received_on": "2026-03-03", "sample_board_description": "米白色饰面样板 2 块，已送技术部"}
TRIAL = {"trial_batch_no": "SZ-2026-007", "trial_completed_on": "2026-03-06", "trial_note": "色差 ΔE 0.8"}
WHITE = dict(QUOTE, product="彩色饰面水泥", spec="袋装 25kg", grade="42.5", list_price_yuan=1000, discount_pct=2,
             unit_price_yuan=980, quantity=300, amount_yuan=294000)


def trial_until_confirmation(eng: Engine, clock, iid: int, starter: str) -> list[tuple[str, dict]]:
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", NEW_VARIETY, iid)
    assert offered(eng, "obtain_sample_board", iid) == {starter}
    assert offered(eng, "schedule_production", iid) == set()
    clock.advance(days=1)
    board = dated(BOARD, clock.now(), "sample_board_received_on")
    do(eng, starter, "obtain_sample_board", board, iid)
    assert offered(eng, "trial_production", iid) == holders("technical")
    clock.advance(days=1)
    trial = dated(TRIAL, clock.now(), "trial_completed_on")
    do(eng, "tech1", "trial_production", trial, iid)
    assert offered(eng, "confirm_trial_sample", iid) == {starter}
    return [("check_stock", NEW_VARIETY), ("obtain_sample_board", board), ("trial_production", trial)]


@pytest.mark.rule("P2.3b")
@pytest.mark.rule("P2.3a")
@pytest.mark.rule("P2.2a")
@pytest.mark.rule("P2.SOD")
def test_a_new_variety_needed_in_quantity_is_trial_produced_accepted_then_produced(sales, clock):
    eng, starter = sales, "rep_hq"  # a sales rep who also sits at headquarters
    iid = start_order(eng, starter, quote=WHITE)
    form = contract(STANDARD, True, quantity=300, price=980)  # 294,000 yuan: a bulk order
    draft(eng, clock, iid, starter, form)
    assert priced(form, WHITE)["bulk_order"] is True
    steps = chain(STANDARD, True)
    reviewed = approve_chain(eng, clock, iid, starter, steps[:3])
    requester_may_not_work(eng, iid, starter, "hq_template_approval", {"approved": True})
    reviewed += review_and_seal(eng, clock, iid, starter, steps[3:])

    trial = trial_until_confirmation(eng, clock, iid, starter)
    sample_ok = {"sample_accepted": True, "sample_feedback": "颜色与样板一致，客户签字确认"}
    clock.advance(days=1)
    do(eng, starter, "confirm_trial_sample", sample_ok, iid)
    produced = produce(eng, clock, iid)
    confirmed = customer_accepts(eng, clock, iid)
    payment = pay(eng, clock, iid, 294000)
    delivered = deliver(eng, clock, iid, starter, 294000)

    done = [*reviewed, *trial, ("confirm_trial_sample", sample_ok), *produced, *confirmed, *payment, *delivered]
    data = merged(WHITE, form, priced(form, WHITE), reviewers(STANDARD, True), *[d for _t, d in done],
                  {"contract_effective": True})
    assert_completed(eng, iid, data, "delivered")
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps),
        *rd("check_stock"), *gw("stock_gw"), *rd("obtain_sample_board", "trial_production", "confirm_trial_sample"),
        *gw("sample_ok_gw", "production_merge"), *rd("schedule_production", "report_production"),
        *gw("stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"), *rd("confirm_payment"),
        *DELIVERY_TRAIL]
    assert routes(eng, iid) == [
        *review_routes(steps),
        ("stock_gw", "obtain_sample_board", "stock_status == 'new_variety' and bulk_order == True"),
        ("sample_ok_gw", "production_merge", "sample_accepted == True"),
        ("confirmed_gw", "confirm_payment", "customer_accepted == True")]
    assert_audit_intact(eng, iid)
    assert_archive_started(eng, iid, starter, BK, data)


@pytest.mark.rule("P2.3b")
@pytest.mark.rule("P2.2c")
def test_a_new_variety_in_a_small_quantity_is_not_trial_produced_the_contract_goes_back(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter, quote=WHITE)
    form = contract(STANDARD, False, quantity=60, price=980)  # 58,800 yuan: not a bulk order
    draft(eng, clock, iid, starter, form)
    steps = chain(STANDARD, False)
    reviewed = review_and_seal(eng, clock, iid, starter, steps)
    clock.advance(hours=1)
    do(eng, "clerk1", "check_stock", NEW_VARIETY, iid)

    assert offered(eng, "obtain_sample_board", iid) == set()
    assert offered(eng, "trial_production", iid) == set()
    assert offered(eng, "revise_contract", iid) == {starter}
    withdrawn = {"resubmit": False, "revision_note": "用量小，公司不为其试制新花色，客户另行采购"}
    clock.advance(hours=1)
    do(eng, starter, "revise_contract", withdrawn, iid)

    data = merged(WHITE, form, priced(form, WHITE), reviewers(STANDARD, False), *[d for _t, d in reviewed],
                  NEW_VARIETY, withdrawn, {"contract_effective": False})
    assert_completed(eng, iid, data, "rejected")
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(steps), *rd("check_stock"),
        *gw("stock_gw", "rejected_merge"), *rd("revise_contract"), *gw("resubmit_gw"), ("ended", None)]
    assert routes(eng, iid) == [
        *review_routes(steps),
        ("stock_gw", "rejected_merge", "stock_status == 'new_variety' and bulk_order != True"),
        ("resubmit_gw", "contract_cancelled", "default")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.3b")
@pytest.mark.rule("P2.2c")
def test_the_customer_rejects_the_trial_sample_and_the_contract_is_withdrawn(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter, quote=WHITE)
    form = contract(STANDARD, False, quantity=300, price=980)
    draft(eng, clock, iid, starter, form)
    steps = chain(STANDARD, False)
    review_and_seal(eng, clock, iid, starter, steps)
    trial_until_confirmation(eng, clock, iid, starter)
    sample = task_of(eng, starter, "confirm_trial_sample", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, sample["id"], {"sample_accepted": False})
    assert set(refused.value.fields) == {"sample_feedback"}
    rejected = {"sample_accepted": False, "sample_feedback": "颜色偏深，客户不认可"}
    clock.advance(days=1)
    do(eng, starter, "confirm_trial_sample", rejected, iid)

    assert offered(eng, "schedule_production", iid) == set()
    assert offered(eng, "revise_contract", iid) == {starter}
    withdrawn = {"resubmit": False, "revision_note": "客户不认可试制样品，另议新品种须重新报价"}
    do(eng, starter, "revise_contract", withdrawn, iid)
    assert eng.instance(AUDITOR, iid)["outcome"] == "rejected"
    assert routes(eng, iid)[-3:] == [
        ("stock_gw", "obtain_sample_board", "stock_status == 'new_variety' and bulk_order == True"),
        ("sample_ok_gw", "rejected_merge", "default"), ("resubmit_gw", "contract_cancelled", "default")]
    assert_audit_intact(eng, iid)


# -- payment: the term, the reminder, the cancellation --------------------------------------------------------------


def to_payment(eng: Engine, clock, iid: int, starter: str, form: dict) -> list[tuple[str, dict]]:
    draft(eng, clock, iid, starter, form)
    return [*review_and_seal(eng, clock, iid, starter, chain(STANDARD, False)), *confirm_in_stock(eng, clock, iid)]


@pytest.mark.rule("P2.4")
@pytest.mark.rule("P2.4a")
def test_the_payment_term_expires_the_starter_is_reminded_then_finance_confirms_and_the_goods_go(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, term=10)
    before = to_payment(eng, clock, iid, starter, form)
    ready = parse(next(t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == "confirm_payment")["created_at"])

    clock.set(ready + timedelta(days=10) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(ready + timedelta(days=10, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered(eng, "payment_reminder", iid) == {starter}
    assert offered(eng, "confirm_payment", iid) == holders("finance")  # the payment task stays open
    [escalated] = events(eng, iid, "escalated")
    assert (escalated["task"], escalated["payload"]) == ("payment_overdue",
                                                         {"attached_to": "confirm_payment", "interrupting": False})
    reminder = task_of(eng, starter, "payment_reminder", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete(starter, reminder["id"], {})
    assert set(refused.value.fields) == {"reminder_note"}
    reminded = {"reminder_note": "电话催款，客户承诺三日内电汇", "promised_payment_date": "2026-03-18"}
    clock.advance(hours=2)
    do(eng, starter, "payment_reminder", reminded, iid)

    payment = pay(eng, clock, iid, 51840, after=timedelta(days=3))
    delivered = deliver(eng, clock, iid, starter, 51840)
    data = merged(contract_data(form, STANDARD, False), *[d for _t, d in before], reminded,
                  *[d for _t, d in payment + delivered], {"contract_effective": True})
    assert_completed(eng, iid, data, "delivered")
    assert trail(eng, iid) == [
        ("started", None), *rd("draft_contract"), *review_trail(chain(STANDARD, False)),
        *rd("check_stock"), *gw("stock_gw", "stock_merge"), *rd("customer_confirmation"), *gw("confirmed_gw"),
        ("task_ready", "confirm_payment"), ("timers_due", None), ("timer_fired", "payment_overdue"),
        ("escalated", "payment_overdue"), *rd("payment_reminder"), ("completed", "confirm_payment"),
        *DELIVERY_TRAIL]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.4a")
@pytest.mark.rule("P2.4b")
def test_still_unpaid_a_week_after_the_term_the_order_is_cancelled(sales, clock):
    eng, starter = sales, "rep2"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False)  # the default term: 7 days
    before = to_payment(eng, clock, iid, starter, form)
    payment_task = next(t for t in eng.instance(AUDITOR, iid)["tasks"] if t["name"] == "confirm_payment")
    ready = parse(payment_task["created_at"])

    clock.set(ready + timedelta(days=7, minutes=1))
    assert eng.fire_due_timers() == 1
    assert offered(eng, "payment_reminder", iid) == {starter}
    # nobody pays and the reminder is left undone: one week after the term the order is cancelled
    clock.set(ready + timedelta(days=14) - timedelta(minutes=1))
    assert eng.fire_due_timers() == 0
    clock.set(ready + timedelta(days=14, minutes=1))
    assert eng.fire_due_timers() == 1

    inst = eng.instance(starter, iid)
    assert (inst["status"], inst["outcome"], inst["tasks"]) == ("completed", "unpaid", [])
    assert {t["name"]: t["status"] for t in inst["history_tasks"]
            if t["name"] in ("confirm_payment", "payment_reminder")} == {
        "confirm_payment": "cancelled", "payment_reminder": "cancelled"}
    with pytest.raises(Conflict):  # a payment confirmed too late is refused
        eng.complete("fin1", payment_task["id"], paid(51840))
    assert inst["data"] == merged(contract_data(form, STANDARD, False), *[d for _t, d in before],
                                  {"contract_effective": True})
    assert trail(eng, iid)[-8:] == [
        ("escalated", "payment_overdue"), ("task_ready", "payment_reminder"),
        ("timers_due", None), ("task_cancelled", "confirm_payment"), ("task_cancelled", "payment_reminder"),
        ("timer_fired", "payment_cancel_deadline"), ("escalated", "payment_cancel_deadline"), ("ended", None)]
    assert end_events(eng, iid) == ["order_cancelled_unpaid"]
    assert events(eng, iid, "message_sent") == []
    assert offered(eng, "build_archive") == set()  # no delivery, no archive
    assert_audit_intact(eng, iid)


# -- forms, the start ------------------------------------------------------------------------------------------------


@pytest.mark.rule("P2.1")
def test_the_contract_form_refuses_an_incomplete_contract_and_typed_amounts_or_quoted_prices(sales, clock):
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    task = task_of(eng, starter, "draft_contract", iid)
    good = contract(STANDARD, True)

    def refused(data: dict) -> set[str]:
        with pytest.raises(InvalidData) as caught:
            eng.complete(starter, task["id"], data)
        return set(caught.value.fields)

    assert refused({k: v for k, v in good.items() if k != "template_changes"}) == {"template_changes"}
    assert refused({k: v for k, v in good.items() if k != "model"}) == {"model"}
    assert refused({**good, "contract_quantity": 0}) == {"contract_quantity"}
    assert refused({**good, "contract_unit_price_yuan": 0}) == {"contract_unit_price_yuan"}
    assert refused({**good, "contract_type": "consignment"}) == {"contract_type"}
    assert refused({**good, "payment_term_days": 0}) == {"payment_term_days"}
    assert refused({**good, "payment_term_days": 91}) == {"payment_term_days"}
    assert refused({**good, "delivery_date": company_day(T0)}) == {"delivery_date"}
    # what the engine computes and what the approved quotation says cannot be typed in
    assert refused({**good, "amount_yuan": 1}) == {"amount_yuan"}
    assert refused({**good, "unit_price_yuan": 400}) == {"unit_price_yuan"}
    assert refused({**good, "list_price_yuan": 400}) == {"list_price_yuan"}
    assert eng.instance(starter, iid)["data"] == QUOTE  # nothing refused was stored
    do(eng, starter, "draft_contract", good, iid)
    assert open_names(eng, iid) == {"manager_verify"}


@pytest.mark.rule("P2.1")
@pytest.mark.rule("P2.1a")
def test_a_won_deal_starts_insale_with_the_quotation_and_nobody_starts_it_by_hand(sales, clock):
    eng, starter = sales, "rep2"
    iid = start_order(eng, starter, business_key="INQ-2026-0042")
    order = eng.instance(AUDITOR, iid)
    assert (order["process_key"], order["business_key"], order["started_by"], order["status"]) == (
        KEY, "INQ-2026-0042", starter, "running")
    assert order["data"] == QUOTE
    [started] = events(eng, iid, "started")
    assert started["payload"]["via_message"]["name"] == "deal_won"

    # never free-standing: not on anyone's start page, refused by the API and the command line alike
    for person in ("rep1", "mgr1", "adm"):
        assert KEY not in {p["key"] for p in eng.startable(person)}
    with pytest.raises(Forbidden, match="starts only when the message deal_won arrives"):
        eng.start("rep1", KEY, dict(QUOTE), business_key="HAND-1")
    assert {i["business_key"] for i in eng.search(AUDITOR, {"process": KEY})["items"]} == {"INQ-2026-0042"}
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P2.5")
def test_the_order_completes_when_delivered_and_the_archive_gets_the_contract_line(sales, clock):
    """The archive receives the contract's line (quantity and price of the contract, not of the quotation)."""
    eng, starter = sales, "rep1"
    iid = start_order(eng, starter)
    form = contract(STANDARD, False, quantity=150)
    draft(eng, clock, iid, starter, form)
    review_and_seal(eng, clock, iid, starter, chain(STANDARD, False))
    confirm_in_stock(eng, clock, iid)
    pay(eng, clock, iid, 64800)
    deliver(eng, clock, iid, starter, 64800)
    data = eng.instance(AUDITOR, iid)["data"]
    archive_id = assert_archive_started(eng, iid, starter, BK, data)
    assert eng.instance(AUDITOR, archive_id)["data"]["order_lines"] == [
        {"product": "普通硅酸盐水泥", "spec": "散装", "model": "P·O", "grade": "42.5", "unit": "吨", "quantity": 150,
         "unit_price": 432}]
    assert (data["quantity"], data["amount_yuan"]) == (120, 64800)  # the quotation's quantity stays as quoted
