"""P9 safety_accident (安全事故处理) and its drills, safety_drill: every path to an end event.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai. An employee reports an accident; at once the
department head starts the emergency plan and the safety department registers it (both within 1 hour); a
serious one goes to the general manager (24 hours). The safety department investigates cause and
responsibility and proposes a sanction; the table safety_sanction names who approves it (a warning the
department head, the rest the general manager; refused: investigated again); the sanction is recorded, the
department head carries out the corrective actions and the safety department checks them. The drills start
by their timer at 09:00 on 1 June and 1 December.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.conftest import T0
from tests.scenarios.conftest import deploy_repository
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    assert_completed,
    branches,
    do,
    end_events,
    holders,
    inbox_of,
    inbox_task,
    local_time,
    offered_to,
    parse,
    requester_may_not_work,
    submissions,
)

KEY = "safety_accident"
DRILL = "safety_drill"
REPORT = {"accident_description": "顾客在展厅被倒下的瓷砖样板砸伤左脚", "accident_location": "芜湖门店展厅东侧",
          "accident_date": "2026-03-02", "people_injured": 1}
EMERGENCY = {"emergency_plan": "injury", "immediate_measures": "现场止血包扎，送市第二医院，封闭样板区"}
GENERAL = {"accident_severity": "general"}
SERIOUS = {"accident_severity": "serious", "register_note": "登记号 AQ-2026-003"}
NOBODY = {"accident_cause": "样板支架焊点锈蚀断裂", "cause_category": "unsafe_condition", "someone_responsible": False,
          "sanction": "none"}
RESPONSIBLE = {"accident_cause": "样板支架焊点锈蚀，月度检查漏检", "cause_category": "management",
               "someone_responsible": True, "responsible_person": "王磊", "responsible_department": "芜湖门店"}
# the sanction notice is dated T0's day: a day that has not come yet is refused
RECORDED = {"sanction_notice_no": "安字〔2026〕3号", "sanction_date": "2026-03-02"}
CORRECTED = {"corrective_measures": "全部样板支架更换为加固型，检查表增加焊点一项"}
ACCEPTED = {"corrections_accepted": True}
JUNE = local_time("2026-06-01", "09:00")
DECEMBER = local_time("2026-12-01", "09:00")


@pytest.fixture
def safety(engine: Engine) -> Engine:
    """processes/ and forms/ deployed as they are in the repository, and PEOPLE."""
    deployed = {(key, status) for key, _version, status in deploy_repository(engine)}
    assert {(KEY, "deployed"), (DRILL, "deployed")} <= deployed
    return engine


def instances_of(eng: Engine, key: str) -> list[dict]:
    """Every instance of the process, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == key]


def report(eng: Engine, user: str = "rep1", data: dict | None = None) -> int:
    """An employee reports an accident: the department heads and the safety department are told at once."""
    iid = eng.start(user, KEY, dict(data or REPORT))
    assert offered_to(eng, "start_emergency_plan", iid) == holders("department_head")
    assert offered_to(eng, "register_accident", iid) == holders("safety_officer")
    return iid


def reported_up(eng: Engine, iid: int, severity: dict = GENERAL) -> None:
    do(eng, "head1", "start_emergency_plan", EMERGENCY, iid)
    do(eng, "safe1", "register_accident", severity, iid)


def correct_and_close(eng: Engine, iid: int) -> None:
    assert offered_to(eng, "carry_out_corrections", iid) == holders("department_head")
    do(eng, "head2", "carry_out_corrections", CORRECTED, iid)
    assert offered_to(eng, "check_corrections", iid) == holders("safety_officer")
    do(eng, "safe2", "check_corrections", ACCEPTED, iid)


@pytest.mark.rule("P9.1")
@pytest.mark.rule("P9.2")
@pytest.mark.rule("P9.3")
@pytest.mark.rule("P9.4")
@pytest.mark.rule("P9.7")
def test_a_general_accident_nobody_is_responsible_for_is_investigated_corrected_and_closed(safety, clock):
    eng = safety
    with pytest.raises(InvalidData) as refused:
        eng.start("rep1", KEY, {**REPORT, "accident_location": " ", "people_injured": -1})
    assert {"accident_location", "people_injured"} <= set(refused.value.fields)
    iid = report(eng)
    emergency = inbox_task(eng, "head1", "start_emergency_plan", iid)
    register = inbox_task(eng, "safe1", "register_accident", iid)
    assert (emergency["role"], emergency["title"], register["role"], register["title"]) == (
        "department_head", "启动应急预案", "safety_officer", "登记安全事故")
    assert parse(emergency["due_at"]) == parse(register["due_at"]) == T0 + timedelta(hours=1)
    with pytest.raises(InvalidData) as refused:
        eng.complete("head1", emergency["id"], {"emergency_plan": "flood", "immediate_measures": "x"})
    assert "emergency_plan" in refused.value.fields
    clock.advance(minutes=20)
    do(eng, "safe1", "register_accident", GENERAL, iid)  # the two branches in either order
    assert offered_to(eng, "investigate_accident", iid) == set()  # waits for the emergency plan
    do(eng, "head1", "start_emergency_plan", EMERGENCY, iid)
    assert offered_to(eng, "inform_general_manager", iid) == set()
    assert offered_to(eng, "investigate_accident", iid) == holders("safety_officer")
    task = inbox_task(eng, "safe2", "investigate_accident", iid)
    assert parse(task["due_at"]) == T0 + timedelta(days=7, minutes=20)
    with pytest.raises(InvalidData) as refused:  # nobody responsible: nobody to sanction
        eng.complete("safe2", task["id"], {**NOBODY, "sanction": "warning"})
    assert "sanction" in refused.value.fields
    do(eng, "safe2", "investigate_accident", NOBODY, iid)
    assert offered_to(eng, "approve_sanction_head", iid) == offered_to(eng, "approve_sanction_gm", iid) == set()

    fix = inbox_task(eng, "head2", "carry_out_corrections", iid)
    assert parse(fix["due_at"]) == T0 + timedelta(days=14, minutes=20)
    do(eng, "head2", "carry_out_corrections", {"corrective_measures": "加固支架"}, iid)
    check = inbox_task(eng, "safe1", "check_corrections", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("safe1", check["id"], {"corrections_accepted": False})
    assert "corrections_comment" in refused.value.fields
    do(eng, "safe1", "check_corrections", {"corrections_accepted": False, "corrections_comment": "只加固了一处"}, iid)
    correct_and_close(eng, iid)

    assert_completed(eng, iid, AUDITOR, {**REPORT, **EMERGENCY, **GENERAL, **NOBODY, "sanction_approver": "none",
                                         **CORRECTED, **ACCEPTED, "corrections_comment": "只加固了一处"})
    inst = eng.instance(AUDITOR, iid)
    assert (inst["outcome"], inst["started_by"], end_events(eng, iid)) == ("resolved", "rep1", ["accident_closed"])
    assert [b[:2] for b in branches(eng, iid)] == [  # decisions only: the parallel fork and join choose nothing
        ("serious_gateway", "investigate_merge"), ("investigate_merge", "investigate_accident"),
        ("sanction_approver_gateway", "corrective_merge"), ("corrective_merge", "carry_out_corrections"),
        ("corrections_accepted_gateway", "corrective_merge"), ("corrective_merge", "carry_out_corrections"),
        ("corrections_accepted_gateway", "accident_closed")]
    assert [t for t, _ in submissions(eng, iid)] == [
        "register_accident", "start_emergency_plan", "investigate_accident", "carry_out_corrections",
        "check_corrections", "carry_out_corrections", "check_corrections"]
    assert all(t["process_key"] != KEY for u in PEOPLE for t in inbox_of(eng, u))
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P9.3")
@pytest.mark.rule("P9.5")
@pytest.mark.rule("P9.6")
def test_a_serious_accident_goes_to_the_general_manager_who_approves_a_demerit(safety, clock):
    eng = safety
    iid = report(eng, "svc1", {**REPORT, "people_injured": 2})
    clock.advance(minutes=30)
    reported_up(eng, iid, SERIOUS)
    assert offered_to(eng, "investigate_accident", iid) == set()
    assert offered_to(eng, "inform_general_manager", iid) == holders("general_manager")
    gm = inbox_task(eng, "gm1", "inform_general_manager", iid)
    assert parse(gm["due_at"]) == T0 + timedelta(hours=24, minutes=30)
    with pytest.raises(InvalidData):
        eng.complete("gm1", gm["id"], {"gm_acknowledged": False})
    do(eng, "gm1", "inform_general_manager", {"gm_acknowledged": True, "gm_instructions": "全力救治，三天内查清"}, iid)

    task = inbox_task(eng, "safe1", "investigate_accident", iid)
    with pytest.raises(InvalidData) as refused:  # seed 216: who is responsible, of which department
        eng.complete("safe1", task["id"], {"accident_cause": "支架锈蚀", "someone_responsible": True,
                                           "sanction": "demerit"})
    assert {"responsible_person", "responsible_department"} <= set(refused.value.fields)
    do(eng, "safe1", "investigate_accident", {**RESPONSIBLE, "sanction": "demerit"}, iid)
    assert offered_to(eng, "approve_sanction_head", iid) == set()
    assert offered_to(eng, "approve_sanction_gm", iid) == holders("general_manager")
    approval = inbox_task(eng, "gm1", "approve_sanction_gm", iid)
    assert approval["title"] == "总经理审批处分"
    assert parse(approval["due_at"]) == T0 + timedelta(days=1, minutes=30)  # one working day: Tuesday
    do(eng, "gm1", "approve_sanction_gm", {"approved": True}, iid)
    assert offered_to(eng, "record_sanction", iid) == holders("safety_officer")
    record = inbox_task(eng, "safe2", "record_sanction", iid)
    assert parse(record["due_at"]) == T0 + timedelta(days=3, minutes=30)
    do(eng, "safe2", "record_sanction", RECORDED, iid)
    correct_and_close(eng, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"]) == ("completed", "resolved")
    assert (inst["data"]["sanction"], inst["data"]["sanction_approver"]) == ("demerit", "general_manager")
    assert ("serious_gateway", "inform_general_manager", "accident_severity == 'serious'") in branches(eng, iid)
    assert ("sanction_approver_gateway", "approve_sanction_gm", "sanction_approver == 'general_manager'") in \
        branches(eng, iid)
    assert [t for t, _ in submissions(eng, iid)] == [
        "start_emergency_plan", "register_accident", "inform_general_manager", "investigate_accident",
        "approve_sanction_gm", "record_sanction", "carry_out_corrections", "check_corrections"]
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P9.5")
@pytest.mark.rule("P9.6")
def test_a_warning_is_approved_by_a_department_head_who_did_not_report_the_accident(safety, clock):
    eng = safety
    iid = report(eng, "rep_head")
    do(eng, "rep_head", "start_emergency_plan", EMERGENCY, iid)  # an emergency: any department head acts
    do(eng, "safe1", "register_accident", GENERAL, iid)
    do(eng, "safe1", "investigate_accident", {**RESPONSIBLE, "sanction": "warning"}, iid)
    assert offered_to(eng, "approve_sanction_gm", iid) == set()
    assert offered_to(eng, "approve_sanction_head", iid) == holders("department_head") - {"rep_head"}
    requester_may_not_work(eng, iid, "rep_head", "approve_sanction_head", {"approved": True})
    do(eng, "head2", "approve_sanction_head", {"approved": True}, iid)
    do(eng, "safe2", "record_sanction", RECORDED, iid)
    correct_and_close(eng, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["sanction_approver"]) == (
        "completed", "resolved", "department_head")
    assert ("sanction_approver_gateway", "approve_sanction_head", "sanction_approver == 'department_head'") in \
        branches(eng, iid)
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P9.4")
@pytest.mark.rule("P9.5")
def test_a_refused_dismissal_is_investigated_again_and_a_demotion_approved(safety, clock):
    eng = safety
    iid = report(eng)
    reported_up(eng, iid)
    do(eng, "safe1", "investigate_accident", {**RESPONSIBLE, "sanction": "dismissal"}, iid)
    approval = inbox_task(eng, "gm1", "approve_sanction_gm", iid)
    with pytest.raises(InvalidData) as refused:
        eng.complete("gm1", approval["id"], {"approved": False})
    assert "comment" in refused.value.fields
    do(eng, "gm1", "approve_sanction_gm", {"approved": False, "comment": "初犯，解聘过重"}, iid)
    assert offered_to(eng, "record_sanction", iid) == set()
    assert offered_to(eng, "investigate_accident", iid) == holders("safety_officer")
    do(eng, "safe2", "investigate_accident", {**RESPONSIBLE, "sanction": "demotion"}, iid)
    do(eng, "gm1", "approve_sanction_gm", {"approved": True}, iid)
    do(eng, "safe2", "record_sanction", RECORDED, iid)
    correct_and_close(eng, iid)

    inst = eng.instance(AUDITOR, iid)
    assert (inst["status"], inst["outcome"], inst["data"]["sanction"]) == ("completed", "resolved", "demotion")
    assert [b[:2] for b in branches(eng, iid) if b[0] == "sanction_approved_gateway"] == [
        ("sanction_approved_gateway", "investigate_merge"), ("sanction_approved_gateway", "record_sanction")]
    assert [t for t, _ in submissions(eng, iid)].count("investigate_accident") == 2
    assert_audit_intact(eng, iid)


@pytest.mark.rule("P9.1")
def test_any_employee_may_report_an_accident_but_not_a_system_account(safety, clock):
    eng = safety
    for user in ("fin1", "prod1", "disp", "gm1", "safe1"):  # finance, production, dispatch, management, safety
        iid = eng.start(user, KEY, dict(REPORT))
        assert eng.instance(AUDITOR, iid)["started_by"] == user
    with pytest.raises(Forbidden):
        eng.start(AUDITOR, KEY, dict(REPORT))
    assert len(instances_of(eng, KEY)) == 5


def fire_all(eng: Engine) -> None:
    while eng.fire_due_timers():
        pass


@pytest.mark.rule("P9.8")
def test_a_drill_starts_on_the_first_of_june_is_planned_and_recorded_and_december_follows(safety, clock):
    eng = safety
    with pytest.raises(Forbidden, match="started by its timer"):
        eng.start("safe1", DRILL, {})
    [armed] = instances_of(eng, DRILL)
    assert (armed["status"], armed["started_by"], armed["tasks"]) == ("running", "system", [])
    clock.set(JUNE - timedelta(minutes=1))
    fire_all(eng)  # the monthly survey and inspection start meanwhile; no drill yet
    assert offered_to(eng, "plan_drill") == set()
    clock.set(JUNE + timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_drill", armed["id"]) == holders("safety_officer")
    plan = inbox_task(eng, "safe1", "plan_drill", armed["id"])
    assert (plan["role"], plan["title"]) == ("safety_officer", "制定演练计划")
    assert parse(plan["due_at"]) == JUNE + timedelta(days=14, minutes=1)
    [december] = [v for v in instances_of(eng, DRILL) if v["tasks"] == [] and v["status"] == "running"]

    planned = {"drill_date": "2026-06-10", "emergency_plan": "fire", "drill_scope": "芜湖门店全体，展厅起火疏散"}
    with pytest.raises(InvalidData) as refused:  # not before today
        eng.complete("safe1", plan["id"], {**planned, "drill_date": "2026-05-31"})
    assert "drill_date" in refused.value.fields
    do(eng, "safe1", "plan_drill", planned, armed["id"])
    record = inbox_task(eng, "safe2", "record_drill", armed["id"])
    assert parse(record["due_at"]) == local_time("2026-06-13", "18:00")
    recorded = {"drill_participants": "门店销售、售后、仓库人员", "participant_count": 23,
                "drill_findings": "疏散用时4分钟；二号安全出口堆放杂物，已清理"}
    with pytest.raises(InvalidData) as refused:
        eng.complete("safe2", record["id"], {**recorded, "participant_count": 0})
    assert "participant_count" in refused.value.fields
    do(eng, "safe2", "record_drill", recorded, armed["id"])
    assert_completed(eng, armed["id"], AUDITOR, {**planned, **recorded})
    inst = eng.instance(AUDITOR, armed["id"])
    assert (inst["outcome"], end_events(eng, armed["id"])) == ("completed", ["drill_done"])
    assert_audit_intact(eng, armed["id"])

    clock.set(DECEMBER - timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_drill") == set()
    clock.set(DECEMBER + timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_drill", december["id"]) == holders("safety_officer")
    assert len([v for v in instances_of(eng, DRILL) if v["tasks"] == [] and v["status"] == "running"]) == 1  # June 2027
