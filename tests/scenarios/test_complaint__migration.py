"""P4 complaint: running complaints of the version before issue 12 (tests/fixtures/legacy/complaint: complaint.bpmn and
its forms, copied from main when the work started) and the new version. The dry run says which can move and
names the element that blocks the others; the movable ones move and finish under the new rules."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import (
    AUDITOR,
    PEOPLE,
    assert_audit_intact,
    do,
    end_events,
    events,
    holders,
    offered_to,
)
from tests.scenarios.test_complaint__paths import (
    ACCEPTED,
    ARCHIVED,
    CORRECTIVE,
    IMPLEMENTED,
    KEY,
    PRODUCTION_FOUND,
    PROPOSAL,
    QUALITY_FOUND,
    SUMMARY,
    registration,
    service_form,
    taken,
)

OWNER = "po1"
LEGACY = sorted((FIXTURES / "legacy" / "complaint").iterdir())


@pytest.fixture
def legacy(engine: Engine) -> Engine:
    assert [(d.key, d.version, d.status) for d in engine.deploy("system", LEGACY)] == [("complaint", 1, "deployed")]
    add_users(engine, {**PEOPLE, OWNER: ["process_owner"]})
    return engine


def open_names(eng: Engine, iid: int) -> list[str]:
    return sorted(t["name"] for t in eng.instance(AUDITOR, iid)["tasks"])


def started_under_the_old_rules(eng: Engine) -> dict[str, int]:
    """One complaint at each interesting point of version 1 (no severity review there)."""
    ids = {"taking": eng.start("svc1", KEY, registration("quality", "minor"))}
    ids["proposing"] = eng.start("svc1", KEY, registration("service", "minor"))
    ids["gm_approval"] = eng.start("svc1", KEY, registration("quality", "critical"))
    do(eng, "dir", "take_quality_by_director", taken("ZL-OLD-1", onsite_visit=False), ids["gm_approval"])
    do(eng, "qa1", "quality_investigation", QUALITY_FOUND, ids["gm_approval"])
    do(eng, "prod1", "production_investigation", PRODUCTION_FOUND, ids["gm_approval"])
    do(eng, "dir", "onsite_visit_by_director", {"onsite_date": "2026-03-02", "onsite_participants": "品质部",
                                                 "onsite_findings": "开裂"}, ids["gm_approval"])
    do(eng, "dir", "decide_quality_by_director", {"quality_resolution": "replace", "resolution_details": "更换"},
       ids["gm_approval"])
    ids["service_form"] = eng.start("svc1", KEY, registration("service", "major"))
    do(eng, "vp1", "propose_service_by_vp", PROPOSAL, ids["service_form"])
    do(eng, "off1", "office_decision", {"office_decision": "同意"}, ids["service_form"])
    ids["telling"] = eng.start("svc1", KEY, registration("service", "major"))
    do(eng, "vp1", "propose_service_by_vp", PROPOSAL, ids["telling"])
    do(eng, "off1", "office_decision", {"office_decision": "电话致歉"}, ids["telling"])
    do(eng, "mgr1", "fill_service_form", {"service_form_no": "FW-OLD-2", "department_handling": "已约谈"},
       ids["telling"])
    ids["summary"] = eng.start("svc1", KEY, registration("quality", "minor"))
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-OLD-3", onsite_visit=False), ids["summary"])
    do(eng, "qa1", "quality_investigation", QUALITY_FOUND, ids["summary"])
    do(eng, "prod1", "production_investigation", PRODUCTION_FOUND, ids["summary"])
    do(eng, "mgr1", "decide_quality_by_manager", {"quality_resolution": "replace", "resolution_details": "更换"},
       ids["summary"])
    do(eng, "svc1", "inform_customer", ACCEPTED, ids["summary"])
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, ids["summary"])
    return ids


def test_running_complaints_move_where_they_can_and_the_plan_names_what_blocks_the_others(legacy, clock):
    eng = legacy
    ids = started_under_the_old_rules(eng)
    assert {name: open_names(eng, iid) for name, iid in ids.items()} == {
        "taking": ["take_quality_by_manager"], "proposing": ["propose_service_by_manager"],
        "gm_approval": ["gm_approval"], "service_form": ["fill_service_form"], "telling": ["inform_customer"],
        "summary": ["summarise_complaint"]}
    clock.advance(hours=1)
    assert {(d.key, d.version) for d in eng.deploy(OWNER, [ROOT / "processes", ROOT / "forms"])
            if d.status == "deployed"} >= {("complaint", 2)}

    plan = {row["instance_id"]: row for row in eng.migration_plan(OWNER, KEY, 2)}
    assert {name: plan[iid]["movable"] for name, iid in ids.items()} == {
        "taking": True, "proposing": False, "gm_approval": False, "service_form": False, "telling": True,
        "summary": True}
    assert plan[ids["proposing"]]["reasons"] == [
        "propose_service_by_manager: its form changes from complaint_service_proposal to "
        "complaint_service_proposal_by_manager"]
    assert "gm_approval: the instance is at this element (ready), which version 2 no longer has" in \
        plan[ids["gm_approval"]]["reasons"]
    assert plan[ids["service_form"]]["reasons"] == [
        "fill_service_form: form complaint_service_form of version 2 requires responsible_department, which the "
        "form of version 1 did not have"]

    result = eng.migrate(OWNER, KEY, 2)
    assert sorted(result["migrated"]) == sorted([ids["taking"], ids["telling"], ids["summary"]])
    assert {s["instance_id"] for s in result["skipped"]} == {ids["proposing"], ids["gm_approval"],
                                                             ids["service_form"]}
    assert {name: eng.instance(AUDITOR, iid)["version"] for name, iid in ids.items()} == {
        "taking": 2, "proposing": 1, "gm_approval": 1, "service_form": 1, "telling": 2, "summary": 2}

    # the blocked ones go on under version 1, untouched
    do(eng, "gm1", "gm_approval", {"approved": True}, ids["gm_approval"])
    assert open_names(eng, ids["gm_approval"]) == ["inform_customer"]

    # taken under version 2 (the review was already behind it): the new decision limits and closing apply
    iid = ids["taking"]
    do(eng, "mgr1", "take_quality_by_manager", taken("ZL-OLD-0", onsite_visit=False), iid)
    do(eng, "qa1", "quality_investigation", QUALITY_FOUND, iid)
    do(eng, "prod1", "production_investigation", PRODUCTION_FOUND, iid)
    do(eng, "mgr1", "decide_quality_by_manager", {"quality_resolution": "refund", "resolution_details": "退款",
                                                  "compensation_yuan": 3000}, iid)
    assert offered_to(eng, "approve_compensation_by_director", iid) == holders("sales_director")
    do(eng, "dir", "approve_compensation_by_director", {"approved": True}, iid)
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    [sent] = events(eng, iid, "message_sent")
    assert sent["payload"]["payload"]["remedy"] == "refund"
    finish(eng, iid, "assess_quality_penalty")

    # the customer refuses the old office decision: one level up, as the new rules say
    iid = ids["telling"]
    do(eng, "svc1", "inform_customer", {"customer_accepts": False, "customer_feedback": "不满意"}, iid)
    assert eng.instance(AUDITOR, iid)["data"]["complaint_route"] == "service_general_manager_decides"
    assert offered_to(eng, "decide_service_by_gm", iid) == holders("general_manager")
    do(eng, "gm1", "decide_service_by_gm", {"service_decision": "总经理致歉"}, iid)
    service_form(eng, iid, "office")
    do(eng, "svc1", "inform_customer", ACCEPTED, iid)
    do(eng, "mgr1", "implement_solution", IMPLEMENTED, iid)
    finish(eng, iid, "assess_service_penalty")

    # past the handling: the customer is now told the corrective action before the penalty
    iid = ids["summary"]
    finish(eng, iid, "assess_quality_penalty")
    for name in ("taking", "telling", "summary"):
        inst = eng.instance(AUDITOR, ids[name])
        assert (inst["status"], inst["outcome"], inst["version"]) == ("completed", "resolved", 2)
        assert end_events(eng, ids[name]) == ["complaint_closed"]
        [moved] = events(eng, ids[name], "migrated")
        assert (moved["payload"]["from_version"], moved["payload"]["to_version"]) == (1, 2)
        assert_audit_intact(eng, ids[name])


def finish(eng: Engine, iid: int, penalty_task: str) -> None:
    do(eng, "mgr1", "summarise_complaint", SUMMARY, iid)
    assert offered_to(eng, "notify_corrective_action", iid) == holders("customer_service")
    do(eng, "svc1", "notify_corrective_action", CORRECTIVE, iid)
    do(eng, "off1", penalty_task, {"complaint_verified": False}, iid)
    do(eng, "off1", "archive_complaint", ARCHIVED, iid)
