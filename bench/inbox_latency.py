"""Benchmark 3: inbox query latency with 1,000,000 task rows of which 100,000 are open.

The rows are bulk-loaded (not run through the engine): one instance per open task, each with the
tasks it already went through (completed, a few cancelled) and one open task, spread over every
work role; a quarter of the open tasks are claimed by a person, a tenth wait for the requester,
and many carry separation-of-duties tokens (`initiator`, or an earlier task that one of the
role's holders completed, so that person must not see it). Then Engine.inbox(user) is timed for
people of different roles: the first page (`--page` rows, what the inbox page and a client show
first) and, for reference, the whole list.

    .venv/bin/python -m bench.inbox_latency --db both --tasks 1000000 --open 100000

Target: p95 of the first page <= 10 ms on both databases.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from bench.common import (
    PASSWORD,
    add_db_argument,
    db_choices,
    deploy,
    engine_on,
    machine,
    percentile,
    print_table,
)
from engine import Engine
from engine.clock import ManualClock
from engine.store.models import Instance, ProcessVersion, Task

BATCH = 20_000
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
KEYS = ("quotation", "order_review", "complaint", "aftersale")
# open pool tasks per role, relative (the sales floor is busier than the office)
ROLE_WEIGHTS = {"sales_rep": 6, "sales_manager": 8, "sales_director": 4, "sales_assistant": 3, "order_clerk": 4,
                "dispatcher": 3, "sales_vp": 1, "general_manager": 1, "division_leader": 1, "quality": 3,
                "production": 2, "technical": 2, "purchasing": 1, "finance": 4, "audit_dept": 1, "headquarters": 1,
                "office": 1, "customer_service": 4, "aftersales_engineer": 3}
USERS_PER_ROLE = 5
# the people whose inbox is timed: (label, username)
PROBES = (("sales manager", "sales_manager_0"), ("sales rep (+ own requests)", "sales_rep_0"),
          ("finance", "finance_0"), ("customer service", "customer_service_0"),
          ("manager + director", "boss_0"), ("headquarters (rare role)", "headquarters_0"))


def _people() -> dict[str, list[str]]:
    people = {f"{role}_{k}": [role] for role in ROLE_WEIGHTS for k in range(USERS_PER_ROLE)}
    people["boss_0"] = ["sales_manager", "sales_director"]
    return people


def load(eng: Engine, total: int, open_count: int, seed: int = 1) -> dict:
    """Bulk-insert `open_count` instances and `total` task rows; returns counts for the table."""
    rng = random.Random(seed)
    people = _people()
    for name, roles in people.items():
        eng.add_user(name, roles, PASSWORD)
    holders: dict[str, list[str]] = {}
    for name, roles in people.items():
        for role in roles:
            holders.setdefault(role, []).append(name)
    reps = holders["sales_rep"]
    roles = list(ROLE_WEIGHTS)
    weights = list(ROLE_WEIGHTS.values())
    with eng.db.read() as s:
        version_id = s.scalar(select(ProcessVersion.id))
    per_instance = max(total // open_count, 1)
    instances: list[dict] = []
    tasks: list[dict] = []
    stats = {"instances": 0, "tasks": 0, "open": 0}
    for i in range(open_count):
        iid = i + 1
        started_by = rng.choice(reps)
        at = T0 + timedelta(minutes=5 * i / 10)  # ~10 new instances every 5 minutes
        customer = f"客户{rng.randrange(5000)}"
        data = {"customer_name": customer, "amount_yuan": rng.randrange(1000, 500000), "region": rng.choice("ABCD"),
                "contact": f"联系人{i}", "phone": f"138{i:08d}", "notes": "常规订单" * 5}
        instances.append({"id": iid, "process_version_id": version_id, "process_key": rng.choice(KEYS),
                          "business_key": f"BK-{iid}", "status": "running", "started_by": started_by,
                          "started_at": at, "state_json": "{}", "serializer_version": "bench",
                          "data_json": json.dumps(data, ensure_ascii=False), "customer_name": customer, "rev": 1})
        done_by: dict[str, str] = {}
        count = per_instance + (1 if i < total - per_instance * open_count else 0)
        for j in range(count - 1):  # the tasks this instance already went through
            role = rng.choices(roles, weights)[0]
            who = rng.choice(holders[role])
            bpmn_id = f"step_{j}"
            done_by[bpmn_id] = who
            cancelled = rng.random() < 0.03
            tasks.append(_task(iid, instances[-1]["process_key"], bpmn_id, role, who, at + timedelta(minutes=j),
                               "cancelled" if cancelled else "completed", None if cancelled else who))
        tasks.append(_open_task(rng, iid, instances[-1]["process_key"], started_by, holders, roles, weights,
                                done_by, at + timedelta(minutes=count)))
        if len(tasks) >= BATCH:
            _flush(eng, instances, tasks, stats)
    _flush(eng, instances, tasks, stats)
    _analyze(eng)
    return stats


def _task(iid: int, key: str, bpmn_id: str, role: str, assignee: str | None, at: datetime, status: str,
          completed_by: str | None, sod: str = "", due: datetime | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "instance_id": iid, "process_key": key, "bpmn_id": bpmn_id,
            "title": f"任务 {bpmn_id}", "title_en": f"Task {bpmn_id}", "role": role, "form_key": None,
            "assignee": assignee, "status": status, "created_at": at, "due_at": due,
            "completed_by": completed_by, "completed_at": at + timedelta(minutes=30) if completed_by else None,
            "sod": sod}


def _open_task(rng: random.Random, iid: int, key: str, started_by: str, holders: dict, roles: list, weights: list,
               done_by: dict, at: datetime) -> dict:
    due = at + timedelta(hours=24) if rng.random() < 0.6 else None
    if rng.random() < 0.1:  # back to the requester
        return _task(iid, key, "confirm", "initiator", started_by, at, "ready", None, due=due)
    role = rng.choices(roles, weights)[0]
    assignee = rng.choice(holders[role]) if rng.random() < 0.25 else None
    sod = ""
    if rng.random() < 0.4:
        sod = "initiator"
        if done_by and rng.random() < 0.5:  # someone of this role did an earlier step: not them again
            earlier = rng.choice(sorted(done_by))
            sod = f"initiator {earlier}"
    return _task(iid, key, "review", role, assignee, at, "ready", None, sod, due)


def _flush(eng: Engine, instances: list, tasks: list, stats: dict) -> None:
    with eng.db.write() as s:
        if instances:
            s.execute(insert(Instance.__table__), instances)
        if tasks:
            s.execute(insert(Task.__table__), tasks)
    stats["instances"] += len(instances)
    stats["tasks"] += len(tasks)
    stats["open"] += sum(1 for t in tasks if t["status"] == "ready")
    instances.clear()
    tasks.clear()


def _analyze(eng: Engine) -> None:
    """PostgreSQL's autovacuum would have analysed tables this size; SQLite gets `PRAGMA optimize`,
    which an application may run on close (we measure what the query plan is without forcing it)."""
    with eng.db.write() as s:
        s.execute(text("ANALYZE" if not eng.db.is_sqlite else "PRAGMA optimize"))


def time_inbox(eng: Engine, username: str, calls: int, limit: int | None) -> tuple[list[float], int]:
    times = []
    found = 0
    for _ in range(calls):
        start = time.perf_counter()
        rows = eng.inbox(username, limit=limit) if limit is not None else eng.inbox(username)
        times.append(time.perf_counter() - start)
        found = len(rows)
    return times, found


def measure(kind: str, total: int, open_count: int, calls: int, full_calls: int, page: int) -> list[dict]:
    clock = ManualClock(T0 + timedelta(days=7))
    with engine_on(kind, "inbox", clock=clock) as eng:
        deploy(eng, "approval5.bpmn")  # a process version for the instances to point at
        start = time.perf_counter()
        stats = load(eng, total, open_count)
        loaded = time.perf_counter() - start
        print(f"{kind}: loaded {stats['tasks']:,} tasks ({stats['open']:,} open) and {stats['instances']:,} "
              f"instances in {loaded:.0f} s", flush=True)
        results = []
        for label, user in PROBES:
            time_inbox(eng, user, 3, page)  # warm the caches
            page_times, shown = time_inbox(eng, user, calls, page)
            full_times, visible = time_inbox(eng, user, full_calls, None)
            results.append({"db": kind, "who": label, "visible": visible, "shown": shown,
                            "p50": percentile(page_times, 50), "p95": percentile(page_times, 95),
                            "full_p50": percentile(full_times, 50), "full_p95": percentile(full_times, 95)})
        return results


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser)
    parser.add_argument("--tasks", type=int, default=1_000_000, help="task rows in all (default 1000000)")
    parser.add_argument("--open", type=int, default=100_000, help="open (ready) tasks (default 100000)")
    parser.add_argument("--calls", type=int, default=200, help="timed first-page calls per person (default 200)")
    parser.add_argument("--full-calls", type=int, default=20, help="timed whole-list calls per person (default 20)")
    parser.add_argument("--page", type=int, default=50, help="first page size (default 50)")
    args = parser.parse_args(argv)
    if not 0 < args.open <= args.tasks:
        parser.error("--open must be between 1 and --tasks")
    print(f"inbox latency: {args.tasks:,} task rows, {args.open:,} open; {machine()}\n", flush=True)
    results = []
    for kind in db_choices(args.db):
        results += measure(kind, args.tasks, args.open, args.calls, args.full_calls, args.page)
    print_table(f"Engine.inbox(user) latency in ms (first page of {args.page}; target p95 <= 10 ms) "
                "and the whole list for reference",
                ["db", "person", "visible", "page p50", "page p95", "target", "whole p50", "whole p95"],
                [[r["db"], r["who"], r["visible"], 1000 * r["p50"], 1000 * r["p95"],
                  "met" if r["p95"] <= 0.010 else "MISSED", 1000 * r["full_p50"], 1000 * r["full_p95"]]
                 for r in results])
    return results


if __name__ == "__main__":
    main()
