"""P3 aftersale: instances running on the previous version (tests/fixtures/legacy/aftersale, the diagram
as it was before issue 12: first response at the top level, the 48 hours from it) when the new version
is deployed.

None of them can move: every one stands on or has passed the top-level `first_response`, which the new
version holds inside `handle_case` (the 48 hours now run from the registration), so the dry run names
that element; one already in the old resolution names its sub-process `resolve_case` too. Migrating
moves nothing and changes nothing, and each runs to its end on the version it started with.
"""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import AUDITOR, PEOPLE, assert_audit_intact, do, end_events, offered_to

KEY = "aftersale"
OWNER = "own"
LEGACY = sorted((FIXTURES / "legacy" / "aftersale").iterdir())
CURRENT = [ROOT / "processes" / "aftersale.bpmn", ROOT / "processes" / "return_approval.dmn",
           *sorted(p for p in (ROOT / "forms").glob("aftersale_*.yaml") if not p.name.startswith("aftersale_archive_"))]
REQUEST = {"customer_name": "马鞍山江东商砼有限公司", "customer_class": "key_account", "contact": "周工 13905550123",
           "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": "repair", "urgency": "normal",
           "description": "搅拌机运行中主轴异响"}
RESPONSE = {"response_channel": "phone", "response_note": "已电话联系，约定上门"}
DIAGNOSED = {"diagnosis": "主轴轴承磨损", "quality_fault": False, "proposed_solution": "更换轴承"}
RESOLVED = {"outcome": "resolved", "resolution": "已更换轴承，试运行正常"}
CONFIRMED = {"resolution_confirmed": True, "satisfaction": 4}
VISITED = {"satisfaction": 5, "usage_feedback": "运行正常"}

AT_RESPONSE = "first_response: the instance is at this element (ready), which version 2 no longer has"
PAST_RESPONSE = "first_response: already completed here, and version 2 no longer has it to keep that history"


@pytest.fixture
def running(engine, clock):
    """Three cases on version 1 (at the first response, at the diagnosis, at the customer's confirmation),
    then version 2 deployed from processes/ and forms/."""
    [old] = engine.deploy("system", LEGACY)
    assert (old.key, old.version) == (KEY, 1)
    add_users(engine, {**PEOPLE, OWNER: ["process_owner"]})
    ids = {name: engine.start("svc1", KEY, REQUEST) for name in ("answering", "diagnosing", "confirming")}
    clock.advance(hours=2)
    for name in ("diagnosing", "confirming"):
        do(engine, "fix1", "first_response", RESPONSE, ids[name])
    do(engine, "fix1", "diagnose", DIAGNOSED, ids["confirming"])
    do(engine, "fix1", "resolve", RESOLVED, ids["confirming"])
    [new] = engine.deploy(OWNER, CURRENT, note="issue 12: 48 hours from the registration; binding approvals")
    assert (new.key, new.version, new.status) == (KEY, 2, "deployed")
    return engine, ids


def test_the_dry_run_names_the_element_that_keeps_each_old_case_on_its_version(running):
    engine, ids = running
    plan = {p["instance_id"]: p for p in engine.migration_plan(OWNER, KEY, 2)}
    assert set(plan) == set(ids.values())
    assert {p["movable"] for p in plan.values()} == {False}
    assert AT_RESPONSE in plan[ids["answering"]]["reasons"]
    assert PAST_RESPONSE in plan[ids["diagnosing"]]["reasons"]
    assert any(r.startswith("resolve_case: ") for r in plan[ids["diagnosing"]]["reasons"])
    assert PAST_RESPONSE in plan[ids["confirming"]]["reasons"]


def test_migrating_moves_none_and_each_old_case_ends_on_its_own_version(running, clock):
    engine, ids = running
    result = engine.migrate(OWNER, KEY, 2)
    assert result["migrated"] == []
    assert sorted(s["instance_id"] for s in result["skipped"]) == sorted(ids.values())
    assert {engine.instance(AUDITOR, iid)["version"] for iid in ids.values()} == {1}

    # the old diagram goes on as it was: the engineer closes on his own word there, the confirmation follows
    do(engine, "fix2", "diagnose", DIAGNOSED, ids["diagnosing"])
    do(engine, "fix2", "resolve", {"outcome": "closed", "closing_reason": "客户放弃维修"}, ids["diagnosing"])
    assert engine.instance(AUDITOR, ids["diagnosing"])["outcome"] == "closed_unresolved"
    do(engine, "svc2", "confirm_resolution", CONFIRMED, ids["confirming"])
    clock.advance(days=7, minutes=1)
    engine.fire_due_timers()
    do(engine, "svc2", "return_visit", VISITED, ids["confirming"])
    assert engine.instance(AUDITOR, ids["confirming"])["outcome"] == "resolved"
    assert end_events(engine, ids["confirming"]) == ["case_completed"]

    # a case registered now starts on the new version
    fresh = engine.start("svc1", KEY, REQUEST)
    assert engine.instance(AUDITOR, fresh)["version"] == 2
    assert offered_to(engine, "first_response", fresh) == offered_to(engine, "first_response", ids["answering"])
    for iid in (*ids.values(), fresh):
        assert_audit_intact(engine, iid)
