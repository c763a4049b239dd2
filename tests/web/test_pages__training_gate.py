"""P10 /admin/users: an administrator grants or takes away a role; a front-line role without a passed safety
training is refused with the reason in the reader's language (role names, never ids), and nothing changes."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import PASSWORD, ROOT
from tests.scenarios.driver import do, local_time
from tests.security.conftest import logged_in, post_form

PLAN = {"training_kind": "safety", "topic": "消防安全", "trainer": "王工", "session_date": "2026-03-10",
        "planned_participants": 1}


def _row(html: str, username: str) -> str:
    return html.split(f'data-user="{username}"', 1)[1].split("</tr>", 1)[0]


def _passed_safety_training(engine: Engine, login: str) -> None:
    engine.deploy("system", [ROOT / "processes" / "training.bpmn", *(ROOT / "forms").glob("training_*.yaml")])
    engine.add_user("train1", ["training_officer"], PASSWORD)
    engine.add_user("gm1", ["general_manager"], PASSWORD)
    iid = engine.start("train1", "training", dict(PLAN))
    do(engine, "gm1", "approve_plan", {"approved": True}, iid)
    engine.clock.set(local_time(PLAN["session_date"], "17:00"))  # results are recorded once the session was held
    do(engine, "train1", "record_results", {"held_on": PLAN["session_date"], "results": [
        {"login": login, "attended": True, "score": 75, "passed": True}]}, iid)


@pytest.mark.rule("P10.5")
def test_the_page_refuses_a_front_line_role_without_safety_training_and_grants_it_after(app, engine, clock):
    engine.add_user("newbie", ["office"], PASSWORD)
    admin = logged_in(app, "adm")
    html = admin.get("/admin/users").get_data(as_text=True)
    assert 'id="add-role-newbie"' in html and 'id="grant-role-newbie"' in html
    assert '<option value="sales_rep">销售代表</option>' in _row(html, "newbie")

    post_form(admin, "/admin/users/newbie/roles", {"add": "sales_rep"}, form_page="/admin/users")
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "尚无合格的安全教育培训记录，不能授予一线岗位角色 销售代表" in html
    assert "第八条" in html and "sales_rep</" not in html
    assert "销售代表" not in _row(html, "newbie").split("<form", 1)[0]  # not granted

    response = post_form(admin, "/admin/users/newbie/roles", {"add": "quality"}, form_page="/admin/users")
    assert response.status_code == 302
    assert "品质部" in _row(admin.get("/admin/users").get_data(as_text=True), "newbie").split("<form", 1)[0]

    _passed_safety_training(engine, "newbie")
    admin = logged_in(app, "adm")  # a week later: the earlier session has long been idle
    post_form(admin, "/admin/users/newbie/roles", {"add": "sales_rep"}, form_page="/admin/users")
    post_form(admin, "/admin/users/newbie/roles", {"remove": "quality"}, form_page="/admin/users")
    roles = _row(admin.get("/admin/users").get_data(as_text=True), "newbie").split("<form", 1)[0]
    assert "销售代表" in roles and "品质部" not in roles


def test_the_english_page_gives_the_reason_in_english(app, engine):
    engine.add_user("newbie", ["office"], PASSWORD)
    admin = logged_in(app, "adm")
    post_form(admin, "/language", {"lang": "en", "next": "/admin/users"}, form_page="/admin/users")
    post_form(admin, "/admin/users/newbie/roles", {"add": "dispatcher"}, form_page="/admin/users")
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "has no passed safety training, so the front-line role(s) Dispatcher cannot be granted" in html


def test_others_may_not_change_roles(app):
    rep = logged_in(app, "rep1")
    post_form(rep, "/admin/users/rep2/roles", {"add": "quality"})
    admin = logged_in(app, "adm")
    assert "品质部" not in _row(admin.get("/admin/users").get_data(as_text=True), "rep2").split("<form", 1)[0]
