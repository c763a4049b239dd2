"""An instance that loops for a long time keeps its waiting task, ends only when its flag says
so, and replays: SpiffWorkflow's own iterators stop at depth 1,000 (about 333 rounds of this loop)
and would report such an instance completed with its task never done (engine/process/limits.py)."""

from __future__ import annotations

from engine import Engine
from tests.conftest import FIXTURES, add_users

ROUNDS = 400  # 3 levels of task tree per round: 1,200 deep, past SpiffWorkflow's default limit


def test_a_loop_of_400_rounds_keeps_its_task_and_ends_when_told(engine: Engine):
    engine.deploy("system", [FIXTURES / "loop"])
    add_users(engine, {"rep": ["sales_rep"], "aud": ["auditor"]})
    iid = engine.start("rep", "bench_loop", {"customer_name": "客户 ACME", "amount_yuan": 1})
    for n in range(1, ROUNDS + 1):
        assert engine.instance("aud", iid)["status"] == "running", f"the instance ended by itself at round {n}"
        [task] = engine.inbox("rep")
        engine.complete("rep", task["id"], {"more": n < ROUNDS, "note": f"第{n}次"})
    assert engine.inbox("rep") == []
    assert engine.instance("aud", iid)["status"] == "completed"
    completed = [e for e in engine.history("aud", iid) if e["kind"] == "completed"]
    assert len(completed) == ROUNDS
    assert engine.replay(iid).verified
