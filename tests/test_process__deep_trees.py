"""An instance that loops for a long time keeps its waiting task, ends only when its flag says
so, and replays: SpiffWorkflow's own iterators stop at depth 1,000 (about 333 rounds of this loop)
and would report such an instance completed with its task never done (engine/process/limits.py).

Looping past depth 1,000 for real takes minutes (every command walks the whole tree), so the loop runs
on a scale model: SpiffWorkflow's default is played by a depth of 90 (30 rounds), set through the
engine's own setting. The same 40-round loop loses its task at that depth and completes at the engine's
depth, and the engine's depth is far past SpiffWorkflow's 1,000. The engine also cuts the finished part
of a long instance's tree (engine/process/pruning.py, tests/test_process__pruning.py), which keeps it
shallow; the lost task is shown on a whole tree, and the limit stays raised for what cannot be cut.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

from engine import Engine
from engine.process import limits
from tests.conftest import FIXTURES, add_users
from tests.pruning_check import NEVER, min_cut

SPIFF_DEFAULT = 1_000  # SpiffWorkflow 3.2's TaskIterator(max_depth=1000)
SCALED_DEFAULT = 90  # the scale model's SpiffWorkflow default: 3 levels of task tree per round, 30 rounds
ROUNDS = 40  # past the scaled default, as 400 rounds (1,200 deep) are past the real one


@pytest.fixture
def loop(engine: Engine) -> Iterator[Engine]:
    engine.deploy("system", [FIXTURES / "loop"])
    add_users(engine, {"rep": ["sales_rep"], "aud": ["auditor"]})
    yield engine
    limits.raise_iteration_depth()  # whatever a test set, the engine's depth is back for the next one


def run_loop(engine: Engine) -> tuple[int, int | None]:
    """The instance and the round at which it ended or lost its task by itself (None: it kept it every round)."""
    iid = engine.start("rep", "bench_loop", {"customer_name": "客户 ACME", "amount_yuan": 1})
    for n in range(1, ROUNDS + 1):
        waiting = engine.inbox("rep")
        if engine.instance("aud", iid)["status"] != "running" or not waiting:
            return iid, n
        [task] = waiting
        engine.complete("rep", task["id"], {"more": n < ROUNDS, "note": f"第{n}次"})
    return iid, None


def test_the_engines_depth_is_far_past_spiffworkflows_for_runtime_and_replay_alike():
    for iterator in (TaskIterator, BpmnTaskIterator):
        assert iterator.__init__.__defaults__[1] == limits.MAX_DEPTH
    assert limits.MAX_DEPTH >= 30 * SPIFF_DEFAULT


def test_at_spiffworkflows_depth_the_loop_loses_its_task(loop: Engine):
    limits.raise_iteration_depth(SCALED_DEFAULT)
    with min_cut(NEVER):  # on the whole tree: the engine cuts long ones (engine/process/pruning.py)
        _iid, ended_at = run_loop(loop)
    assert ended_at is not None and ended_at < ROUNDS, "the scale model no longer shows the lost task"


def test_at_the_engines_depth_the_same_loop_keeps_its_task_and_ends_when_told(loop: Engine):
    iid, ended_at = run_loop(loop)
    assert ended_at is None, f"the instance ended by itself at round {ended_at}"
    assert loop.inbox("rep") == []
    assert loop.instance("aud", iid)["status"] == "completed"
    completed = [e for e in loop.history("aud", iid) if e["kind"] == "completed"]
    assert len(completed) == ROUNDS
    assert loop.replay(iid).verified
