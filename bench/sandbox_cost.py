"""Benchmark 6: what the expression sandbox (engine/sandbox) costs, against SpiffWorkflow's own
unrestricted script engine in the same run.

Per run: a condition, a DMN cell, a short script (these take the fast path in the server process)
and a script with a comprehension (it runs in a sandbox process), each through
`engine.sandbox.dispatch`, against SpiffWorkflow's `TaskDataEnvironment` (plain eval/exec, no limits).

Per command: instances of bench/processes/sandboxed.bpmn (a script, a DMN table and gateway
conditions on start; a script with a comprehension on completion) through `Engine.start` and
`Engine.complete`, once with the sandbox and once with SpiffWorkflow's plain script engine attached.

    .venv/bin/python -m bench.sandbox_cost --db sqlite --instances 200
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from sqlalchemy import select

from bench.common import FORMS, PASSWORD, PROCESSES, add_db_argument, db_choices, engine_on, machine, print_table
from engine import Engine, scripting
from engine.sandbox import dispatch
from engine.store.models import Task

DATA = {"amount_yuan": 20000, "customer_name": "基准客户 ACME", "level": "high", "items": [3, 1, 2],
        "visit_date": "2026-03-05", "approved": True}
CASES = [  # (label, mode, code, path it takes)
    ("condition", "eval", "approved == True and amount_yuan >= 10000", "fast path"),
    ("DMN cell", "eval", "(level) == (\"high\")", "fast path"),
    ("two-line script", "exec", "label = customer_name.strip()[:20]\nbig = amount_yuan > 10000", "fast path"),
    ("loop script", "exec", "scores = [i * i for i in items]\ntotal = sum(scores)", "sandbox process"),
]
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def per_run(repeat: int) -> list[list[object]]:
    raw = TaskDataEnvironment()
    rows = []
    for label, mode, code, path in CASES:
        sandboxed = dispatch.evaluate if mode == "eval" else dispatch.execute
        unbounded = raw.evaluate if mode == "eval" else raw.execute
        ours = _time(repeat, lambda run=sandboxed, code=code: run(code, DATA, NOW))
        plain = _time(repeat, lambda run=unbounded, code=code: run(code, dict(DATA)))
        rows.append([label, path, round(ours * 1e6, 1), round(plain * 1e6, 1), round(ours / plain, 1)])
    return rows


def _time(repeat: int, fn) -> float:  # noqa: ANN001
    fn()  # warm: compile caches, a started sandbox process
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def per_command(kind: str, instances: int, sandboxed: bool) -> dict:
    plain = PythonScriptEngine(environment=TaskDataEnvironment())
    saved = scripting._ENGINE
    scripting._ENGINE = scripting._ENGINE if sandboxed else plain
    try:
        with engine_on(kind, "sandbox") as eng:
            eng.deploy("system", [PROCESSES / "sandboxed.bpmn", PROCESSES / "bench_route.dmn", FORMS], note="bench")
            eng.add_user("rep", ["sales_rep"], PASSWORD)
            eng.add_user("mgr", ["sales_manager"], PASSWORD)
            start = complete = 0.0
            for i in range(instances):
                t0 = time.perf_counter()
                iid = eng.start("rep", "bench_sandboxed", {"customer_name": f"客户{i}", "amount_yuan": 1000 * i})
                t1 = time.perf_counter()
                task_id = _ready(eng, iid)
                t2 = time.perf_counter()
                eng.complete("mgr", task_id, {"approved": True})
                start, complete = start + t1 - t0, complete + time.perf_counter() - t2
                assert eng.instance("rep", iid)["status"] == "completed"
            return {"start": start / instances, "complete": complete / instances}
    finally:
        scripting._ENGINE = saved


def _ready(eng: Engine, instance_id: int) -> str:
    with eng.db.read() as s:
        return s.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.status == "ready"))


def main(argv: list[str] | None = None) -> dict[str, list[list[object]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2000, help="runs per case of the per-run table")
    args = parser.parse_args(argv)
    print(f"expression sandbox cost; {machine()}\n")
    runs = per_run(args.repeat)
    print_table("per run (µs; ratio = sandbox / SpiffWorkflow's plain eval)",
                ["code", "runs in", "sandbox µs", "plain µs", "ratio"], runs)
    rows = []
    for kind in db_choices(args.db):
        ours, plain = per_command(kind, args.instances, True), per_command(kind, args.instances, False)
        for command in ("start", "complete"):
            rows.append([kind, command, round(ours[command] * 1e3, 2), round(plain[command] * 1e3, 2),
                         round((ours[command] - plain[command]) * 1e3, 2), round(ours[command] / plain[command], 2)])
    print()
    print_table(f"per command, {args.instances} instances of bench_sandboxed (ms)",
                ["db", "command", "sandbox ms", "plain ms", "cost ms", "ratio"], rows)
    return {"per_run": runs, "per_command": rows}


if __name__ == "__main__":
    main()
