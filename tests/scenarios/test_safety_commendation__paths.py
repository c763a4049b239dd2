"""P15 safety_commendation (安全表彰奖励) and its annual round, safety_commendation_round: every path.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. A department head or the safety department
nominates a person or a department; the safety department reviews it within 5 working days (overdue: the
general manager is reminded) and proposes the reward; the general manager approves every reward, and the
table safety_commendation_approval sends a bonus above 10,000 yuan on to headquarters; a refusal goes back to
the review; the safety department records the decision. The round starts by its timer at 09:00 on 10 January.
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
    local_time,
    offered_to,
    parse,
    ready_and_done,
    requester_may_not_work,
    submissions,
    trail,
)

KEY = "safety_commendation"
ROUND = "safety_commendation_round"
PERSON = {"nominee_kind": "person", "nominee_name": "李强", "nominee_department": "芜湖门店",
          "achievement": "2月18日展厅电线短路冒烟，第一时间断电并用灭火器扑灭，未造成损失"}
TEAM = {"nominee_kind": "department", "nominee_name": "马鞍山门店",
        "achievement": "全年零事故，隐患整改按期完成率100%"}
BONUS = {"nomination_confirmed": True, "review_comment": "经核实属实，处置及时", "reward_kind": "bonus",
         "reward_amount_yuan": 3000}
RECORDED = {"commendation_notice_no": "安表〔2026〕1号", "announced_on": "2026-03-02"}
JANUARY = local_time("2027-01-10", "09:00")


def instances_of(eng: Engine, key: str) -> list[dict]:
    """Every instance of the process, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == key]


def nominate(eng: Engine, user: str = "head1", data: dict | None = None) -> int:
    """A nomination; the safety department (but not the nominator) is offered the review."""
    iid = eng.start(user, KEY, dict(data or PERSON))
    assert offered_to(eng, "review_nomination", iid) == holders("safety_officer") - {user}
    return iid


def record(eng: Engine, iid: int, user: str = "safe2") -> None:
    assert offered_to(eng, "record_commendation", iid) == holders("safety_officer")
    task = inbox_task(eng, user, "record_commendation", iid)
    with pytest.raises(InvalidData) as refused:  # announced: not a day in the future
        eng.complete(user, task["id"], {**RECORDED, "announced_on": "2026-12-31"})
    assert "announced_on" in refused.value.fields
    do(eng, user, "record_commendation", RECORDED, iid)
    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], end_events(eng, iid)) == ("completed", "approved",
                                                                       ["commendation_recorded"])


@pytest.mark.rule("P15.1")
@pytest.mark.rule("P15.2")
@pytest.mark.rule("P15.3")
@pytest.mark.rule("P15.4")
def test_a_bonus_is_proposed_approved_by_the_general_manager_and_recorded(flows, clock):
    eng = flows
    with pytest.raises(Forbidden):  # a representative does not nominate
        eng.start("rep1", KEY, dict(PERSON))
    with pytest.raises(InvalidData) as refused:
        eng.start("head1", KEY, {**PERSON, "achievement": " ", "nominee_kind": "shop"})
    assert {"achievement", "nominee_kind"} <= set(refused.value.fields)
    iid = nominate(eng)
    task = inbox_task(eng, "safe1", "review_nomination", iid)
    assert (task["role"], task["title"]) == ("safety_officer", "审核提名并提出奖励")
    assert parse(task["due_at"]) == T0 + timedelta(days=7)  # 5 working days: next Monday
    with pytest.raises(InvalidData) as refused:  # confirmed: the reward is proposed
        eng.complete("safe1", task["id"], {"nomination_confirmed": True, "review_comment": "属实"})
    assert "reward_kind" in refused.value.fields
    with pytest.raises(InvalidData) as refused:  # a bonus: its amount, in yuan and fen
        eng.complete("safe1", task["id"], {**BONUS, "reward_amount_yuan": 12.345})
    assert "reward_amount_yuan" in refused.value.fields
    do(eng, "safe1", "review_nomination", BONUS, iid)

    assert offered_to(eng, "gm_approve_reward", iid) == holders("general_manager")
    approval = inbox_task(eng, "gm1", "gm_approve_reward", iid)
    assert (approval["title"], parse(approval["due_at"])) == ("总经理审批奖励", T0 + timedelta(days=3))
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", approval["id"], {"approved": False})
    assert "comment" in refused.value.fields
    clock.advance(hours=2)
    do(eng, "gm1", "gm_approve_reward", {"approved": True}, iid)
    assert offered_to(eng, "hq_approve_reward", iid) == set()
    clock.advance(days=3)
    record(eng, iid)

    assert_completed(eng, iid, AUDITOR, {**PERSON, **BONUS, "reward_approval": "general_manager",
                                         "approved": True, **RECORDED})
    assert eng.instance(AUDITOR, iid)["started_by"] == "head1"
    assert branches(eng, iid) == [
        ("nomination_confirmed_gateway", "reward_approval_level", "nomination_confirmed == True"),
        ("gm_approved_gateway", "headquarters_needed_gateway", "approved == True"),
        ("headquarters_needed_gateway", "record_commendation", "default")]
    assert [t for t, _ in submissions(eng, iid)] == ["review_nomination", "gm_approve_reward",
                                                     "record_commendation"]
    assert trail(eng, iid, skip=("claimed", "gateway_taken")) == [
        ("started", None), *ready_and_done("review_nomination"), *ready_and_done("gm_approve_reward"),
        *ready_and_done("record_commendation"), ("ended", None)]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P15.1")
@pytest.mark.rule("P15.2")
def test_a_nomination_the_safety_department_does_not_confirm_ends_with_its_reason(flows, clock):
    eng = flows
    iid = nominate(eng, "safe1", TEAM)  # the safety department nominates: another officer reviews
    declined = {"nomination_confirmed": False, "review_comment": "该店12月发生一起一般事故，不符合条件"}
    requester_may_not_work(eng, iid, "safe1", "review_nomination", declined)
    task = inbox_task(eng, "safe2", "review_nomination", iid)
    with pytest.raises(InvalidData) as refused:  # the reason is required
        eng.complete("safe2", task["id"], {"nomination_confirmed": False})
    assert "review_comment" in refused.value.fields
    # a reward sent with a refusal is not kept (the fields are hidden on the page)
    do(eng, "safe2", "review_nomination", {**declined, "reward_kind": "honour"}, iid)

    assert_completed(eng, iid, AUDITOR, {**TEAM, **declined})
    inst = eng.instance(AUDITOR, iid)
    assert (inst["outcome"], end_events(eng, iid)) == ("rejected", ["nomination_declined"])
    assert offered_to(eng, "gm_approve_reward", iid) == set()
    assert branches(eng, iid) == [("nomination_confirmed_gateway", "nomination_declined", "default")]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P15.3")
def test_refusals_go_back_to_the_review_and_a_large_bonus_needs_headquarters(flows, clock):
    eng = flows
    iid = nominate(eng, "rep_head", TEAM)
    large = {**BONUS, "reward_amount_yuan": 20000}
    do(eng, "safe1", "review_nomination", large, iid)
    do(eng, "gm1", "gm_approve_reward", {"approved": False, "comment": "金额偏高，请按全年表现重新评定"}, iid)
    assert offered_to(eng, "hq_approve_reward", iid) == set()
    assert offered_to(eng, "review_nomination", iid) == holders("safety_officer")
    do(eng, "safe2", "review_nomination", {**large, "reward_amount_yuan": 15000}, iid)
    do(eng, "rep_gm", "gm_approve_reward", {"approved": True}, iid)

    assert offered_to(eng, "hq_approve_reward", iid) == holders("headquarters")
    hq = inbox_task(eng, "hq1", "hq_approve_reward", iid)
    assert (hq["role"], hq["title"]) == ("headquarters", "总公司审批奖励")
    with pytest.raises(InvalidData) as refused:
        eng.complete("hq1", hq["id"], {"hq_approved": False})
    assert "hq_comment" in refused.value.fields
    do(eng, "hq1", "hq_approve_reward", {"hq_approved": False, "hq_comment": "超过本年度安全奖励预算"}, iid)
    assert offered_to(eng, "review_nomination", iid) == holders("safety_officer")
    do(eng, "safe1", "review_nomination", {**large, "reward_amount_yuan": 8000}, iid)
    do(eng, "gm1", "gm_approve_reward", {"approved": True}, iid)
    assert offered_to(eng, "hq_approve_reward", iid) == set()  # 8,000 yuan: the general manager suffices
    record(eng, iid, "safe1")

    data = eng.instance(AUDITOR, iid)["data"]
    assert (data["reward_amount_yuan"], data["reward_approval"], data["hq_approved"]) == (
        8000, "general_manager", False)
    assert [b[:2] for b in branches(eng, iid) if b[0] != "nomination_confirmed_gateway"] == [
        ("gm_approved_gateway", "review_nomination"),
        ("gm_approved_gateway", "headquarters_needed_gateway"),
        ("headquarters_needed_gateway", "hq_approve_reward"),
        ("hq_approved_gateway", "review_nomination"),
        ("gm_approved_gateway", "headquarters_needed_gateway"),
        ("headquarters_needed_gateway", "record_commendation")]
    assert ("headquarters_needed_gateway", "hq_approve_reward", "reward_approval == 'headquarters'") in \
        branches(eng, iid)
    assert [t for t, _ in submissions(eng, iid)] == [
        "review_nomination", "gm_approve_reward", "review_nomination", "gm_approve_reward", "hq_approve_reward",
        "review_nomination", "gm_approve_reward", "record_commendation"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P15.3")
def test_headquarters_approves_a_large_bonus_after_the_general_manager(flows, clock):
    eng = flows
    iid = nominate(eng)
    do(eng, "safe1", "review_nomination", {**BONUS, "reward_amount_yuan": 10000.01}, iid)
    do(eng, "gm1", "gm_approve_reward", {"approved": True}, iid)
    hq = inbox_task(eng, "rep_hq", "hq_approve_reward", iid)
    assert parse(hq["due_at"]) == T0 + timedelta(days=7)
    do(eng, "rep_hq", "hq_approve_reward", {"hq_approved": True}, iid)
    record(eng, iid)
    assert eng.instance(AUDITOR, iid)["data"]["reward_approval"] == "headquarters"
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P15.3")
def test_a_commendation_without_money_is_approved_by_the_general_manager_alone(flows, clock):
    eng = flows
    for kind in ("commendation", "honour"):
        iid = nominate(eng, "head2", TEAM)
        reviewed = {"nomination_confirmed": True, "review_comment": "属实", "reward_kind": kind}
        do(eng, "safe1", "review_nomination", {**reviewed, "reward_amount_yuan": 500}, iid)  # no bonus: not kept
        do(eng, "gm1", "gm_approve_reward", {"approved": True}, iid)
        record(eng, iid)
        data = eng.instance(AUDITOR, iid)["data"]
        assert (data["reward_kind"], data["reward_approval"], "reward_amount_yuan" in data) == (
            kind, "general_manager", False)


@pytest.mark.rule("P15.5")
def test_an_overdue_review_reminds_the_general_manager_and_stays_open(flows, clock):
    eng = flows
    iid = nominate(eng)
    clock.set(T0 + timedelta(days=7) - timedelta(minutes=1))
    eng.fire_due_timers()
    assert offered_to(eng, "remind_review", iid) == set()
    clock.set(T0 + timedelta(days=7, minutes=1))
    while eng.fire_due_timers():
        pass
    assert offered_to(eng, "remind_review", iid) == holders("general_manager")
    task = inbox_task(eng, "gm1", "remind_review", iid)
    assert (task["title"], task["due_at"]) == ("提名审核逾期督办", None)
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", task["id"], {"reminder_comment": "  "})
    assert "reminder_comment" in refused.value.fields
    do(eng, "gm1", "remind_review", {"reminder_comment": "请安全管理部门本周内完成审核"}, iid)
    assert offered_to(eng, "review_nomination", iid) == holders("safety_officer")  # still open
    do(eng, "safe1", "review_nomination", BONUS, iid)
    do(eng, "gm1", "gm_approve_reward", {"approved": True}, iid)
    record(eng, iid)
    events = [e for e in eng.history(AUDITOR, iid) if e["kind"] in ("escalated", "timer_fired")]
    assert [e["task"] for e in events if e["kind"] == "escalated"] == ["review_overdue"]
    assert_audit_intact(eng, iid)


def fire_all(eng: Engine) -> None:
    while eng.fire_due_timers():
        pass


@pytest.mark.rule("P15.6")
def test_the_annual_round_on_10_january_passes_a_nomination_on_and_the_next_year_may_nominate_nobody(
        flows, clock):
    eng = flows
    with pytest.raises(Forbidden, match="started by its timer"):
        eng.start("head1", ROUND, {})
    [armed] = instances_of(eng, ROUND)
    assert (armed["status"], armed["started_by"], armed["tasks"]) == ("running", "system", [])
    clock.set(JANUARY - timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "nominate_for_year") == set()
    clock.set(JANUARY + timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "nominate_for_year", armed["id"]) == holders("department_head")
    task = inbox_task(eng, "head1", "nominate_for_year", armed["id"])
    assert (task["role"], task["title"], parse(task["due_at"])) == (
        "department_head", "年度安全工作总结与提名", JANUARY + timedelta(days=10, minutes=1))
    summary = {"year_summary": "全年检查12次，整改隐患9处，无事故"}
    with pytest.raises(InvalidData) as refused:  # nominating: who and why
        eng.complete("head1", task["id"], {**summary, "nominating": True})
    assert {"nominee_kind", "nominee_name", "achievement"} <= set(refused.value.fields)
    nomination = {"nominating": True, "nominee_kind": "person", "nominee_name": "张敏",
                  "achievement": "兼职安全员，全年组织隐患排查并带队演练"}
    do(eng, "head1", "nominate_for_year", {**summary, **nomination}, armed["id"])

    inst = eng.instance(AUDITOR, armed["id"])
    assert (inst["status"], inst["outcome"], end_events(eng, armed["id"])) == (
        "completed", "transferred", ["nomination_passed_on"])
    [started] = instances_of(eng, KEY)
    assert started["data"] == {"nominee_kind": "person", "nominee_name": "张敏",
                               "achievement": nomination["achievement"], "from_annual_round": True}
    assert offered_to(eng, "review_nomination", started["id"]) == holders("safety_officer")
    honour = {"nomination_confirmed": True, "review_comment": "属实", "reward_kind": "honour"}
    do(eng, "safe1", "review_nomination", honour, started["id"])
    do(eng, "gm1", "gm_approve_reward", {"approved": True}, started["id"])
    do(eng, "safe2", "record_commendation", {**RECORDED, "announced_on": "2027-01-10"}, started["id"])
    assert eng.instance(AUDITOR, started["id"])["outcome"] == "approved"
    assert_audit_intact(eng, armed["id"])
    assert_audit_intact(eng, started["id"])

    [next_year] = [v for v in instances_of(eng, ROUND) if v["status"] == "running"]
    assert next_year["tasks"] == []
    clock.set(local_time("2028-01-10", "09:01"))
    fire_all(eng)
    do(eng, "head2", "nominate_for_year", {"year_summary": "全年无事故", "nominating": False,
                                           "nominee_name": "不会保存"}, next_year["id"])
    assert_completed(eng, next_year["id"], AUDITOR, {"year_summary": "全年无事故", "nominating": False})
    assert end_events(eng, next_year["id"]) == ["nobody_nominated"]
    assert eng.instance(AUDITOR, next_year["id"])["outcome"] == "completed"
    assert len(instances_of(eng, KEY)) == 1
    assert_audit_intact(eng, next_year["id"])
