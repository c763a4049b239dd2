"""Benchmark 8 (issue 17, target 1): instances/s through salesflow's REST API against raw
SpiffWorkflow running the same diagram in memory, in the same run.

`salesflow serve` (one process, no timer worker) runs as a subprocess on a temporary SQLite
database; one client thread (http.client, keep-alive) drives bench/processes/approval2.bpmn from
start to end: POST /processes/bench_approval2/instances as the requester, POST /tasks/{id}/complete
as the requester (confirm), then as a sales manager (approve; the amount is >= 100). The tasks are
taken from each answer, so an instance costs three requests. Then raw SpiffWorkflow runs the same
BPMN in memory (bench/engine_throughput.py raw_instance: `task.run()` + `do_engine_steps()`).

    .venv/bin/python -m bench.rest_vs_raw --instances 300

ratio = REST instances/s ÷ raw instances/s (target >= 0.064). The client shares the machine's CPUs
with the server, as it would in any single-machine measurement.
"""

from __future__ import annotations

import argparse
import shutil
import time

from bench.cluster import PASSWORD, Cluster
from bench.common import FORMS, PROCESSES, database, machine, print_table
from bench.engine_throughput import STEP_DATA, raw_instance, raw_specs
from bench.staff import Client, Ledger, logged_in
from bench.verdicts import verdict

KEY = "bench_approval2"
BPMN = "approval2.bpmn"
START_DATA = {"customer_name": "基准客户", "amount_yuan": 12000}  # >= 100: both user tasks run
TARGET = 0.064
WORKER = {"confirm": "rep", "manager": "mgr"}


def rest_instance(clients: dict[str, Client]) -> None:
    """One instance from start to end through the API; raises on any unexpected answer."""
    status, body, _ = clients["rep"].call("POST", f"/processes/{KEY}/instances", {"data": START_DATA})
    if status != 201:
        raise RuntimeError(f"start answered {status}: {body}")
    done = 0
    while body["tasks"]:
        task = body["tasks"][0]
        status, body, _ = clients[WORKER[task["name"]]].call("POST", f"/tasks/{task['id']}/complete",
                                                             {"data": STEP_DATA})
        if status != 200:
            raise RuntimeError(f"complete {task['name']} answered {status}: {body}")
        done += 1
    if done != 2 or body["status"] != "completed":
        raise RuntimeError(f"instance {body['id']} ran {done} tasks and is {body['status']}")


def run_rest(instances: int, warmup: int) -> dict:
    with database("sqlite", "rest_vs_raw") as url, Cluster(url, web_workers=0, timer_workers=0) as server:
        server.setup([PROCESSES / BPMN, FORMS], {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
        server.serve()
        ledger = Ledger()
        clients = {name: logged_in(server.base_url, ledger, name, PASSWORD, retry_for=10) for name in ("rep", "mgr")}
        try:
            for _ in range(warmup):
                rest_instance(clients)
            started = time.perf_counter()
            for _ in range(instances):
                rest_instance(clients)
            seconds = time.perf_counter() - started
        finally:
            for c in clients.values():
                c.close()
        if ledger.counts["retries"]:
            raise RuntimeError(f"{ledger.counts['retries']} request(s) retried; server log: {server.master.log}")
    shutil.rmtree(server.logs, ignore_errors=True)
    return {"instances": instances, "seconds": seconds, "per_s": instances / seconds}


def run_raw(instances: int, serialize: bool = False, warmup: int = 3) -> dict:
    spec, subs = raw_specs(BPMN, KEY)
    for _ in range(warmup):
        raw_instance(spec, subs, serialize, START_DATA, tasks=2)
    started = time.perf_counter()
    for _ in range(instances):
        raw_instance(spec, subs, serialize, START_DATA, tasks=2)
    seconds = time.perf_counter() - started
    return {"instances": instances, "seconds": seconds, "per_s": instances / seconds}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=300, help="instances through REST (default 300)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured REST instances first (default 5)")
    args = parser.parse_args(argv)
    print(f"REST vs raw: {KEY}, 2 user tasks, 3 requests per instance, {args.instances} instances, "
          f"salesflow serve on SQLite, one client thread; {machine()}\n", flush=True)
    rest = run_rest(args.instances, args.warmup)
    raw_n = max(args.instances, 200)  # raw is fast: more instances for a steadier figure
    raw = run_raw(raw_n)
    raw_json = run_raw(raw_n, serialize=True)
    ratio = rest["per_s"] / raw["per_s"]
    print_table("instances/s from start to end", ["run", "instances", "seconds", "per second", "ms per instance"],
                [[name, r["instances"], r["seconds"], r["per_s"], 1000 / r["per_s"]]
                 for name, r in (("REST (salesflow serve, SQLite)", rest), ("raw SpiffWorkflow", raw),
                                 ("raw + JSON state round trip per task", raw_json))])
    print_table("issue 17 target 1", ["target", "figure", "met?"],
                [[f"REST / raw >= {TARGET}", f"{ratio:.4f}",
                  verdict("17.1", f"REST / raw >= {TARGET}", f"{ratio:.4f}", ratio >= TARGET)]])
    return {"rest_per_s": rest["per_s"], "raw_per_s": raw["per_s"], "raw_json_per_s": raw_json["per_s"],
            "ratio": ratio}


if __name__ == "__main__":
    main()
