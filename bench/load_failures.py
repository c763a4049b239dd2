"""Load and failure test: simulated staff work the load_approval process through the REST API of a
gunicorn cluster with timer workers on PostgreSQL, while a web worker and a timer worker are killed
with SIGKILL and PostgreSQL is restarted; then everything the staff were told is checked.

    .venv/bin/python -m bench.load_failures                       # full size: 32 staff, 3 minutes
    .venv/bin/python -m bench.load_failures --staff 8 --seconds 30
    .venv/bin/python -m bench.load_failures --pg terminate        # no server restart (shared server)

The PostgreSQL restart (`pg_ctlcluster ... restart`, needs root) breaks the connections of every
database on that server for a second or two; `--pg terminate` only cuts this run's own connections.
One poisoned instance (bench/processes/load_poison.bpmn: its timer's next step always fails) is
started first, so that it has the lowest id and every timer worker pass meets it first: every other
timer must still fire exactly once, its failures must be counted, and it must still be cancellable.
Exit status 1 when any check fails. tests/load/test_load__failures.py runs it at a small size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import PASSWORD, PG_SERVER, Cluster, fresh_database
from bench.common import FORMS, PROCESSES, machine, percentile
from bench.load_checks import check_database, check_poisoned, drive_to_end, rollup_problems, start_poisoned
from bench.staff import Client, Ledger, Staff, run_staff

ADMIN = "load_admin"


@dataclass
class Plan:
    staff: int = 32
    web_workers: int = 4
    timer_workers: int = 2
    seconds: float = 180.0
    pg_mode: str = "restart"  # restart | terminate | none
    # how "restart" restarts the server when it is not the machine's own cluster (the tests' throwaway one)
    pg_restart: Callable[[], None] | None = None
    # when each failure strikes, as a fraction of the staff's working time
    kill_web_at: float = 0.25
    kill_timer_at: float = 0.45
    pg_at: float = 0.65
    server: str = PG_SERVER
    database: str = field(default_factory=lambda: f"load_failures_{os.getpid()}")


@dataclass
class Outcome:
    problems: list[str]
    figures: dict[str, object]
    table: str

    @property
    def ok(self) -> bool:
        return not self.problems


def people(n: int) -> dict[str, list[str]]:
    """n staff: 3/8 sales reps (they start instances), 1/4 directors, the rest managers; plus an admin."""
    reps = max(1, round(n * 3 / 8))
    directors = max(1, n // 4)
    managers = max(1, n - reps - directors)
    team = {f"rep{i + 1}": ["sales_rep"] for i in range(reps)}
    team |= {f"mgr{i + 1}": ["sales_manager"] for i in range(managers)}
    team |= {f"dir{i + 1}": ["sales_director"] for i in range(directors)}
    return team


class Failures:
    """Inflicts each failure once, when its time has come (called from run_staff's ticks)."""

    def __init__(self, cluster: Cluster, plan: Plan) -> None:
        self.cluster, self.plan = cluster, plan
        self.done: dict[str, str] = {}
        self.next_sample, self.max_connections = 0.0, 0
        self.started = time.monotonic()
        self.schedule = [(plan.kill_web_at * plan.seconds, "web", self.kill_web),
                         (plan.kill_timer_at * plan.seconds, "timer", self.kill_timer)]
        if plan.pg_mode != "none":
            self.schedule.append((plan.pg_at * plan.seconds, "postgres", self.postgres))

    def __call__(self, elapsed: float) -> None:
        if elapsed >= self.next_sample:  # the pool sizing in docs/deployment.md rests on this figure
            self.next_sample = elapsed + 1.0
            self.max_connections = max(self.max_connections, self.cluster.connections() or 0)
        for at, name, action in self.schedule:
            if name not in self.done and elapsed >= at:
                self.done[name] = f"at {elapsed:.1f} s: {action()}"

    def kill_web(self) -> str:
        pid, busy = self.cluster.kill_web_worker()
        return f"gunicorn worker {pid} ({'running' if busy else 'idle'}) SIGKILLed, replaced by the master"

    def kill_timer(self) -> str:
        pid, busy = self.cluster.kill_timer_worker()
        return f"timer worker {pid} ({'running' if busy else 'idle'}) SIGKILLed, a new one started"

    def postgres(self) -> str:
        took = self.cluster.restart_postgres(self.plan.pg_mode, self.plan.pg_restart)
        return f"PostgreSQL {self.plan.pg_mode} took {took:.1f} s"


def run(plan: Plan, log=print) -> Outcome:  # noqa: ANN001
    team = people(plan.staff)
    ledger = Ledger()
    with fresh_database(plan.database, plan.server) as url, \
            Cluster(url, web_workers=plan.web_workers, timer_workers=plan.timer_workers) as cluster:
        log(f"setting up {url} (logs in {cluster.logs})")
        cluster.setup([PROCESSES / "load_approval.bpmn", PROCESSES / "load_poison.bpmn", FORMS],
                      team | {ADMIN: ["admin"]})
        poisoned = start_poisoned(url, next(iter(team)))
        cluster.start()
        log(f"cluster ready on {cluster.base_url}; {plan.staff} staff working for {plan.seconds:.0f} s")
        # directors take up to 2 s to read a request: some approvals wait past the 3 s reminder timer
        staff = [Staff(name, PASSWORD, Client(cluster.base_url, ledger), ledger,
                       process="load_approval" if roles == ["sales_rep"] else None,
                       think=2.0 if roles == ["sales_director"] else 0.0)
                 for name, roles in team.items()]
        failures = Failures(cluster, plan)
        started = failures.started = time.monotonic()
        run_staff(staff, plan.seconds, failures)
        worked = time.monotonic() - started
        web_after = len(cluster.web_worker_pids())
        cluster.stop()
        log("staff stopped, cluster stopped; checking the database")
        from engine import Engine

        eng = Engine(url)
        try:
            checked = check_database(eng, ledger.acks)
            driven = drive_to_end(eng, ADMIN, skip={poisoned})
            isolated = check_poisoned(eng, poisoned, ADMIN)
            for problem in rollup_problems(eng):  # and after every instance was driven to its end
                isolated.add(f"after driving to the end: {problem}")
        finally:
            eng.db.dispose()
        started_verify = time.monotonic()
        done = cluster.run_salesflow("audit", "verify", "--quiet", timeout=1800)
        verify_seconds = time.monotonic() - started_verify
    verify = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    problems = checked.problems + driven.problems + isolated.problems + [f"staff: {e}" for e in ledger.errors]
    if done.returncode != 0:
        problems.append(f"salesflow audit verify exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    missing = [name for _, name, _ in failures.schedule if name not in failures.done]
    problems += [f"failure {name} was never inflicted" for name in missing]
    if web_after < plan.web_workers:
        problems.append(f"only {web_after} of {plan.web_workers} web workers were running at the end")
    figures = summarize(plan, ledger, checked.figures, driven.figures | isolated.figures, failures, worked, verify,
                        verify_seconds)
    table = summary_table(f"load and failure test ({machine()})", figures)
    print(table, flush=True)
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems[:50]) + f"\nprocess logs kept in {cluster.logs}", flush=True)
    else:
        shutil.rmtree(cluster.logs, ignore_errors=True)
    return Outcome(problems, figures, table)


def summary_table(title: str, figures: dict[str, object]) -> str:
    width = max(len(k) for k in figures)
    return "\n".join([title, "-" * len(title)] + [f"{k.ljust(width)}  {v}" for k, v in figures.items()])


def moments(seconds: list[float]) -> str:
    """Failed attempts grouped into bursts: "6.1 s (1), 18.2-19.4 s (7)" shows they all fell on a failure."""
    bursts: list[list[float]] = []
    for t in sorted(seconds):
        if bursts and t - bursts[-1][-1] < 1.0:
            bursts[-1].append(t)
        else:
            bursts.append([t])
    return ", ".join(f"{b[0]:.1f}{f'-{b[-1]:.1f}' if len(b) > 1 else ''} s ({len(b)})" for b in bursts) or "none"


def summarize(plan: Plan, ledger: Ledger, checked: dict, driven: dict, failures: Failures, worked: float,
              verify: str, verify_seconds: float) -> dict[str, object]:
    c = ledger.counts
    latencies = ledger.latencies.get("complete", [])
    figures: dict[str, object] = {
        "staff / web workers / timer workers": f"{plan.staff} / {plan.web_workers} / {plan.timer_workers}",
        "staff working time (s)": round(worked, 1),
        "commands acknowledged (start/claim/complete)":
            f"{c['ack_start']} / {c['ack_claim']} / {c['ack_complete']}",
        "completions per second": round(c["ack_complete"] / worked, 2) if worked else 0.0,
        "completion p50 / p95 (ms)": (f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 95) * 1000:.0f}"
                                      if latencies else "-"),
        "database connections (most seen at once)": failures.max_connections,
        "retries (connection errors + 5xx)": c["retries"],
        "failed attempts, seconds into the run": moments([t - failures.started for t in ledger.retry_times]),
        "5xx answers": sum(n for k, n in c.items() if k.startswith("http_5")),
        "connection errors": sum(n for k, n in c.items() if k.startswith("conn_")),
        "409 on claim / complete": f"{c['conflict_claim']} / {c['conflict_complete']}",
        "completions whose answer was lost (ours on re-read)": c["ambiguous_complete"],
        "starts retried (a duplicate instance possible)": c["start_retried"],
    }
    for name, what in failures.done.items():
        figures[f"failure: {name}"] = what
    figures |= {
        "timers fired (each at most once)": checked.get("timers_fired", 0),
        "reminder tasks created by timers": checked.get("reminders", 0),
        "instances": checked.get("instances", 0),
        "instances finished by the staff": (checked.get("instances", 0) - driven.get("instances_left_running", 0)
                                            - driven.get("poisoned", 0)),
        "instances finished afterwards via Engine": driven.get("instances_left_running", 0),
        "instances completed / not":
            f"{driven.get('instances_completed', 0)} / {driven.get('instances_not_completed', 0)}",
        "healthy instances whose timers did not each fire exactly once": driven.get("timers_not_once", 0),
        "poisoned instance: failed timer attempts, then": (f"{driven.get('poisoned_attempts', 0)}, "
                                                           f"{driven.get('poisoned_outcome', '?')}"),
        "lost acknowledged commands / double completions": checked.get("problems", 0) + driven.get("problems", 0),
        "audit verify": f"{verify} ({verify_seconds:.1f} s)",
    }
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--staff", type=int, default=32)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--timer-workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the staff work")
    parser.add_argument("--pg", choices=["restart", "terminate", "none"], default="restart",
                        help="restart the PostgreSQL server (default), only cut this run's connections, or neither")
    args = parser.parse_args(argv)
    outcome = run(Plan(staff=args.staff, web_workers=args.web_workers, timer_workers=args.timer_workers,
                       seconds=args.seconds, pg_mode=args.pg))
    print("PASSED: no acknowledged command lost, no task completed twice, every trail verified, every "
          "instance finished" if outcome.ok else f"FAILED: {len(outcome.problems)} problem(s)")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
