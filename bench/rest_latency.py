"""Benchmark 2: REST throughput and latency of task completion at 1, 8 and 32 concurrent clients,
against a gunicorn cluster (4 sync workers) on PostgreSQL.

    .venv/bin/python -m bench.rest_latency                   # 1, 8, 32 clients, 20 s each
    .venv/bin/python -m bench.rest_latency --clients 1,8 --seconds 10

Each client is a sales rep with a bearer token working its own instances of bench/processes/
rest_steps.bpmn (five tasks in a row, all the requester's): start one, then
POST /api/v1/tasks/{id}/complete five times (each answer names the next task), then the next
instance. Only completions are timed (a round trip: the request, the engine command in one
transaction with the instance row locked, the answer). Clients never contend for one task, so the
figures are the cost of the command itself plus queueing for the 4 workers. Clients run in this
process as threads, on the same CPUs as the server: on a 2-core machine they compete with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import PASSWORD, Cluster, fresh_database
from bench.common import FORMS, PROCESSES, machine, percentile, print_table
from bench.staff import Client, Ledger, form_data
from bench.verdicts import verdict

PROCESS = "rest_steps"
TARGET_CLIENTS, TARGET_PER_S, TARGET_P95_MS = 8, 100, 100  # issue 17 target 3


def work(client: Client, ledger: Ledger, stop: threading.Event) -> None:
    """Start an instance, complete its tasks one after another, repeat until stopped."""
    while not stop.is_set():
        status, body, _ = client.call("POST", f"/processes/{PROCESS}/instances",
                                      {"data": {"customer_name": "基准客户", "amount_yuan": 1}})
        if status != 201:
            ledger.error(f"start answered {status}: {body}")
            return
        while body["tasks"] and not stop.is_set():
            task = body["tasks"][0]
            status, body, _ = client.call("POST", f"/tasks/{task['id']}/complete", {"data": form_data(task)},
                                          command="complete")
            if status != 200:
                ledger.error(f"complete answered {status}: {body}")
                return


def level(cluster: Cluster, clients: int, seconds: float) -> tuple[Ledger, float]:
    """`clients` threads completing tasks for `seconds`; the ledger and the measured wall time."""
    ledger = Ledger()
    workers = []
    for i in range(clients):
        c = Client(cluster.base_url, ledger, retry_for=10)
        status, body, _ = c.call("POST", "/tokens", {"username": f"rep{i + 1}", "password": PASSWORD})
        if status != 201:
            raise RuntimeError(f"rep{i + 1} could not log in: {status} {body}")
        c.token = body["token"]
        workers.append(c)
    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(c, ledger, stop), daemon=True) for c in workers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(60)
    wall = time.perf_counter() - started
    for c in workers:
        c.close()
    return ledger, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per level")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of unmeasured work first")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.clients.split(",")]
    rows, failed = [], False
    with fresh_database(f"bench_rest_{os.getpid()}") as url, \
            Cluster(url, web_workers=args.web_workers, timer_workers=0) as cluster:
        reps = {f"rep{i + 1}": ["sales_rep"] for i in range(max(levels))}
        cluster.setup([PROCESSES / "rest_steps.bpmn", FORMS], reps)
        cluster.start()
        print(f"{args.web_workers} gunicorn workers on {cluster.base_url}, PostgreSQL {url.rsplit('/', 1)[1]}",
              flush=True)
        level(cluster, min(4, max(levels)), args.warmup)  # every worker loads the spec and warms its pool
        for n in levels:
            ledger, wall = level(cluster, n, args.seconds)
            lat = ledger.latencies.get("complete", [])
            failed |= bool(ledger.errors) or ledger.counts["retries"] > 0
            rows.append([n, len(lat), round(wall, 1), len(lat) / wall,
                         percentile(lat, 50) * 1000 if lat else 0.0, percentile(lat, 95) * 1000 if lat else 0.0,
                         percentile(lat, 99) * 1000 if lat else 0.0, ledger.counts["retries"] + len(ledger.errors)])
            print(f"  {n} client(s): {len(lat)} completions", flush=True)
    if not failed:
        shutil.rmtree(cluster.logs, ignore_errors=True)
    else:
        print(f"errors or retries: process logs kept in {cluster.logs}", flush=True)
    print_table(f"REST task completion, {args.web_workers} gunicorn sync workers, PostgreSQL ({machine()})",
                ["clients", "completions", "seconds", "per second", "p50 ms", "p95 ms", "p99 ms", "errors"], rows)
    at_eight = [r for r in rows if r[0] == TARGET_CLIENTS]
    if at_eight and args.web_workers == 4:
        per_s, p95 = at_eight[0][3], at_eight[0][5]
        print_table("issue 17 target 3 (4 gunicorn workers on PostgreSQL, clients on the same machine)",
                    ["target", "figure", "met?"],
                    [_target(f"completions/s at {TARGET_CLIENTS} clients >= {TARGET_PER_S}", f"{per_s:.1f}",
                             per_s >= TARGET_PER_S),
                     _target(f"p95 at {TARGET_CLIENTS} clients <= {TARGET_P95_MS} ms", f"{p95:.1f} ms",
                             p95 <= TARGET_P95_MS)])
    return 1 if failed else 0


def _target(what: str, figure: str, met: bool) -> list[str]:
    return [what, figure, verdict("17.3", what, figure, met)]


if __name__ == "__main__":
    sys.exit(main())
