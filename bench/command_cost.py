"""Benchmark 7 (issue 17, target 2): what one engine command costs, in time and SQL statements.

Each instance of bench/processes/approval2.bpmn (the requester confirms, a sales manager approves
100 yuan or more) goes through the public Engine facade: `Engine.start` by the requester, the
instance view `Engine.instance(actor, id)` after every command (as the instance page shows it),
and two `Engine.complete`s (the requester's confirmation, the manager's approval).

    .venv/bin/python -m bench.command_cost                      # SQLite, 300 instances
    .venv/bin/python -m bench.command_cost --db both --show-sql

Targets: start p50 <= 1.5 ms; complete p50 <= 1.5 ms and <= 6 statements per completion (the
largest count seen, BEGIN shown apart; see bench/statements.py for what is counted); view p50
<= 0.5 ms. Statement counts are the same on any machine; times are not.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from bench.common import PASSWORD, add_db_argument, db_choices, deploy, engine_on, machine, percentile, print_table
from bench.statements import Count, StatementCounter
from bench.verdicts import verdict
from engine import Engine

KEY = "bench_approval2"
BPMN = "approval2.bpmn"
START_DATA = {"customer_name": "基准客户", "amount_yuan": 12000}  # >= 100: both user tasks run
STEP_DATA = {"approved": True, "comment": "ok"}
WORKER = {"confirm": "rep", "manager": "mgr"}
# (command, statistic, limit, unit)
TARGETS = [("start", "p50", 1.5, "ms"), ("complete", "p50", 1.5, "ms"), ("complete", "statements", 6, ""),
           ("view", "p50", 0.5, "ms")]
T = TypeVar("T")


class Sampler:
    """Seconds and statement counts of each command kind."""

    def __init__(self, counter: StatementCounter) -> None:
        self.counter = counter
        self.seconds: dict[str, list[float]] = {"start": [], "complete": [], "view": []}
        self.counts: dict[str, list[Count]] = {k: [] for k in self.seconds}
        self.last_sql: dict[str, list[str]] = {}

    def __call__(self, kind: str, fn: Callable[[], T]) -> T:
        self.counter.reset()
        started = time.perf_counter()
        result = fn()
        self.seconds[kind].append(time.perf_counter() - started)
        self.last_sql[kind] = self.counter.texts
        self.counts[kind].append(self.counter.take())
        return result


def one_instance(eng: Engine, sample: Callable, i: int) -> None:
    iid = sample("start", lambda: eng.start("rep", KEY, START_DATA, business_key=f"C-{i}"))
    view = sample("view", lambda: eng.instance("rep", iid))
    done = 0
    while view["tasks"]:
        who, task_id = WORKER[view["tasks"][0]["name"]], view["tasks"][0]["id"]
        sample("complete", lambda who=who, task_id=task_id: eng.complete(who, task_id, STEP_DATA))
        view = sample("view", lambda: eng.instance("rep", iid))
        done += 1
    if done != 2 or view["status"] != "completed":
        raise AssertionError(f"instance {iid} ran {done} tasks and is {view['status']}, expected 2 and completed")


def run(kind: str, instances: int, warmup: int) -> Sampler:
    with engine_on(kind, "command_cost") as eng:
        deploy(eng, BPMN)
        eng.add_user("rep", ["sales_rep"], PASSWORD)
        eng.add_user("mgr", ["sales_manager"], PASSWORD)
        counter = StatementCounter.attach(eng.db)
        try:
            for i in range(warmup):  # caches (spec, labels, roles) and connection pools fill here
                one_instance(eng, Sampler(counter), i)
            sampler = Sampler(counter)
            for i in range(instances):
                one_instance(eng, sampler, warmup + i)
            return sampler
        finally:
            counter.detach()


def figures(kind: str, s: Sampler) -> dict:
    out: dict = {"db": kind}
    for cmd, secs in s.seconds.items():
        counts = s.counts[cmd]
        out[cmd] = {"n": len(secs), "p50": percentile(secs, 50) * 1000, "p95": percentile(secs, 95) * 1000,
                    "statements": max(c.statements for c in counts),
                    "min_statements": min(c.statements for c in counts), "begins": max(c.begins for c in counts),
                    "largest": max(counts, key=lambda c: c.statements)}
    return out


def target_rows(result: dict) -> list[list]:
    rows = []
    for cmd, stat, limit, unit in TARGETS:
        value = result[cmd][stat]
        shown = f"{value:.3f} ms" if unit else str(result[cmd]["largest"])
        what = f"Engine.{'instance' if cmd == 'view' else cmd} {stat} <= {limit:g} {unit}".rstrip()
        if unit and result["db"] != "sqlite":  # the issue holds SQLite's times to it; PostgreSQL's are shown
            rows.append([result["db"], what, shown, "(the time target is SQLite's)"])
            continue
        rows.append([result["db"], what, shown, verdict("17.2", f"{result['db']}: {what}", shown, value <= limit)])
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser, default="sqlite")
    parser.add_argument("--instances", type=int, default=300, help="instances per database (default 300)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured instances first (default 5)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of the last command of each kind")
    args = parser.parse_args(argv)
    print(f"command cost: {KEY}, 2 user tasks, {args.instances} instances; {machine()}\n", flush=True)
    results = []
    for kind in db_choices(args.db):
        sampler = run(kind, args.instances, args.warmup)
        results.append(figures(kind, sampler))
        if args.show_sql:
            for cmd, texts in sampler.last_sql.items():
                print(f"{kind} {cmd}: " + "".join(f"\n  {t}" for t in texts) + "\n")
    rows = [[r["db"], cmd, r[cmd]["n"], r[cmd]["p50"], r[cmd]["p95"], str(r[cmd]["largest"]),
             r[cmd]["min_statements"]] for r in results for cmd in ("start", "complete", "view")]
    print_table("per command (ms; statements: the largest count seen per command, BEGIN apart)",
                ["db", "command", "calls", "p50 ms", "p95 ms", "statements (largest)", "fewest"], rows)
    print_table("issue 17 target 2", ["db", "target", "figure", "met?"],
                [row for res in results for row in target_rows(res)])
    return results


if __name__ == "__main__":
    main()
