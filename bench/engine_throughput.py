"""Benchmark 1: throughput of a five-user-task approval through the engine, against raw SpiffWorkflow.

Each instance of bench/processes/approval5.bpmn goes from start to end through the public Engine
facade, as staff would drive it: the requester starts it, four people of four roles each complete
one task (completing claims an unclaimed task in the same command; `--claim` claims it first, as
the inbox's claim button does), and the requester archives it. The same BPMN then runs in memory in
raw SpiffWorkflow (the parser family we use, no database, no serialization) in the same process.

    .venv/bin/python -m bench.engine_throughput --db both --instances 300

ratio = our instances/s ÷ raw instances/s (target ≥ 0.5). Only the engine commands are timed: the
lookup of the next task's id (a one-row query standing in for the user's inbox) is not.
"""

from __future__ import annotations

import argparse
import json
import time

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from bench.common import (
    PASSWORD,
    PROCESSES,
    Stopwatch,
    add_db_argument,
    db_choices,
    deploy,
    engine_on,
    machine,
    print_table,
)
from bench.verdicts import verdict
from engine import Engine
from engine.definitions.serializer import SERIALIZER
from engine.process.spiff_logging import as_shipped
from engine.store.models import Task

KEY = "bench_approval5"
BPMN = "approval5.bpmn"
# who works each task: (username, roles)
PEOPLE = {"rep": ["sales_rep"], "rep2": ["sales_rep"], "mgr": ["sales_manager"], "dir": ["sales_director"],
          "fin": ["finance"]}
WORKER = {"prepare": "rep2", "manager": "mgr", "director": "dir", "finance_check": "fin", "archive": "rep"}
START_DATA = {"customer_name": "基准客户", "amount_yuan": 12000}
STEP_DATA = {"approved": True, "comment": "ok"}


def _ready_task(eng: Engine, instance_id: int) -> tuple[str, str] | None:
    with eng.db.read() as s:
        row = s.execute(select(Task.id, Task.bpmn_id).where(Task.instance_id == instance_id,
                                                            Task.status == "ready")).first()
    return (row[0], row[1]) if row else None


def run_engine(kind: str, instances: int, claim: bool, warmup: int = 3) -> dict:
    """Instances/s through the engine on one database, and the time per command kind."""
    with engine_on(kind, "throughput") as eng:
        deploy(eng, BPMN)
        for name, roles in PEOPLE.items():
            eng.add_user(name, roles, PASSWORD)
        watches = {"start": Stopwatch(), "claim": Stopwatch(), "complete": Stopwatch()}
        for i in range(warmup + instances):
            counted = i >= warmup
            if i == warmup:
                watches = {k: Stopwatch() for k in watches}
            with watches["start"]:
                iid = eng.start("rep", KEY, START_DATA, business_key=f"B-{i}")
            done = 0
            while (task := _ready_task(eng, iid)) is not None:
                task_id, bpmn_id = task
                who = WORKER[bpmn_id]
                if claim and bpmn_id != "archive":
                    with watches["claim"]:
                        eng.claim(who, task_id)
                with watches["complete"]:
                    eng.complete(who, task_id, STEP_DATA)
                done += 1
            if done != 5 and counted:
                raise AssertionError(f"instance {iid} ran {done} tasks, expected 5")
        total = sum(w.total for w in watches.values())
        return {"db": kind, "instances": instances, "seconds": total, "per_s": instances / total,
                "start_ms": 1000 * watches["start"].total / instances,
                "claim_ms": 1000 * watches["claim"].total / max(watches["claim"].count, 1),
                "complete_ms": 1000 * watches["complete"].total / max(watches["complete"].count, 1)}


def raw_specs(bpmn: str = BPMN, key: str = KEY):  # noqa: ANN201 - (spec, subprocess specs)
    parser = CamundaParser()
    parser.add_bpmn_file(str(PROCESSES / bpmn))
    return parser.get_spec(key), parser.get_subprocess_specs(key)


def raw_instance(spec, subs, serialize: bool = False, start_data: dict = START_DATA,  # noqa: ANN001
                 tasks: int = 5) -> int:
    """One instance in memory; with `serialize`, the state goes through JSON after each step
    (what any persistent engine must do at least, to show where our extra time goes)."""
    wf = BpmnWorkflow(spec, subs)
    wf.task_tree.data.update(start_data)
    wf.do_engine_steps()
    done = 0
    while True:
        if serialize:
            wf = _round_trip(wf, spec, subs)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = ready[0]
        task.set_data(**STEP_DATA)
        task.run()
        wf.do_engine_steps()
        done += 1
    if not wf.is_completed() or done != tasks:
        raise AssertionError(f"raw SpiffWorkflow ran {done} tasks")
    return done


def _round_trip(wf, spec, subs):  # noqa: ANN001, ANN202
    state = SERIALIZER.to_dict(wf)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    state = json.loads(json.dumps(state))
    state["spec"], state["subprocess_specs"] = spec, subs
    return SERIALIZER.from_dict(state)


def run_raw(instances: int, serialize: bool = False, warmup: int = 3) -> dict:
    spec, subs = raw_specs()
    with as_shipped():  # the yardstick is SpiffWorkflow as shipped, not as the engine tunes it
        for _ in range(warmup):
            raw_instance(spec, subs, serialize)
        start = time.perf_counter()
        for _ in range(instances):
            raw_instance(spec, subs, serialize)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "per_s": instances / seconds}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser)
    parser.add_argument("--instances", type=int, default=300, help="instances per database (default 300)")
    parser.add_argument("--claim", action="store_true", help="claim each pool task before completing it")
    args = parser.parse_args(argv)
    print(f"engine throughput: {KEY}, 5 user tasks, {args.instances} instances; {machine()}\n")
    raw_instances = max(args.instances, 50)
    results = []
    for kind in db_choices(args.db):
        ours = run_engine(kind, args.instances, args.claim)
        # raw is measured right after each database run, so both see the same machine load
        raw = run_raw(raw_instances)
        raw_json = run_raw(raw_instances, serialize=True)
        ours.update(raw_per_s=raw["per_s"], raw_json_per_s=raw_json["per_s"], ratio=ours["per_s"] / raw["per_s"])
        results.append(ours)
    rows = [[r["db"], r["instances"], r["per_s"], r["start_ms"], r["claim_ms"] if args.claim else "-",
             r["complete_ms"], r["raw_per_s"], r["raw_json_per_s"], f"{r['ratio']:.3f}",
             verdict("7.1", f"{r['db']}: ours / raw >= 0.5", f"{r['ratio']:.3f}", r["ratio"] >= 0.5)]
            for r in results]
    print_table("instances/s from start to end (ratio = ours / raw; target >= 0.5)",
                ["db", "instances", "ours/s", "start ms", "claim ms", "complete ms", "raw/s",
                 "raw+json/s", "ratio", "target"], rows)
    return results


if __name__ == "__main__":
    main()
