"""P1 presale: a quote given without authority (seed 399: 如遇擅自报价…由部门主管及相关责任人直接负责，公司将根据情节
予以处罚) is a recorded outcome of the discount review.

Every discount approver records whether the representative had already quoted the price to the customer
before it was approved; if so, the sales director, who enforces the company's sales rules (seed 372),
records who answers for it, any loss, and the penalty decided by the circumstances (seed 241-242: warning,
fine, performance deduction, dismissal), before the approval's own decision takes effect.
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import PASSWORD
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    branches,
    company_day,
    do,
    holders,
    inbox_task,
    offered_to,
    submissions,
)
from tests.scenarios.presale_steps import deploy_sales, open_names, quotation, reach_quotation


@pytest.fixture
def sales(engine: Engine) -> Engine:
    return deploy_sales(engine)


FINDING = {"quoted_without_authority": True,
           "authority_finding": "3 月 2 日上午已电话向客户报 399 元/吨，未经审批"}


@pytest.mark.rule("P1.PEN")
@pytest.mark.rule("P1.SOD")
def test_the_approver_records_a_quote_without_authority_and_the_sales_director_decides_the_penalty(sales, clock):
    eng = sales
    eng.add_user("rep_dir", ["sales_rep", "sales_director"], PASSWORD)  # a director who also sells
    iid = reach_quotation(eng, "rep_dir")
    do(eng, "rep_dir", "prepare_quotation", quotation(399), iid)
    approved = {"approved": True, "comment": "同意 5%，但报价在审批之前", **FINDING}
    clock.advance(hours=3)
    do(eng, "mgr1", "manager_discount_approval", approved, iid)

    # the penalty is decided by the sales director, never by the representative who quoted
    assert open_names(eng, iid) == {"decide_quote_penalty"}
    assert offered_to(eng, "decide_quote_penalty", iid) == holders("sales_director") == {"dir"}
    assert "decide_quote_penalty" not in {t["name"] for t in eng.inbox("rep_dir")}
    task = inbox_task(eng, "dir", "decide_quote_penalty", iid)
    with pytest.raises(Forbidden):
        eng.complete("rep_dir", task["id"], {"responsible": "x", "penalty": "warning", "penalty_reason": "x"})
    assert task["due_at"] == "2026-03-05T04:00:00+00:00"  # three working days (our own choice)

    with pytest.raises(InvalidData) as refused:
        eng.complete("dir", task["id"], {"responsible": "rep_dir", "penalty": "fine", "penalty_reason": "擅自报价"})
    assert refused.value.fields == {"fine_yuan": {"zh": "罚款须填写金额", "en": "Give the amount of the fine"}}
    with pytest.raises(InvalidData) as refused:
        eng.complete("dir", task["id"], {"responsible": "rep_dir", "penalty": "warning", "fine_yuan": 50,
                                         "penalty_reason": "擅自报价"})
    assert refused.value.fields == {"fine_yuan": {"zh": "只有罚款才填写罚款金额",
                                                  "en": "Give an amount only for a fine"}}
    penalty = {"responsible": "销售代表 rep_dir；部门主管 mgr1", "loss_yuan": 0, "penalty": "fine", "fine_yuan": 100,
               "penalty_reason": "首次擅自报价，未造成损失，按情节罚款 100 元并通报"}
    do(eng, "dir", "decide_quote_penalty", penalty, iid)

    # then the approval takes effect: the quotation stands
    assert open_names(eng, iid) == {"record_outcome"}
    do(eng, "rep_dir", "record_outcome", {"outcome": "won", "outcome_date": company_day(clock.now())}, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "won")
    assert {k: inst["data"][k] for k in (*FINDING, *penalty)} == {**FINDING, **penalty}
    assert [t for t, _ in submissions(eng, iid)][-3:] == [
        "manager_discount_approval", "decide_quote_penalty", "record_outcome"]
    assert ("authority_gateway", "decide_quote_penalty", "quoted_without_authority == True") in branches(eng, iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P1.PEN")
@pytest.mark.rule("P1.5b")
def test_a_rejected_discount_may_carry_the_finding_too_and_the_quotation_goes_back(sales):
    eng = sales
    iid = reach_quotation(eng, "rep1")
    do(eng, "rep1", "prepare_quotation", quotation(360), iid)  # 14 %: the vice president
    rejected = {"approved": False, "comment": "超出权限且已擅自报价，按定价重新报价", **FINDING}
    do(eng, "vp1", "vp_discount_approval", rejected, iid)
    warning = {"responsible": "销售代表 rep1", "penalty": "warning", "penalty_reason": "擅自承诺 14% 折扣，予以警告"}
    do(eng, "dir", "decide_quote_penalty", warning, iid)
    assert open_names(eng, iid) == {"prepare_quotation"}  # the rejection still sends it back
    assert inbox_task(eng, "rep1", "prepare_quotation", iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P1.PEN")
def test_a_finding_needs_its_description_and_no_finding_needs_no_penalty(sales):
    eng = sales
    iid = reach_quotation(eng, "rep1")
    do(eng, "rep1", "prepare_quotation", quotation(399), iid)
    task = inbox_task(eng, "mgr1", "manager_discount_approval", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("mgr1", task["id"], {"approved": True, "quoted_without_authority": True})
    assert refused.value.fields == {"authority_finding": {"zh": "请说明擅自报价的情况",
                                                          "en": "Describe the quote given without authority"}}
    with pytest.raises(InvalidData) as refused:
        eng.complete("mgr1", task["id"], {"approved": True})
    assert set(refused.value.fields) == {"quoted_without_authority"}  # the reviewer always says
    do(eng, "mgr1", "manager_discount_approval", {"approved": True, "quoted_without_authority": False}, iid)
    assert offered_to(eng, "decide_quote_penalty", iid) == set()
    assert ("authority_gateway", "authority_merge", "default") in branches(eng, iid)
