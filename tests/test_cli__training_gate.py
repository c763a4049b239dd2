"""P10 `salesflow users roles`: a front-line role is granted at the console only after a passed safety
training, recorded by running the process 培训 (training) to its end; the refusal says why, in one line."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import Engine
from engine.store.models import AuditEvent
from tests.conftest import PASSWORD, ROOT
from tests.test_cli__commands import assert_one_line_error, environment, ok, sf

USERS = {"train1": "training_officer", "gm1": "general_manager", "newbie": "office"}


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    e = environment(tmp_path_factory.mktemp("training") / "salesflow.db")
    ok(sf(e, "init"))
    for name, role in USERS.items():
        ok(sf(e, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD))
    ok(sf(e, "deploy", str(ROOT / "processes" / "training.bpmn"),
          *(str(p) for p in sorted((ROOT / "forms").glob("training_*.yaml")))))
    return e


def open_task(out: str) -> str:
    return re.search(r"open task (\S+)", out).group(1)


@pytest.mark.rule("P10.5")
def test_users_roles_refuses_a_front_line_role_until_the_safety_training_is_passed(env):
    assert_one_line_error(sf(env, "users", "roles", "newbie", "--add", "sales_rep"),
                          "no passed safety training", "Sales representative", "art. 8")
    assert_one_line_error(sf({**env, "SALESFLOW_LANG": "zh"}, "users", "roles", "newbie", "--add", "sales_rep"),
                          "尚无合格的安全教育培训记录", "销售代表", "第八条")
    out = ok(sf(env, "users", "roles", "newbie", "--add", "quality"))  # not a front-line role
    assert "newbie now has role(s) office, quality" in out

    day = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)).isoformat()
    plan = {"training_kind": "safety", "topic": "消防安全", "trainer": "王工", "session_date": day,
            "planned_participants": 1}
    task = open_task(ok(sf(env, "start", "training", "--as", "train1", "--data", json.dumps(plan))))
    task = open_task(ok(sf(env, "complete", task, "--as", "gm1", "--data", '{"approved": true}')))
    # the command line runs on the real clock, which cannot be moved to the planned day: the session was
    # brought forward to today (a session held cannot be dated on a day that has not come)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    results = {"held_on": today, "results": [{"login": "newbie", "attended": True, "score": 88, "passed": True}]}
    assert "is completed" in ok(sf(env, "complete", task, "--as", "train1", "--data", json.dumps(results)))

    out = ok(sf(env, "users", "roles", "newbie", "--add", "sales_rep", "--remove", "quality"))
    assert "newbie now has role(s) office, sales_rep" in out
    assert_one_line_error(sf(env, "users", "roles", "newbie"), "--add")


@pytest.mark.rule("P10.5")
def test_users_add_refuses_a_front_line_role_to_a_new_account_and_creates_nothing(env):
    assert_one_line_error(sf(env, "users", "add", "hire1", "--role", "sales_rep", "--role", "office",
                             "--password-stdin", stdin=PASSWORD),
                          "no safety training yet", "Sales representative", "art. 8", "--before-training")
    assert_one_line_error(sf({**env, "SALESFLOW_LANG": "zh"}, "users", "add", "hire1", "--role", "sales_rep",
                             "--password-stdin", stdin=PASSWORD), "新账号尚无安全教育培训记录", "销售代表")
    assert "hire1" not in ok(sf(env, "users", "list"))
    assert "hire1" in ok(sf(env, "users", "add", "hire1", "--role", "office", "--password-stdin", stdin=PASSWORD))


@pytest.mark.rule("P10.5")
def test_users_add_before_training_grants_at_installation_and_the_security_trail_says_so(env):
    out = ok(sf(env, "users", "add", "first.rep", "--role", "sales_rep", "--before-training",
                "--password-stdin", stdin=PASSWORD))
    assert "first.rep added with role(s) sales_rep" in out
    with Engine(env["SALESFLOW_DATABASE_URL"]).db.read() as s:
        recorded = [json.loads(e.payload) for e in s.scalars(select(AuditEvent).where(
            AuditEvent.chain == "security", AuditEvent.kind == "front_line_before_training"))]
    assert recorded == [{"username": "first.rep", "roles": ["sales_rep"]}]
    assert " 0 broken" in ok(sf(env, "audit", "verify"))
