"""P10 the safety-training gate (seed 205, 280: 新员工入职前必须参加安全教育培训，合格后方可上岗), in the engine.

Granting a front-line role (processes/roles.yaml `front_line: true`) to an existing account is refused
until a completed safety training records the person as passed; other roles, other kinds of training, a
failed or absent row, a rejected or unfinished training do not open it. Creating an account is not
checked (docs/processes/training.md).
"""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from engine.roles import front_line_roles, load_catalogue
from engine.runtime.training_gate import TrainingRequired
from tests.conftest import ROOT, add_users
from tests.scenarios.driver import company_day, do
from tests.security.conftest import security_events

PEOPLE = {"train1": ["training_officer"], "gm1": ["general_manager"], "adm": ["admin"], "rep1": ["sales_rep"],
          "newbie": ["office"], "other": ["office"]}
PLAN = {"training_kind": "safety", "topic": "消防安全", "trainer": "王工", "session_date": "2026-03-10",
        "planned_participants": 2}


@pytest.fixture
def gated(engine: Engine) -> Engine:
    engine.deploy("system", [ROOT / "processes" / "training.bpmn", *(ROOT / "forms").glob("training_*.yaml")])
    add_users(engine, PEOPLE)
    return engine


def run_training(eng: Engine, rows: list[dict], kind: str = "safety", approved: bool = True,
                 finish: bool = True) -> int:
    """A session planned for the next day; when finished, the clock moves to that day and the results are
    recorded as held on it (a plan lies ahead, a session held does not)."""
    session_day = company_day(eng.clock.now(), 1)
    iid = eng.start("train1", "training", {**PLAN, "training_kind": kind, "session_date": session_day})
    do(eng, "gm1", "approve_plan", {"approved": True} if approved else {"approved": False, "comment": "改期"}, iid)
    if approved and finish:
        eng.clock.advance(days=1)
        do(eng, "train1", "record_results", {"held_on": session_day, "results": rows}, iid)
    return iid


def roles_of(eng: Engine, username: str) -> list[str]:
    return next(u["roles"] for u in eng.accounts("adm")["users"] if u["username"] == username)


def test_the_front_line_roles_are_those_marked_in_the_catalogue():
    assert set(front_line_roles(load_catalogue(ROOT / "processes" / "roles.yaml"))) == {
        "sales_rep", "sales_assistant", "dispatcher", "customer_service", "aftersales_engineer"}


@pytest.mark.rule("P10.5")
def test_a_front_line_role_waits_for_a_passed_safety_training(gated, clock):
    eng = gated
    with pytest.raises(TrainingRequired) as refused:
        eng.set_user_roles("adm", "newbie", add=["sales_rep"])
    assert refused.value.status == 403 and isinstance(refused.value, Forbidden)
    assert "销售代表" in refused.value.reason["zh"] and "第八条" in refused.value.reason["zh"]
    assert "Sales representative" in refused.value.reason["en"] and "sales_rep" not in refused.value.reason["en"]
    assert eng.set_user_roles("adm", "newbie", add=["quality"]) == ["office", "quality"]  # not front-line

    run_training(eng, [{"login": "newbie", "attended": True, "score": 55, "passed": False},
                       {"login": "other", "attended": True, "score": 80, "passed": True}])  # newbie failed
    run_training(eng, [{"login": "newbie", "attended": True, "score": 90, "passed": True}], kind="sales_skills")
    run_training(eng, [{"login": "newbie", "attended": True, "score": 90, "passed": True}], finish=False)
    run_training(eng, [], approved=False)
    with pytest.raises(TrainingRequired):
        eng.set_user_roles("adm", "newbie", add=["customer_service", "quality"])
    assert roles_of(eng, "newbie") == ["office", "quality"]  # nothing of a refused change was made

    assert eng.set_user_roles("adm", "other", add=["sales_rep"]) == ["office", "sales_rep"]
    run_training(eng, [{"login": "newbie", "attended": True, "score": 61, "passed": True}])
    assert eng.set_user_roles("adm", "newbie", add=["sales_rep", "dispatcher"], remove=["quality"]) == [
        "dispatcher", "office", "sales_rep"]
    changes = [(actor, p) for kind, actor, p in security_events(eng) if kind == "user_roles_changed"]
    assert changes == [  # refusals change nothing and record nothing
        ("adm", {"username": "newbie", "granted": ["quality"], "removed": []}),
        ("adm", {"username": "other", "granted": ["sales_rep"], "removed": []}),
        ("adm", {"username": "newbie", "granted": ["dispatcher", "sales_rep"], "removed": ["quality"]})]


@pytest.mark.rule("P10.5")
def test_existing_holders_accounts_made_by_add_user_and_taking_roles_away_are_not_checked(gated, clock):
    eng = gated
    assert eng.set_user_roles("adm", "rep1", add=["sales_rep"]) == ["sales_rep"]  # already held: nothing granted
    assert eng.set_user_roles("adm", "rep1", remove=["sales_rep"]) == []
    eng.add_user("hired", ["sales_rep"], "velvet-compass-91")  # account creation is not the gate


def test_only_administrators_change_roles_and_only_known_ones(gated, clock):
    eng = gated
    with pytest.raises(Forbidden):
        eng.set_user_roles("gm1", "newbie", add=["quality"])
    with pytest.raises(InvalidData, match="unknown role"):
        eng.set_user_roles("adm", "newbie", add=["astronaut"])
    with pytest.raises(InvalidData, match="both"):
        eng.set_user_roles("adm", "newbie", add=["quality"], remove=["quality"])
    with pytest.raises(Forbidden, match="own admin role"):
        eng.set_user_roles("adm", "adm", remove=["admin"])
