"""What a process owner sees before confirming a migration: every running instance of an older version,
where it stands (its open tasks by title, who holds them by display name) and whether it can move, with
exactly the verdict the migration itself applies; looking changes nothing, and only owners may look."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import Forbidden
from tests.conftest import PASSWORD, add_users, deploy_approval
from tests.deployed_state import prepared
from tests.test_runtime__migration import ESCALATION_GONE, OWNER, REQUEST, do, snapshot, task_of, version_2


@pytest.fixture
def fleet(engine: Engine) -> tuple[Engine, dict[str, int]]:
    """v1 instances: one overdue (approve + escalation open), one fresh, one claimed by a named manager,
    one finished; then v2 (approve renamed, escalation removed) deployed. Built once per worker, then
    restored (tests/deployed_state.py)."""
    return engine, prepared(engine, "migration preview: the approval fleet, v2 deployed", _build_fleet)


def _build_fleet(engine: Engine) -> dict[str, int]:
    clock = engine.clock
    deploy_approval(engine)
    add_users(engine, {OWNER: ["process_owner"]})
    engine.add_user("li", ["sales_rep"], PASSWORD, "李强")
    engine.add_user("wang", ["sales_manager"], PASSWORD, "王经理")
    overdue = engine.start("li", "approval", REQUEST)
    clock.advance(hours=25)
    assert engine.fire_due_timers() == 1
    fresh = engine.start("rep", "approval", REQUEST)
    claimed = engine.start("li", "approval", REQUEST)
    engine.claim("wang", task_of(engine, "wang", claimed, "approve")["id"])
    finished = engine.start("rep", "approval", REQUEST)
    do(engine, "mgr", finished, "approve", {"approved": True})
    do(engine, "rep", finished, "archive", {"archive_no": "A-1"})
    [deployed] = engine.deploy(OWNER, files=version_2(), note="confirm step; no follow-up task")
    assert deployed.version == 2
    return {"overdue": overdue, "fresh": fresh, "claimed": claimed, "finished": finished}


def where(entry: dict) -> list[tuple]:
    return [(t["bpmn_id"], t["title"], t["role"], t["assignee_name"]) for t in entry["tasks"]]


def test_each_instance_is_listed_with_its_current_tasks_holders_and_whether_it_can_move(fleet):
    engine, ids = fleet
    before = snapshot(engine)
    preview = engine.migration_preview(OWNER, "approval", 2)
    assert snapshot(engine) == before  # looking changes nothing

    by_id = {p["instance_id"]: p for p in preview}
    assert list(by_id) == [ids["overdue"], ids["fresh"], ids["claimed"]]  # the finished one is not listed
    assert where(by_id[ids["overdue"]]) == [("approve", "经理审批", "sales_manager", None),
                                            ("escalation", "超时督办", "sales_director", None)]
    assert where(by_id[ids["fresh"]]) == [("approve", "经理审批", "sales_manager", None)]
    assert where(by_id[ids["claimed"]]) == [("approve", "经理审批", "sales_manager", "王经理")]
    assert by_id[ids["claimed"]]["tasks"][0]["assignee"] == "wang"  # the login id stays available (tooltip)
    assert by_id[ids["overdue"]]["started_by_name"] == "李强"
    assert [(p["movable"], p["reasons"]) for p in preview] == [(False, [ESCALATION_GONE]), (True, []), (True, [])]


def test_the_verdict_is_the_migrations_own(fleet):
    engine, ids = fleet
    preview = engine.migration_preview(OWNER, "approval", 2)
    plan = engine.migration_plan(OWNER, "approval", 2)
    assert [{k: p[k] for k in plan[0]} for p in preview] == plan
    result = engine.migrate(OWNER, "approval", 2)
    assert result["migrated"] == [p["instance_id"] for p in preview if p["movable"]]
    assert [s["instance_id"] for s in result["skipped"]] == [p["instance_id"] for p in preview if not p["movable"]]
    # afterwards only the instance that could not move is left to confirm, still where it was
    [left] = engine.migration_preview(OWNER, "approval", 2)
    assert (left["instance_id"], [t["bpmn_id"] for t in left["tasks"]]) == (ids["overdue"], ["approve", "escalation"])


def test_only_process_owners_and_administrators_may_look(fleet):
    engine, _ids = fleet
    with pytest.raises(Forbidden):
        engine.migration_preview("mgr", "approval", 2)
    assert engine.migration_preview("adm", "approval", 2) == engine.migration_preview(OWNER, "approval", 2)
    assert engine.migration_preview(OWNER, "approval", 1) == []
