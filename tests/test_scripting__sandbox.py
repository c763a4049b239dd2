"""The expression sandbox (engine/scripting.py): escapes fail, ordinary expressions work, "now" is the engine's
clock; and end to end, a diagram whose script would escape cannot be deployed, and a script that reaches for
something the sandbox lacks fails the command without saving anything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock as engine_clock
from engine.clock import ManualClock
from engine.definitions import compiler
from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import DefinitionError, ProcessError
from engine.sandbox.dispatch import CodeFailed
from engine.sandbox.policy import CodeRefused
from engine.scripting import RestrictedEnvironment, compile_expression, days_between, local_datetime, script_engine
from engine.store.models import AuditEvent, Instance
from tests.conftest import FIXTURES, add_users

APPROVAL = FIXTURES / "approval"
BLOCKED = (CodeRefused, CodeFailed)  # refused when compiled, or failing when run (in either process)


def context() -> dict:
    """Instance data is JSON: that is all a diagram's code ever sees."""
    return {"amount_yuan": 20000, "customer_class": "local", "items": [3, 1, 2], "prices": {"a": 1, "b": 2},
            "visit_date": "2026-03-05"}


@pytest.fixture(params=["RestrictedEnvironment", "script_engine"])
def env(request):
    """The environment directly, and the one the engine's script engine uses."""
    return RestrictedEnvironment() if request.param == "RestrictedEnvironment" else script_engine().environment


# -- escapes fail --------------------------------------------------------------------
ESCAPES = [
    "__import__('os')",
    "__import__('os').getcwd()",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__mro__]",
    "open('/etc/passwd')",
    "open('/etc/passwd').read()",
    "prices._secret",
    "prices.__class__",
    "prices.__dict__",
    "getattr(prices, '__class__')",
    "getattr(prices, '_secret')",
    "type(prices)",
    "eval('1 + 1')",
    "exec('x = 1')",
    "globals()",
    "vars(prices)",
    "'{0.__class__}'.format(prices)",
    "prices.fromkeys(items)",
    "now().now()",
    "now().today()",
    "now().date().today()",
    "now().astimezone()",
    "id(items)",
    "hash('a')",
    "now.__globals__",
    "today.__code__",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_escaping_expression_fails(env, expression):
    with pytest.raises(BLOCKED):
        env.evaluate(expression, context())


@pytest.mark.parametrize("expression", ["__import__('os')", "().__class__.__base__.__subclasses__()",
                                        "prices._secret", "_private", "prices.__class__"])
def test_underscore_names_and_attributes_do_not_even_compile(expression):
    with pytest.raises(PermissionError) as info:
        compile_expression(expression, "eval")
    assert "_" in str(info.value)


SCRIPT_ESCAPES = [
    "import os",
    "import os as o\nresult = o.getcwd()",
    "from os import path",
    "from subprocess import run\nresult = run(['true'])",
    "result = __import__('os')",
    "result = ().__class__.__base__.__subclasses__()",
    "result = open('/etc/passwd').read()",
    "result = getattr(prices, '__class__')",
    "prices.visible = 'changed'",
    "setattr(prices, 'visible', 'changed')",
    "result = 1\nresult = now().now()",
]


@pytest.mark.parametrize("script", SCRIPT_ESCAPES)
def test_escaping_script_fails_and_sets_nothing(env, script):
    ctx = context()
    with pytest.raises(BLOCKED):
        env.execute(script, ctx)
    assert ctx == context()


# -- ordinary expressions work ------------------------------------------------------------
ALLOWED = [
    ("amount_yuan > 10000 and customer_class == 'local'", True),
    ("amount_yuan > 50000 or customer_class != 'local'", False),
    ("'high' if amount_yuan > 10000 else 'normal'", "high"),
    ("[i * 2 for i in items if i > 1]", [6, 4]),
    ("{k: v * 10 for k, v in prices.items()}", {"a": 10, "b": 20}),
    ("sum(items)", 6),
    ("min(items)", 1),
    ("max(items)", 3),
    ("sum(i for i in items if i != 1)", 5),
    ("sorted(items)", [1, 2, 3]),
    ("len(items) == 3 and items[0] == 3 and prices['b'] == 2", True),
    ("round(amount_yuan / 3, 2)", 6666.67),
    ("customer_class.upper() + '-' + visit_date[:4]", "LOCAL-2026"),
    ("', '.join(sorted(prices))", "a, b"),
    ("f'{amount_yuan:,} yuan'", "20,000 yuan"),
    ("any(i > 2 for i in items) and all(i > 0 for i in items)", True),
    ("local_datetime('2026-03-05', '09:00', days=-1)", "2026-03-04T09:00:00+08:00"),
    ("local_datetime(visit_date, '18:30')", "2026-03-05T18:30:00+08:00"),
    ("local_datetime('2026-03-01', '08:00', days=-1)", "2026-02-28T08:00:00+08:00"),
    ("days_between('2026-03-02', visit_date)", 3),
]


@pytest.mark.parametrize(("expression", "expected"), ALLOWED)
def test_ordinary_expression_works(env, expression, expected):
    assert env.evaluate(expression, context()) == expected


def test_ordinary_script_works(env):
    ctx = context()
    script = ("total = 0\nfor i in items:\n    total += i\n"
              "level = 'high' if amount_yuan > 10000 else 'normal'\nnames = [k for k in prices]\n"
              "tags = dict(a=1)\ntags['b'] = 2\nfor k, v in prices.items():\n    total += v\n")
    env.execute(script, ctx)
    assert ctx["total"] == 9
    assert ctx["level"] == "high"
    assert ctx["names"] == ["a", "b"]
    assert ctx["tags"] == {"a": 1, "b": 2}


def test_script_may_unpack_a_tuple(env):
    ctx = context()
    env.execute("first, second = items[0], items[1]\nlow, *rest = sorted(items)", ctx)
    assert (ctx["first"], ctx["second"], ctx["low"], ctx["rest"]) == (3, 1, 1, [2, 3])


def test_helpers_directly():
    assert local_datetime("2026-03-05", "09:00", days=-1) == "2026-03-04T09:00:00+08:00"
    assert local_datetime("2026-03-05T10:00:00+08:00", "00:00", days=1) == "2026-03-06T00:00:00+08:00"
    assert days_between("2026-02-27", "2026-03-02") == 3


# -- "now" is the engine's clock -----------------------------------------------------------
@pytest.mark.parametrize(("instant", "shanghai_date"), [
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "2026-03-02"),
    (datetime(2026, 3, 1, 16, 30, tzinfo=UTC), "2026-03-02"),  # 00:30 in Shanghai, still 1 March in UTC
    (datetime(2026, 3, 1, 15, 59, tzinfo=UTC), "2026-03-01"),  # 23:59 in Shanghai
    (datetime(2031, 12, 31, 16, 0, tzinfo=UTC), "2032-01-01"),
])
def test_now_and_today_come_from_the_engine_clock(env, instant, shanghai_date):
    with engine_clock.using(ManualClock(instant)):
        assert env.evaluate("now()", {}) == instant
        assert env.evaluate("today()", {}) == shanghai_date
        ctx: dict = {}
        env.execute("stamp = now().isoformat()\nday = today()", ctx)
        assert (ctx["stamp"], ctx["day"]) == (instant.isoformat(), shanghai_date)


def test_today_follows_the_clock_as_it_moves(env):
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    with engine_clock.using(clock):
        assert env.evaluate("today()", {}) == "2026-03-02"
        clock.advance(days=3)
        assert env.evaluate("today()", {}) == "2026-03-05"
        assert env.evaluate("now()", {}) == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)


# -- end to end ----------------------------------------------------------------------------------
def bundle(bpmn_old: str | None = None, bpmn_new: str | None = None) -> list[SourceFile]:
    files = []
    for path in sorted(APPROVAL.iterdir()):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".bpmn" and bpmn_old is not None:
            assert bpmn_old in text, f"fixture no longer contains {bpmn_old!r}"
            text = text.replace(bpmn_old, bpmn_new, 1)
        files.append(SourceFile(path.name, KINDS[Path(path.name).suffix], text.encode("utf-8")))
    return files


def instance_count(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(Instance))


def instance_events(engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.chain.like("instance:%")))


SCRIPT = "requested_on = today()"
CONDITION = "approved == True"
DEPLOY_ESCAPES = [
    ("set_level", SCRIPT, "import os\nrequested_on = os.getcwd()"),
    ("set_level", SCRIPT, "from os import system\nrequested_on = system('id')"),
    ("set_level", SCRIPT, "requested_on = __import__('os').getcwd()"),
    ("set_level", SCRIPT, "requested_on = ().__class__.__base__.__subclasses__()"),
    ("set_level", SCRIPT, "requested_on = amount_yuan.__class__.__name__"),
    ("set_level", SCRIPT, "requested_on = today.__globals__"),
    ("f_yes", CONDITION, "__import__('os').system('true') == 0"),
    ("f_yes", CONDITION, "len(().__class__.__base__.__subclasses__()) > 0"),
]


@pytest.mark.parametrize(("element", "old", "new"), DEPLOY_ESCAPES, ids=[e[2].split("\n")[0] for e in DEPLOY_ESCAPES])
def test_diagram_whose_script_would_escape_cannot_be_deployed(engine, element, old, new):
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle(old, new))
    assert any(p.element == element and p.file == "approval.bpmn" for p in info.value.problems), info.value.problems
    assert engine.processes() == []


def test_good_bundle_deploys(engine):
    # the cases above differ from this one by their one edit
    [result] = engine.deploy("system", files=bundle())
    assert result.status == "deployed"


def _deployed_before_the_lint_knew_builtins(engine, monkeypatch, files) -> None:
    """Deploy refuses a builtin diagram code lacks (tests/test_definitions__script_reads.py); a version
    deployed by an older release may hold one, and the sandbox stops it when it runs."""
    with monkeypatch.context() as patched:
        patched.setattr(compiler, "lint", lambda _sources: [])
        engine.deploy("system", files=files)


def test_script_reaching_for_a_missing_builtin_fails_the_start_and_saves_nothing(engine, monkeypatch):
    _deployed_before_the_lint_knew_builtins(engine, monkeypatch,
                                            bundle(SCRIPT, "requested_on = open('/etc/hostname').read()"))
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    with pytest.raises(ProcessError):
        engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 1})
    assert instance_count(engine) == 0
    assert instance_events(engine) == 0
    assert engine.inbox("mgr") == []


def test_condition_reaching_for_getattr_fails_the_completion_and_saves_nothing(engine, monkeypatch):
    _deployed_before_the_lint_knew_builtins(engine, monkeypatch,
                                            bundle(CONDITION, "getattr(approved, '__class__') is not None"))
    add_users(engine, {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
    iid = engine.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 1})
    [task] = engine.inbox("mgr")
    before = engine.instance("rep", iid)
    history = engine.history("rep", iid)
    with pytest.raises(ProcessError):
        engine.complete("mgr", task["id"], {"approved": True})
    assert engine.inbox("mgr") == [task]
    assert engine.history("rep", iid) == history
    after = engine.instance("rep", iid)
    assert (after["rev"], after["data"], after["status"]) == (before["rev"], before["data"], "running")


def test_scripts_in_a_running_process_see_the_engine_clock_in_company_time(approval, clock):
    clock.set(datetime(2026, 3, 1, 16, 30, tzinfo=UTC))  # 00:30 on 2 March in Shanghai
    iid = approval.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    data = approval.instance("rep", iid)["data"]
    assert data["requested_on"] == "2026-03-02"
    assert data["level"] == "high"
    iid = approval.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 100})
    assert approval.instance("rep", iid)["data"]["level"] == "normal"
