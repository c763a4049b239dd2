"""Benchmark 8 (issue 17, target 1): instances/s through salesflow's REST API against raw
SpiffWorkflow running the same diagram in memory, in the same run.

`salesflow serve` (one process, no timer worker) runs as a subprocess on a temporary SQLite
database; one client thread (http.client, keep-alive) drives bench/processes/approval2.bpmn from
start to end: POST /processes/bench_approval2/instances as the requester, POST /tasks/{id}/complete
as the requester (confirm), then as a sales manager (approve; the amount is >= 100). The tasks are
taken from each answer, so an instance costs three requests. Raw SpiffWorkflow runs the same BPMN in
memory (bench/engine_throughput.py raw_instance: `task.run()` + `do_engine_steps()`).

    .venv/bin/python -m bench.rest_vs_raw --instances 300

The two are measured in interleaved rounds (REST, raw, REST, raw, ...): each round runs
instances/rounds instances through REST, then raw SpiffWorkflow for at least --raw-seconds (raw is
~15x faster: 300 raw instances alone last 0.2-0.4 s, too short to be steady on a shared machine).
ratio = raw SpiffWorkflow's CPU per instance ÷ REST's (the server process's, from /proc, plus the
client's, from time.process_time), the target's instances/s as a machine of its own would give them
(target >= 0.064). CPU, because this 2-core machine is shared: on 2026-12-05, at load 3.5-4.4 from other
sessions, no wall-clock figure kept three runs in a row within 10 % (the median of the rounds' ratios
0.046-0.048 in one triple, 0.035-0.042 in another; the fastest rounds' ratio 0.038-0.048), while the
CPU ratio agreed within 4 % in every run (0.044-0.046). It leaves out what is not CPU: loopback and
scheduling waits (a sequential client's request waits for the server and back), and SQLite's fsync
(none per commit in WAL with synchronous=NORMAL, the default). The wall-clock figures are printed
beside it: per round, their median and the ratio of each side's fastest round. The target counts as
met only when the CPU ratio and the wall-clock median both reach it. The client
shares the machine's CPUs with the server, as it would in any single-machine measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cluster import PASSWORD, Cluster
from bench.common import FORMS, PROCESSES, database, machine, print_table
from bench.engine_throughput import STEP_DATA, raw_instance, raw_specs
from bench.staff import Client, Ledger, logged_in
from bench.verdicts import verdict
from engine.process.spiff_logging import as_shipped

KEY = "bench_approval2"
BPMN = "approval2.bpmn"
START_DATA = {"customer_name": "基准客户", "amount_yuan": 12000}  # >= 100: both user tasks run
TARGET = 0.064
WORKER = {"confirm": "rep", "manager": "mgr"}
REQUESTS = 3  # per instance: start, two completions


@dataclass
class Batch:
    """Instances run back to back: how many, wall seconds, CPU seconds (server, client or raw)."""

    instances: int
    seconds: float
    cpu: float = 0.0
    server_cpu: float = 0.0

    @property
    def per_s(self) -> float:
        return self.instances / self.seconds


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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # after "(comm)": state, ...
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rest_batch(clients: dict[str, Client], server_pid: int, instances: int) -> Batch:
    server0, cpu0, started = process_cpu(server_pid), time.process_time(), time.perf_counter()
    for _ in range(instances):
        rest_instance(clients)
    seconds = time.perf_counter() - started
    return Batch(instances, seconds, time.process_time() - cpu0, process_cpu(server_pid) - server0)


def raw_batch(spec, subs, min_seconds: float, serialize: bool = False) -> Batch:  # noqa: ANN001
    """Raw instances until at least min_seconds have passed (wall clock)."""
    n, cpu0, started = 0, time.process_time(), time.perf_counter()
    with as_shipped():
        while True:
            raw_instance(spec, subs, serialize, START_DATA, tasks=2)
            n += 1
            seconds = time.perf_counter() - started
            if seconds >= min_seconds:
                return Batch(n, seconds, time.process_time() - cpu0)


def run_rounds(instances: int, warmup: int, rounds: int, raw_seconds: float) -> tuple[list[Batch], list[Batch]]:
    """(REST batches, raw batches), interleaved round by round against one served salesflow."""
    spec, subs = raw_specs(BPMN, KEY)
    for _ in range(3):
        raw_instance(spec, subs, False, START_DATA, tasks=2)
    sizes = [instances // rounds + (i < instances % rounds) for i in range(rounds)]
    rest, raw = [], []
    with database("sqlite", "rest_vs_raw") as url, Cluster(url, web_workers=0, timer_workers=0) as server:
        server.setup([PROCESSES / BPMN, FORMS], {"rep": ["sales_rep"], "mgr": ["sales_manager"]})
        server.serve()
        ledger = Ledger()
        clients = {name: logged_in(server.base_url, ledger, name, PASSWORD, retry_for=10) for name in ("rep", "mgr")}
        try:
            for _ in range(warmup):
                rest_instance(clients)
            for size in sizes:
                rest.append(rest_batch(clients, server.master.pid, size))
                raw.append(raw_batch(spec, subs, raw_seconds))
        finally:
            for c in clients.values():
                c.close()
        if ledger.counts["retries"]:
            raise RuntimeError(f"{ledger.counts['retries']} request(s) retried; server log: {server.master.log}")
    shutil.rmtree(server.logs, ignore_errors=True)
    return rest, raw


def total(batches: list[Batch]) -> Batch:
    return Batch(sum(b.instances for b in batches), sum(b.seconds for b in batches),
                 sum(b.cpu for b in batches), sum(b.server_cpu for b in batches))


def print_rounds(rest: list[Batch], raw: list[Batch], ratios: list[float]) -> None:
    print_table("rounds (wall clock)", ["round", "REST instances", "REST per s", "raw instances", "raw per s",
                                         "ratio"],
                [[i + 1, r.instances, r.per_s, w.instances, w.per_s, f"{q:.4f}"]
                 for i, (r, w, q) in enumerate(zip(rest, raw, ratios, strict=True))])


def print_cpu(rest: Batch, raw: Batch) -> float:
    """CPU per request and per instance; returns the CPU ratio (raw CPU per instance ÷ REST's)."""
    rest_ms = 1000 * (rest.server_cpu + rest.cpu) / rest.instances
    raw_ms = 1000 * raw.cpu / raw.instances
    print_table("CPU time (all rounds)", ["side", "ms per request", "ms per instance"],
                [["REST server (salesflow serve)", 1000 * rest.server_cpu / rest.instances / REQUESTS,
                  1000 * rest.server_cpu / rest.instances],
                 ["REST client (this process)", 1000 * rest.cpu / rest.instances / REQUESTS,
                  1000 * rest.cpu / rest.instances],
                 ["raw SpiffWorkflow", "-", raw_ms]])
    return raw_ms / rest_ms


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=300, help="instances through REST (default 300)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured REST instances first (default 5)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved REST/raw rounds (default 9)")
    parser.add_argument("--raw-seconds", type=float, default=0.6,
                        help="raw SpiffWorkflow's least time per round (default 0.6)")
    args = parser.parse_args(argv)
    rounds = max(1, min(args.rounds, args.instances))
    print(f"REST vs raw: {KEY}, 2 user tasks, {REQUESTS} requests per instance, {args.instances} instances "
          f"in {rounds} rounds, salesflow serve on SQLite, one client thread; {machine()}\n", flush=True)
    rest, raw = run_rounds(args.instances, args.warmup, rounds, args.raw_seconds)
    ratios = [r.per_s / w.per_s for r, w in zip(rest, raw, strict=True)]
    median = statistics.median(ratios)
    best = max(r.per_s for r in rest) / max(w.per_s for w in raw)
    print_rounds(rest, raw, ratios)
    spec, subs = raw_specs(BPMN, KEY)
    raw_json = raw_batch(spec, subs, 2 * args.raw_seconds, serialize=True)
    rest_all, raw_all = total(rest), total(raw)
    print_table("instances/s from start to end (all rounds)",
                ["run", "instances", "seconds", "per second", "ms per instance"],
                [[name, r.instances, r.seconds, r.per_s, 1000 / r.per_s]
                 for name, r in (("REST (salesflow serve, SQLite)", rest_all), ("raw SpiffWorkflow", raw_all),
                                 ("raw + JSON state round trip per task", raw_json))])
    cpu_ratio = print_cpu(rest_all, raw_all)
    # met only when both say so: the target is instances/s, and the CPU ratio alone would claim what a
    # machine of its own might give rather than what this run gave
    met = min(cpu_ratio, median) >= TARGET
    print_table("issue 17 target 1", ["target", "figure", "met?"],
                [[f"REST / raw >= {TARGET} (CPU and wall clock)",
                  f"{cpu_ratio:.4f} (wall clock: median of {rounds} rounds {median:.4f}, fastest rounds {best:.4f})",
                  verdict("17.1", f"REST / raw >= {TARGET} (CPU and wall clock)",
                          f"CPU {cpu_ratio:.4f}, wall {median:.4f}", met)]])
    return {"rest_per_s": rest_all.per_s, "raw_per_s": raw_all.per_s, "raw_json_per_s": raw_json.per_s,
            "ratio": cpu_ratio, "wall_ratio": median, "best_ratio": best, "ratios": ratios, "cpu_ratio": cpu_ratio,
            "server_cpu_ms_per_request": 1000 * rest_all.server_cpu / rest_all.instances / REQUESTS}


if __name__ == "__main__":
    main()
