"""P12b violation (违规处理): every path from the report to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. A sales manager, a department head or the
audit department reports a breach by a staff member or a shop; the audit department investigates and
proposes a sanction; the table violation_approval sends a light one (criticism, warning, a fine up to
2,000 yuan) to the sales director and a heavy one to the general manager; a refusal goes back to the
investigation; the office serves the decision, has it signed for and records it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    branches,
    do,
    end_events,
    holders,
    inbox_task,
    offered_to,
    parse,
    ready_and_done,
    requester_may_not_work,
    submissions,
    trail,
)

KEY = "violation"
STAFF = {"violator_kind": "staff", "violator_name": "王磊（工号 S023）", "shop_name": "芜湖门店",
         "violation_date": "2026-02-27", "violation_description": "未按公司定价擅自向客户报价，低于价目表 8%"}
SHOP = {"violator_kind": "shop", "violator_name": "马鞍山门店", "violation_date": "2026-02-25",
        "violation_description": "连续两周未按规定填报销售日报表", "evidence": "销售部抽查记录 2026-02-26"}
# the notice reaches the person on T0's day: a day that has not come yet is refused
RECORD = {"decision_no": "WG-2026-003", "effective_date": "2026-03-05", "acknowledged": True,
          "acknowledged_on": "2026-03-02", "record_note": "处理决定已送达，当事人签字"}


def report(eng: Engine, user: str = "mgr1", data: dict | None = None) -> int:
    """A report; the audit department is offered the investigation."""
    iid = eng.start(user, KEY, dict(data or STAFF))
    assert offered_to(eng, "investigate_violation", iid) == holders("audit_dept") - {user}
    task = inbox_task(eng, "audit1", "investigate_violation", iid)
    assert (task["role"], task["title"]) == ("audit_dept", "调查核实并提出处理意见")
    assert parse(task["due_at"]) == T0 + timedelta(days=7)  # 5 working days: next Monday
    return iid


def finish(eng: Engine, iid: int) -> None:
    assert offered_to(eng, "record_sanction", iid) == holders("office")
    task = inbox_task(eng, "off1", "record_sanction", iid)
    with pytest.raises(InvalidData) as refused:  # the person's signature is required
        eng.complete("off1", task["id"], {**RECORD, "acknowledged": False})
    assert "acknowledged" in refused.value.fields
    do(eng, "off1", "record_sanction", RECORD, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], end_events(eng, iid)) == ("completed", "completed", ["sanction_recorded"])


@pytest.mark.rule("P12.5")
@pytest.mark.rule("P12.6")
def test_a_report_not_confirmed_ends_at_the_investigation(flows, clock):
    eng = flows
    with pytest.raises(Forbidden):  # a representative does not report breaches
        eng.start("rep1", KEY, dict(STAFF))
    with pytest.raises(InvalidData) as refused:
        eng.start("mgr1", KEY, {k: v for k, v in STAFF.items() if k != "violation_description"})
    assert "violation_description" in refused.value.fields
    iid = report(eng, "head1", SHOP)
    task = inbox_task(eng, "audit1", "investigate_violation", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("audit1", task["id"], {"violation_confirmed": True, "findings": "属实"})
    assert "sanction" in refused.value.fields
    not_confirmed = {"violation_confirmed": False, "findings": "门店已按时在系统中填报，报告有误"}
    do(eng, "audit1", "investigate_violation", not_confirmed, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["started_by"]) == ("completed", "rejected", "head1")
    assert end_events(eng, iid) == ["violation_not_confirmed"]
    assert branches(eng, iid) == [("violation_confirmed_gateway", "violation_not_confirmed", "default")]
    assert trail(eng, iid) == [("started", None), *ready_and_done("investigate_violation"),
                               ("gateway_taken", "violation_confirmed_gateway"), ("ended", None)]
    assert_completed(eng, iid, AUDITOR, {**SHOP, **not_confirmed})
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P12.6")
def test_the_audit_department_does_not_investigate_its_own_report(flows, clock):
    eng = flows
    iid = eng.start("rep_audit", KEY, dict(STAFF))
    assert offered_to(eng, "investigate_violation", iid) == holders("audit_dept") - {"rep_audit"}
    criticism = {"violation_confirmed": True, "findings": "属实", "sanction": "criticism"}
    requester_may_not_work(eng, iid, "rep_audit", "investigate_violation", criticism)
    do(eng, "audit1", "investigate_violation", criticism, iid)
    assert offered_to(eng, "director_approve_sanction", iid) == holders("sales_director")


@pytest.mark.rule("P12.7")
def test_a_sanction_must_fit_a_staff_member_or_a_shop(flows, clock):
    eng = flows
    iid = report(eng)
    task = inbox_task(eng, "audit1", "investigate_violation", iid)
    assert eng.task("audit1", task["id"])["initial_data"] == {"violator_kind": "staff"}  # shown, not typed
    for wrong in ({"sanction": "closure", "closure_days": 10}, {"sanction": "warning"}):
        with pytest.raises(InvalidData) as refused:  # a shop's sanctions for a person
            eng.complete("audit1", task["id"], {"violation_confirmed": True, "findings": "属实", **wrong})
        assert "sanction" in refused.value.fields
    for bad in ({"sanction": "fine"}, {"sanction": "fine", "fine_yuan": 0},
                {"sanction": "fine", "fine_yuan": 1000000.01}, {"sanction": "fine", "fine_yuan": 10.001}):
        with pytest.raises(InvalidData) as refused:
            eng.complete("audit1", task["id"], {"violation_confirmed": True, "findings": "属实", **bad})
        assert "fine_yuan" in refused.value.fields
    with pytest.raises(InvalidData) as refused:
        eng.complete("audit1", task["id"], {"violation_confirmed": True, "findings": "属实", "sanction": "suspension"})
    assert "suspension_days" in refused.value.fields
    # the prefilled kind cannot be changed by what is posted: still a staff member
    posted = {"violator_kind": "shop", "violation_confirmed": True, "findings": "属实", "sanction": "dismissal"}
    do(eng, "audit1", "investigate_violation", posted, iid)
    assert eng.instance(AUDITOR, iid)["data"]["violator_kind"] == "staff"
    assert offered_to(eng, "gm_approve_sanction", iid) == holders("general_manager")


@pytest.mark.rule("P12.7")
@pytest.mark.rule("P12.8")
@pytest.mark.rule("P12.9")
def test_a_small_fine_is_approved_by_the_sales_director_and_recorded(flows, clock):
    eng = flows
    iid = report(eng)
    fine = {"violation_confirmed": True, "findings": "经核查报价单，确系擅自降价", "sanction": "fine",
            "fine_yuan": 2000, "suspension_days": 3}  # hidden unless suspended: dropped
    do(eng, "audit1", "investigate_violation", fine, iid)
    assert eng.instance(AUDITOR, iid)["data"]["approval_level"] == "sales_director"
    assert offered_to(eng, "gm_approve_sanction", iid) == set()
    assert offered_to(eng, "director_approve_sanction", iid) == holders("sales_director")
    task = inbox_task(eng, "dir", "director_approve_sanction", iid)
    assert parse(task["due_at"]) == T0 + timedelta(days=1)
    do(eng, "dir", "director_approve_sanction", {"approved": True}, iid)
    finish(eng, iid)

    kept = {k: v for k, v in fine.items() if k != "suspension_days"}
    assert_completed(eng, iid, AUDITOR, {**STAFF, **kept, "approval_level": "sales_director", "approved": True,
                                         **RECORD})
    assert branches(eng, iid) == [
        ("violation_confirmed_gateway", "violation_approval_level", "violation_confirmed == True"),
        ("approval_level_gateway", "director_approve_sanction", "default"),
        ("director_approved_gateway", "record_sanction", "approved == True")]
    assert [t for t, _ in submissions(eng, iid)] == ["investigate_violation", "director_approve_sanction",
                                                     "record_sanction"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P12.8")
@pytest.mark.rule("P12.9")
def test_a_shop_closure_refused_by_the_general_manager_is_investigated_again(flows, clock):
    eng = flows
    iid = report(eng, "mgr2", SHOP)
    closure = {"violation_confirmed": True, "findings": "两周未报表，且拒绝整改", "sanction": "closure",
               "closure_days": 15}
    do(eng, "audit1", "investigate_violation", closure, iid)
    assert eng.instance(AUDITOR, iid)["data"]["approval_level"] == "general_manager"
    assert offered_to(eng, "director_approve_sanction", iid) == set()
    assert offered_to(eng, "gm_approve_sanction", iid) == holders("general_manager")
    task = inbox_task(eng, "gm1", "gm_approve_sanction", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", task["id"], {"approved": False})
    assert "comment" in refused.value.fields
    clock.advance(days=1)
    do(eng, "gm1", "gm_approve_sanction", {"approved": False, "comment": "首次违规，先予警告并罚款"}, iid)
    assert offered_to(eng, "investigate_violation", iid) == holders("audit_dept")
    lighter = {"violation_confirmed": True, "findings": "首次违规，按总经理意见", "sanction": "fine", "fine_yuan": 5000}
    do(eng, "audit1", "investigate_violation", lighter, iid)
    assert offered_to(eng, "gm_approve_sanction", iid) == holders("general_manager")  # above 2,000 yuan
    do(eng, "gm1", "gm_approve_sanction", {"approved": True}, iid)
    finish(eng, iid)

    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["sanction"], data["fine_yuan"], data["approval_level"]) == ("fine", 5000, "general_manager")
    assert [b[:2] for b in branches(eng, iid) if b[0] == "gm_approved_gateway"] == [
        ("gm_approved_gateway", "investigate_violation"), ("gm_approved_gateway", "record_sanction")]
    assert [t for t, _ in submissions(eng, iid)] == [
        "investigate_violation", "gm_approve_sanction", "investigate_violation", "gm_approve_sanction",
        "record_sanction"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P12.8")
@pytest.mark.rule("P12.9")
def test_a_warning_refused_by_the_sales_director_goes_back_and_a_suspension_goes_to_the_general_manager(flows, clock):
    eng = flows
    iid = eng.start("audit1", KEY, dict(SHOP))  # the audit department reports: another auditor investigates
    warning = {"violation_confirmed": True, "findings": "属实", "sanction": "warning"}
    requester_may_not_work(eng, iid, "audit1", "investigate_violation", warning)
    do(eng, "rep_audit", "investigate_violation", warning, iid)
    do(eng, "dir", "director_approve_sanction", {"approved": False, "comment": "请补充门店负责人说明"}, iid)
    assert offered_to(eng, "investigate_violation", iid) == holders("audit_dept") - {"audit1"}
    do(eng, "rep_audit", "investigate_violation", {**warning, "findings": "已补充门店负责人说明"}, iid)
    do(eng, "dir", "director_approve_sanction", {"approved": True}, iid)
    finish(eng, iid)
    assert [b[:2] for b in branches(eng, iid) if b[0] == "director_approved_gateway"] == [
        ("director_approved_gateway", "investigate_violation"), ("director_approved_gateway", "record_sanction")]

    staff = report(eng, "mgr1")
    suspension = {"violation_confirmed": True, "findings": "屡次擅自降价", "sanction": "suspension",
                  "suspension_days": 15}
    do(eng, "audit1", "investigate_violation", suspension, staff)
    assert eng.instance(AUDITOR, staff)["data"]["approval_level"] == "general_manager"
    do(eng, "gm1", "gm_approve_sanction", {"approved": True}, staff)
    finish(eng, staff)
    assert_audit_intact(eng, staff)
