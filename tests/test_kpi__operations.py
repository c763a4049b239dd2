"""Issue 14's KPI figures, driven through the real processes: safety hazards open and overdue, accidents by cause
and severity, the training pass rate, opinions answered within their deadline, and the appraisal per person with
who may see it.

The data set (company time; T0 = Monday 2026-03-02 09:00), built once, every figure computed by hand below:

| case | what happens | as at NOW (Friday 2026-04-03 10:00) |
|---|---|---|
| H1 | hazard reported T0, verified general (7 days: due 03-09 09:00), never rectified | open, overdue (general) |
| H2 | hazard reported T0, major: work stopped, GM told, rectified, accepted, reward recorded | removed at T0 |
| H3 | hazard reported 03-30 10:00, verified general (due 04-06 10:00) | open, not overdue |
| H4 | hazard reported 03-31 10:00, not verified yet | open, grade not decided |
| A1 | accident T0, general, investigated: unsafe condition | |
| A2 | accident T0, serious, GM told, investigated: management, a warning proposed | |
| A3 | accident T0, general, not investigated yet | cause not decided |
| T1 | safety training recorded 03-10: rep1 passed (92), fix1 failed (45), asst1 absent | assessed 2, passed 1 |
| T2 | product training recorded 03-10: rep2 and svc1 passed | assessed 2, passed 2 |
| O1 | opinion T0 (deadline 03-09 09:00), answered 03-04 | on time |
| O2 | opinion T0, answered 03-10 10:00 | late |
| O3 | opinion T0, handled, never answered | open past the deadline |
| O4 | opinion 03-31 10:00 (deadline 5 working days later, in April) | open |
| M1 | March appraisal (04-03 09:00): rep1 bonus 2,000 returned, 2,500 approved; rep2 300 deducted | |
| V1 | violation by rep1 (a login id): fine 500 yuan, approved, recorded 03-02 | |
| V2 | violation by a shop: closure, not per person | |
"""

from __future__ import annotations

from datetime import UTC

import pytest
import yaml

from engine import Engine
from engine.clock import ManualClock
from engine.errors import Forbidden
from engine.kpi import definitions, sections
from tests.conftest import ROOT
from tests.scenarios import test_customer_opinion__paths as opinion
from tests.scenarios import test_safety_accident__paths as accident
from tests.scenarios import test_safety_hazard__paths as hazard
from tests.scenarios import test_training__paths as training
from tests.scenarios import test_violation__paths as violation
from tests.scenarios.driver import dated, do, local_time
from tests.test_kpi__figures import repository_data_set

NOW = local_time("2026-04-03", "10:00")
AUDITOR = "aud"
LEVELS = {"major": {"zh": "重大隐患（立即停工）", "en": "Major (work stops at once)"}}
MARCH_REVIEW = {"appraisal_month": "2026-03", "review_notes": "三月小结",
                "figures": [{"login_id": "rep1", "sales_yuan": 100000, "target_met": True},
                            {"login_id": "rep2", "sales_yuan": 50000.5, "target_met": False, "remarks": "新客户少"}],
                "proposals": [{"login_id": "rep1", "measure": "绩效奖金", "bonus_yuan": 2000, "reason": "完成目标"},
                              {"login_id": "rep2", "measure": "绩效扣减", "deduction_yuan": 300, "reason": "未达标"}]}


def _hazards(eng: Engine, clock: ManualClock) -> dict[str, int]:
    ids = {"H1": hazard.report(eng, "rep1"), "H2": hazard.report(eng, "rep2")}
    do(eng, "head1", "verify_hazard", hazard.GENERAL, ids["H1"])
    do(eng, "head1", "verify_hazard", hazard.MAJOR, ids["H2"])
    do(eng, "head1", "stop_work", {"work_stopped": True, "immediate_measures": "封闭展厅东侧"}, ids["H2"])
    do(eng, "gm1", "inform_general_manager", {"gm_acknowledged": True, "gm_instructions": "今天内整改"}, ids["H2"])
    hazard.rectify_and_close(eng, ids["H2"])
    return ids


def _accidents(eng: Engine) -> dict[str, int]:
    ids = {name: accident.report(eng, "rep1") for name in ("A1", "A2", "A3")}
    accident.reported_up(eng, ids["A1"])
    do(eng, "safe1", "investigate_accident", accident.NOBODY, ids["A1"])
    accident.reported_up(eng, ids["A2"], accident.SERIOUS)
    do(eng, "gm1", "inform_general_manager", {"gm_acknowledged": True, "gm_instructions": "三天内查清"}, ids["A2"])
    do(eng, "safe1", "investigate_accident", {**accident.RESPONSIBLE, "sanction": "warning"}, ids["A2"])
    accident.reported_up(eng, ids["A3"])
    return ids


def _violations(eng: Engine) -> dict[str, int]:
    v1 = violation.report(eng, "mgr1", {**violation.STAFF, "violator_name": "rep1"})
    do(eng, "audit1", "investigate_violation", {"violation_confirmed": True, "findings": "擅自降价属实",
                                                "sanction": "fine", "fine_yuan": 500}, v1)
    do(eng, "dir", "director_approve_sanction", {"approved": True}, v1)
    do(eng, "off1", "record_sanction", violation.RECORD, v1)
    v2 = violation.report(eng, "mgr1", violation.SHOP)
    do(eng, "audit1", "investigate_violation", {"violation_confirmed": True, "findings": "属实",
                                                "sanction": "closure", "closure_days": 3}, v2)
    do(eng, "gm1", "gm_approve_sanction", {"approved": True}, v2)
    do(eng, "off1", "record_sanction", violation.RECORD, v2)
    return {"V1": v1, "V2": v2}


def _opinions_registered(eng: Engine) -> dict[str, int]:
    ids = {"O1": eng.start("svc1", opinion.KEY, opinion.registration()),
           "O2": eng.start("rep1", opinion.KEY, opinion.registration()),
           "O3": eng.start("svc2", opinion.KEY, opinion.registration())}
    for iid in ids.values():
        do(eng, "mgr1", "handle_by_sales", opinion.HANDLED, iid)
    return ids


def _trainings(eng: Engine) -> dict[str, int]:
    product = {**training.PLAN, "training_kind": "product_knowledge", "topic": "新品瓷砖铺贴工艺"}
    ids = {"T1": eng.start("train1", training.KEY, training.PLAN), "T2": eng.start("train1", training.KEY, product)}
    for iid in ids.values():
        do(eng, "gm1", "approve_plan", training.APPROVED, iid)
    return ids


def _appraisal(eng: Engine, clock: ManualClock) -> int:
    clock.set(local_time("2026-04-03", "09:01"))
    while eng.fire_due_timers():  # 1 April's survey and inspection, the overdue reminders, then 3 April's appraisal
        pass
    [task] = [t for t in eng.inbox("mgr1") if t["name"] == "review_performance"]
    iid = task["instance_id"]
    do(eng, "mgr1", "review_performance", MARCH_REVIEW, iid)
    do(eng, "dir", "approve_appraisal", {"approved": False, "comment": "rep1 的奖金请按新标准"}, iid)
    revised = {**MARCH_REVIEW, "proposals": [{**MARCH_REVIEW["proposals"][0], "bonus_yuan": 2500},
                                             MARCH_REVIEW["proposals"][1]]}
    do(eng, "mgr2", "review_performance", revised, iid)
    do(eng, "dir", "approve_appraisal", {"approved": True}, iid)
    return iid


def build_data_set(eng: Engine, clock: ManualClock) -> dict[str, int]:
    ids = {**_hazards(eng, clock), **_accidents(eng), **_violations(eng), **_opinions_registered(eng),
           **_trainings(eng)}
    clock.set(local_time("2026-03-04", "10:00"))
    do(eng, "svc1", "answer_customer", dated(opinion.ANSWERED, clock.now(), "answered_on"), ids["O1"])
    clock.set(local_time("2026-03-10", "10:00"))
    do(eng, "rep1", "answer_customer", dated(opinion.ANSWERED, clock.now(), "answered_on"), ids["O2"])
    do(eng, "train1", "record_results", training.RESULTS, ids["T1"])
    do(eng, "train2", "record_results", {"held_on": "2026-03-10", "results": [
        {"login": "rep2", "attended": True, "score": 80, "passed": True},
        {"login": "svc1", "attended": True, "score": 75, "passed": True}]}, ids["T2"])
    clock.set(local_time("2026-03-30", "10:00"))
    ids["H3"] = hazard.report(eng, "rep2")
    do(eng, "head1", "verify_hazard", hazard.GENERAL, ids["H3"])
    clock.set(local_time("2026-03-31", "10:00"))
    ids["H4"] = hazard.report(eng, "rep1")
    ids["O4"] = eng.start("svc1", opinion.KEY, opinion.registration())
    ids["M1"] = _appraisal(eng, clock)
    clock.set(NOW)
    return ids


@pytest.fixture(scope="module")
def data_set(_schema, tmp_path_factory):
    yield from repository_data_set(_schema, tmp_path_factory, build_data_set)


@pytest.fixture(scope="module")
def kpi(data_set) -> dict:
    eng, _ = data_set
    return eng.kpi(AUDITOR)


def rows(found: list[dict], *fields: str) -> list[tuple]:
    return [(r["key"], *(r[f] for f in fields)) for r in found]


# -- hazards -------------------------------------------------------------------------------------------------------


@pytest.mark.rule("K.HAZARDS")
def test_open_hazards_by_grade_and_the_one_past_its_rectification_deadline(kpi):
    h = kpi["hazards"]
    assert (h["registered"], h["removed"], h["open"], h["overdue"]) == (4, 1, 3, 1)
    assert rows(h["by_level"], "open", "overdue") == [("major", 0, 0), ("general", 2, 1), (None, 1, 0)]
    assert h["by_level"][0]["label"] == LEVELS["major"]
    assert h["by_level"][2]["label"] == {"zh": "尚未确定", "en": "Not decided yet"}
    assert h["as_at"] == NOW.astimezone(UTC).isoformat()


@pytest.mark.rule("K.HAZARDS")
def test_a_hazard_is_overdue_only_once_its_deadline_has_passed_at_the_ranges_end(data_set):
    eng, _ = data_set
    before = eng.kpi(AUDITOR, {"to": "2026-03-05"})["hazards"]  # as at 6 March 00:00: H1 due 9 March 09:00
    assert (before["registered"], before["removed"], before["open"], before["overdue"]) == (2, 1, 1, 0)
    after = eng.kpi(AUDITOR, {"to": "2026-03-10"})["hazards"]  # as at 11 March 00:00
    assert (after["open"], after["overdue"]) == (1, 1)
    assert before["as_at"] == local_time("2026-03-06", "00:00").astimezone(UTC).isoformat()


# -- accidents -----------------------------------------------------------------------------------------------------


@pytest.mark.rule("K.ACCIDENTS")
def test_accidents_by_cause_and_severity_with_the_forms_labels(kpi):
    a = kpi["accidents"]
    assert a["registered"] == 3
    assert rows(a["by_cause"], "accidents") == [("unsafe_condition", 1), ("management", 1), (None, 1)]
    assert a["by_cause"][0]["label"]["zh"] == "物的不安全状态（设备设施缺陷）"
    assert a["by_cause"][1]["label"]["en"] == "Management (rules, inspections, training fell short)"
    assert rows(a["by_severity"], "accidents") == [("general", 2), ("serious", 1)]


# -- training ------------------------------------------------------------------------------------------------------


@pytest.mark.rule("K.TRAINING")
def test_training_pass_rate_overall_per_kind_and_per_session(kpi, data_set):
    _, ids = data_set
    t = kpi["training"]
    assert t["overall"] == {"participants": 5, "assessed": 4, "absent": 1, "passed": 3, "failed": 1,
                            "pass_rate": 0.75}
    assert rows(t["by_kind"], "assessed", "passed", "failed", "pass_rate") == [
        ("safety", 2, 1, 1, 0.5), ("product_knowledge", 2, 2, 0, 1.0)]
    assert [(s["instance_id"], s["topic"], s["held_on"], s["pass_rate"]) for s in t["by_session"]] == [
        (ids["T1"], "门店消防与用电安全", "2026-03-10", 0.5), (ids["T2"], "新品瓷砖铺贴工艺", "2026-03-10", 1.0)]


def test_results_recorded_outside_the_range_are_not_counted(data_set):
    eng, _ = data_set
    assert eng.kpi(AUDITOR, {"to": "2026-03-09"})["training"]["overall"]["participants"] == 0


# -- opinions ------------------------------------------------------------------------------------------------------


@pytest.mark.rule("K.OPINIONS")
def test_opinions_answered_on_time_late_and_still_open_past_their_deadline(kpi):
    o = kpi["opinions"]["overall"]
    assert {k: o[k] for k in ("registered", "answered", "on_time", "late", "open_overdue", "open")} == {
        "registered": 4, "answered": 2, "on_time": 1, "late": 1, "open_overdue": 1, "open": 1}
    assert o["share_on_time"] == pytest.approx(1 / 3)
    assert [r["key"] for r in kpi["opinions"]["by_month"]] == ["2026-03"]


def test_as_at_the_day_before_the_deadline_no_opinion_is_late_yet(data_set):
    eng, _ = data_set
    o = eng.kpi(AUDITOR, {"to": "2026-03-05"})["opinions"]["overall"]
    assert (o["on_time"], o["late"], o["open_overdue"], o["open"]) == (1, 0, 0, 2)


# -- the appraisal per person ---------------------------------------------------------------------------------------


@pytest.mark.rule("K.APPRAISAL")
def test_each_representatives_approved_appraisal_and_sanctions(kpi, data_set):
    _, ids = data_set
    people = {p["key"]: p for p in kpi["appraisal"]["people"]}
    assert set(people) == {"rep1", "rep2"}  # the shop's closure is no one's
    rep1, rep2 = people["rep1"], people["rep2"]
    assert (rep1["bonus_yuan"], rep1["deduction_yuan"], rep1["fines_yuan"]) == (2500, 0, 500)
    [march] = rep1["appraisals"]
    assert (march["instance_id"], march["month"], march["sales_yuan"], march["target_met"]) == (
        ids["M1"], "2026-03", 100000, True)
    assert march["measures"] == [{"measure": "绩效奖金", "bonus_yuan": 2500, "deduction_yuan": 0, "reason": "完成目标"}]
    [fine] = rep1["violations"]
    assert (fine["sanction"]["key"], fine["sanction"]["label"]["zh"], fine["fine_yuan"]) == ("fine", "罚款", 500)
    assert (rep2["deduction_yuan"], rep2["appraisals"][0]["sales_yuan"], rep2["violations"]) == (300, 50000.5, [])
    assert rep1["name"] == "rep1"  # the display name (the test users are named by their login)


def test_an_appraisal_counts_for_the_months_the_range_touches(data_set):
    eng, _ = data_set
    assert eng.kpi(AUDITOR, {"from": "2026-04-01"})["appraisal"]["people"] == []
    people = eng.kpi(AUDITOR, {"from": "2026-03-31", "to": "2026-04-01"})["appraisal"]["people"]
    assert [(p["key"], len(p["appraisals"]), len(p["violations"])) for p in people] == [("rep1", 1, 0), ("rep2", 1, 0)]


@pytest.mark.rule("K.APPRAISAL")
def test_a_representative_sees_his_own_appraisal_and_nothing_else(data_set):
    eng, _ = data_set
    mine = eng.kpi("rep1")
    assert mine["view"] == "own"
    assert [p["key"] for p in mine["appraisal"]["people"]] == ["rep1"]
    assert all(mine[name] is None for name in ("times", "satisfaction", "volume", "hazards", "training", "opinions"))
    assert [p["key"] for p in eng.kpi("rep2")["appraisal"]["people"]] == ["rep2"]


def test_a_manager_sees_his_staffs_appraisals_and_others_see_no_dashboard(data_set):
    eng, _ = data_set
    assert [p["key"] for p in eng.kpi("mgr1")["appraisal"]["people"]] == ["rep1", "rep2"]
    assert eng.kpi("mgr1")["hazards"]["open"] == 3
    for outsider in ("qa1", "head1"):
        with pytest.raises(Forbidden):
            eng.kpi(outsider)
    leader = eng.kpi("vp1")  # the sales vice president, one of the company's leaders, sees everyone
    assert leader["hazards"]["open"] == 3 and "rep1" in [p["key"] for p in leader["appraisal"]["people"]]


def test_another_process_chosen_leaves_these_sections_out(data_set):
    eng, _ = data_set
    report = eng.kpi(AUDITOR, {"process": "training"})
    assert report["training"]["overall"]["assessed"] == 4
    assert (report["hazards"], report["accidents"], report["opinions"], report["appraisal"]) == (None,) * 4


# -- the definitions -----------------------------------------------------------------------------------------------


def test_every_task_form_and_option_the_definitions_name_exists_in_the_repository():
    from engine.definitions.bundle import load_paths
    from engine.definitions.compiler import compile_bundle
    from engine.roles import lane_roles, load_catalogue

    compiled = compile_bundle(load_paths([ROOT / "processes", ROOT / "forms"]), lane_roles(load_catalogue()))
    models = {p.key: p.models[p.key] for p in compiled}
    spec = sections.load()
    for process, ids in spec.element_ids().items():
        tasks = {e.id for e in models[process].elements.values() if e.type == "userTask"}
        assert ids <= tasks, f"{process}: {sorted(ids - tasks)} are not user tasks of processes/{process}.bpmn"
    for option in spec.options():
        form = yaml.safe_load((ROOT / "forms" / f"{option.form}.yaml").read_text(encoding="utf-8"))
        [field] = [f for f in form["fields"] if f["name"] == option.field]
        assert field.get("options"), f"{option.form}.{option.field} has no options"
    assert definitions.load().timezone == "Asia/Shanghai"
