"""A long instance keeps a small task tree (engine/process/pruning.py) and replays exactly.

SpiffWorkflow keeps every round of a loop in its task tree; the engine cuts the finished part at the
start of a command once it is MIN_CUT tasks or more. The audit trail keeps the history: replay gives
the same digests, derived events and history states whether the tree is cut or whole
(tests/pruning_check.py; the scenario suite runs the same check on every process it drives).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine import Engine
from engine.process import pruning
from engine.store.models import Instance
from tests.conftest import FIXTURES, add_users
from tests.pruning_check import min_cut, replay_both_ways
from tests.test_runtime__migration import sources

TASKS_PER_ROUND = 3  # merge gateway, user task, gateway
# the tree and its replay live in memory: what the database is does not change them (the SQLite pass runs it)
pytestmark = pytest.mark.db_agnostic


@pytest.fixture
def loop(engine: Engine) -> Engine:
    engine.deploy("system", [FIXTURES / "loop"])
    add_users(engine, {"rep": ["sales_rep"], "aud": ["auditor"]})
    return engine


def run_loop(engine: Engine, rounds: int, watch: list[int] | None = None) -> int:
    """An instance of the loop run for `rounds` rounds to its end; `watch` collects the number of tasks in
    its saved top-level tree after each round."""
    iid = engine.start("rep", "bench_loop", {"customer_name": "客户 ACME", "amount_yuan": 1})
    for n in range(1, rounds + 1):
        [task] = engine.inbox("rep")
        engine.complete("rep", task["id"], {"more": n < rounds, "note": f"第{n}次"})
        if watch is not None:
            with engine.db.read() as s:
                watch.append(len(json.loads(s.scalar(select(Instance.state_json).where(Instance.id == iid)))["tasks"]))
    return iid


def test_a_loop_of_420_rounds_keeps_a_small_tree_ends_when_told_and_replays(loop: Engine):
    sizes: list[int] = []
    iid = run_loop(loop, 420, sizes)
    assert loop.inbox("rep") == []
    assert loop.instance("aud", iid)["status"] == "completed"
    assert len([e for e in loop.history("aud", iid) if e["kind"] == "completed"]) == 420
    # whole, the tree would hold 3 tasks a round (1,260 at the end, 1,260 levels deep)
    assert max(sizes) <= pruning.MIN_CUT + 2 * TASKS_PER_ROUND + 4
    assert sizes[-1] < 420 * TASKS_PER_ROUND // 10
    replayed = loop.replay(iid, actor="aud", states=True)
    assert replayed.verified, replayed.first_mismatch
    last = replayed.states[-1]
    assert last["finished"] is True
    assert last["completed"] == ["again", "end", "merge", "start", "work"]  # the elements that ran, cut or not
    assert last["data"]["note"] == "第420次" and last["data"]["more"] is False


def test_a_long_loop_replays_the_same_with_its_tree_cut_at_every_command_and_never(loop: Engine):
    iid = run_loop(loop, 90)  # cut by the runtime at its default size, twice or more
    pruned, whole, counts = replay_both_ways(loop, iid)
    assert whole.verified, whole.first_mismatch
    assert pruned.verified, pruned.first_mismatch
    assert pruned.states == whole.states
    assert counts["cuts"] >= 80  # cut at nearly every command: the check is not vacuous


def test_short_instances_are_not_cut_long_ones_are(loop: Engine):
    with min_cut(pruning.MIN_CUT) as counts:
        run_loop(loop, pruning.MIN_CUT // TASKS_PER_ROUND - 3)
    assert counts["cuts"] == 0
    with min_cut(pruning.MIN_CUT) as counts:
        run_loop(loop, pruning.MIN_CUT // TASKS_PER_ROUND + 5)
    assert counts["cuts"] == 1


def test_a_cut_keeps_the_outcome_and_the_elements_that_ran(loop: Engine):
    with min_cut(1) as counts:
        iid = run_loop(loop, 12)
    assert counts["cuts"] >= 10
    view = loop.instance("aud", iid)
    assert view["status"] == "completed" and view["outcome"] == "completed"
    assert loop.replay(iid).verified


def test_a_version_without_an_element_that_ran_before_the_cut_is_still_refused(loop: Engine):
    """Migration keeps what ran when it moves an instance: an element that ran only in the cut part (the
    start event, in round 1) must still exist in the version it moves to, as on the whole tree."""
    add_users(loop, {"own": ["process_owner"]})
    with min_cut(1) as counts:
        iid = loop.start("rep", "bench_loop", {"customer_name": "客户 ACME", "amount_yuan": 1})
        for n in range(1, 6):
            [task] = loop.inbox("rep")
            loop.complete("rep", task["id"], {"more": True, "note": f"第{n}次"})
    assert counts["cuts"] >= 4
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "loop").iterdir())}
    bpmn = files["loop.bpmn"]
    assert 'id="start"' in bpmn and 'sourceRef="start"' in bpmn
    files["loop.bpmn"] = (bpmn.replace('id="start"', 'id="begin"').replace('sourceRef="start"', 'sourceRef="begin"')
                         .replace('<bpmn:flowNodeRef>start<', '<bpmn:flowNodeRef>begin<'))
    loop.deploy("own", files=sources(files), note="the start event renamed")
    [entry] = loop.migration_plan("own", "bench_loop", 2)
    assert entry["instance_id"] == iid and not entry["movable"]
    assert any(r.startswith("start: already") for r in entry["reasons"]), entry["reasons"]
    assert loop.migrate("own", "bench_loop", 2)["migrated"] == []


REMINDER = '''    <bpmn:boundaryEvent id="remind" name="一小时未跟进" cancelActivity="false" attachedToRef="work">
      <bpmn:outgoing>f_remind</bpmn:outgoing>
      <bpmn:timerEventDefinition id="remind_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="reminded" name="已提醒"><bpmn:incoming>f_remind</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_remind" sourceRef="remind" targetRef="reminded"/>
  </bpmn:process>'''


@pytest.fixture
def reminded_loop(engine: Engine, tmp_path) -> Engine:
    """The loop with a reminder beside its task: a non-interrupting timer whose branch ends by itself."""
    for source in (FIXTURES / "loop").iterdir():
        text = source.read_text(encoding="utf-8")
        if source.name == "loop.bpmn":
            assert "  </bpmn:process>" in text and "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>" in text
            text = text.replace("  </bpmn:process>", REMINDER).replace(
                "<bpmn:flowNodeRef>end</bpmn:flowNodeRef>",
                "<bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>remind</bpmn:flowNodeRef>"
                "<bpmn:flowNodeRef>reminded</bpmn:flowNodeRef>")
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    engine.deploy("system", [tmp_path])
    add_users(engine, {"rep": ["sales_rep"], "aud": ["auditor"]})
    return engine


def test_a_loop_with_reminders_replays_the_same_cut_and_whole(reminded_loop: Engine, clock):
    """Each round's reminder is cancelled when the task is done (a finished side branch: cut with the
    round). Once one fired, its branch ended in SpiffWorkflow's end join, which merges every finished
    branch's data into the process's last task: from then on nothing above it is cut (pruning._safe)."""
    eng = reminded_loop
    with min_cut(1) as counts:
        iid = eng.start("rep", "bench_loop", {"customer_name": "客户 ACME", "amount_yuan": 1})
        for n in range(1, 25):
            if n >= 15 and n % 3 == 0:  # from round 15 on, every third reminder fires before the task is done
                clock.advance(hours=2)
                assert eng.fire_due_timers() == 1
            [task] = eng.inbox("rep")
            eng.complete("rep", task["id"], {"more": n < 24, "note": f"第{n}次"})
    assert 10 <= counts["cuts"] < 24
    assert eng.instance("aud", iid)["status"] == "completed"
    assert len([e for e in eng.history("aud", iid) if e["kind"] == "timer_fired"]) == 4
    pruned, whole, _ = replay_both_ways(eng, iid)
    assert whole.verified, whole.first_mismatch
    assert pruned.verified, pruned.first_mismatch
    assert pruned.states == whole.states
    assert "reminded" in whole.states[-1]["completed"]
