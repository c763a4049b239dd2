"""P7 satisfaction_survey: running surveys and the version faithful to seed 27, 73, 133 (issue 12).

tests/fixtures/legacy/ holds the process and its two forms as they were on main before. A survey being
filled in moves, and is then filled in with the new form (the usage of each customer's product): a
dissatisfied customer brings it to the review. The survey armed for next month is replaced by the
deploy itself (the engine keeps one armed instance, of the latest version).
"""

from __future__ import annotations

from datetime import timedelta

from engine import Engine
from tests.conftest import FIXTURES, ROOT, add_users
from tests.scenarios.driver import AUDITOR, PEOPLE, assert_audit_intact, do, holders, local_time, offered_to

KEY = "satisfaction_survey"
OWNER = "owner"
LEGACY = FIXTURES / "legacy"


def test_armed_and_open_surveys_move_to_the_new_version(engine: Engine, clock):
    eng = engine
    [old] = eng.deploy("system", [LEGACY / f"{KEY}.bpmn", LEGACY / f"{KEY}_record.yaml",
                                  LEGACY / f"{KEY}_review.yaml"])
    assert (old.key, old.version) == (KEY, 1)
    add_users(eng, {**PEOPLE, OWNER: ["process_owner"]})
    clock.set(local_time("2026-04-01", "09:01"))
    assert eng.fire_due_timers() == 1  # April's survey starts, May's is armed
    [task] = [t for t in eng.inbox("svc1") if t["name"] == "conduct_survey"]
    april, may = task["instance_id"], task["instance_id"] + 1
    assert eng.instance(AUDITOR, may)["status"] == "running"

    [new] = eng.deploy("system", [ROOT / "processes" / f"{KEY}.bpmn", *sorted((ROOT / "forms").glob(f"{KEY}_*.yaml"))])
    assert (new.key, new.version, new.status) == (KEY, 2, "deployed")
    old_may = eng.instance(AUDITOR, may)
    assert (old_may["status"], old_may["version"]) == ("cancelled", 1)
    may += 1  # armed by the deploy, on version 2
    assert (eng.instance(AUDITOR, may)["status"], eng.instance(AUDITOR, may)["version"]) == ("running", 2)
    plan = {p["instance_id"]: (p["movable"], p["reasons"]) for p in eng.migration_plan(OWNER, KEY, 2)}
    assert plan == {april: (True, [])}
    assert eng.migrate(OWNER, KEY, 2) == {"migrated": [april], "skipped": []}

    # April's survey, moved: the new form asks for each customer's usage; one dissatisfied customer
    survey = {"responses": [{"customer_name": "芜湖商砼有限公司", "satisfaction": 5, "usage": "C30 商砼，稳定"},
                            {"customer_name": "合肥建工集团", "satisfaction": 2, "usage": "袋装水泥，受潮结块"}]}
    do(eng, "svc1", "conduct_survey", survey, april)
    assert offered_to(eng, "review_improvement", april) == holders("sales_manager")
    do(eng, "mgr1", "review_improvement", {"improvement_actions": "改进包装防潮", "improvement_owner": "品质部",
                                           "improvement_due": "2026-04-20"}, april)
    inst = eng.instance(AUDITOR, april)
    assert (inst["status"], inst["version"], inst["data"]["dissatisfied_customers"]) == ("completed", 2, 1)
    assert_audit_intact(eng, april)

    # May's survey starts on version 2 on the first of May
    clock.set(local_time("2026-05-01", "09:00") + timedelta(minutes=1))
    assert eng.fire_due_timers() == 1
    may_view = eng.instance(AUDITOR, may)
    assert (may_view["version"], [t["name"] for t in may_view["tasks"]]) == (2, ["conduct_survey"])
    assert_audit_intact(eng, may)
