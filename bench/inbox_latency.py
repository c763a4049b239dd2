"""Benchmark 3: inbox query latency with 10,000,000 task rows of which 1,000,000 are open.

The rows are bulk-loaded (not run through the engine, bench/bulk.py: COPY or big executemany
batches, the secondary indexes created after the load): one running instance per open task, each
with the tasks it already went through (completed, a few cancelled; a fifth with a deadline, a few
missed) and one open task, spread over every work role and four processes (the complaint and
after-sales steps the KPI figures measure are named as in the diagrams, an after-sales resolution, the
customers' satisfaction scores of most resolved cases (`_score_events`) and 1 % of escalations leave their audit
events, for bench/read_scale.py and the KPI page); a quarter of the open
tasks are claimed by a person, a tenth wait for the requester, and many carry separation-of-duties
tokens (`initiator`, or an earlier task that one of the role's holders completed, so that person
must not see it).

Every done task takes 30 minutes, except the end tasks the KPI times measure (first response and resolution,
KPI_STEPS): their completion times are spread as service times are (`service_hours`, drawn from their own
generator seeded from `seed`, so every other row is what it was). A first response comes within a working day for
most cases (a lognormal with a median of 2 h) and the next working day for a fifth (a lognormal with a median of
16 h: some 4 % of all cases pass the 24-hour target); the resolution follows it after a lognormal with a median of
14 h (some 8 % pass the 48-hour target). Real figures are spread like this, with a long tail and no two cases
alike: data that give every case the same hours (as this loader once did) make the median and p90 look cheaper to
find than they are (engine/kpi/quantiles.py). A completion that would fall after the clock's `now` (a case
registered in the last days) is moved just before it. Then Engine.inbox(user) is timed for
people of different roles: the first page (`--page` rows, what the inbox page and a client show
first) and, for reference, the whole list.

    .venv/bin/python -m bench.inbox_latency --db both --tasks 10000000 --open 1000000

Target (issue 17, target 6): p95 of the first page <= 5 ms on both databases.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bench import bulk
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
from bench.verdicts import verdict
from engine import Engine
from engine.audit.chain import instance_chain
from engine.clock import ManualClock, iso
from engine.kpi import case_rows, definitions, rollups, score_rows
from engine.runtime import customer_names, sla
from engine.store.models import AuditEvent, ProcessVersion

PAGE_TARGET = 0.005  # s, p95 of the first page (issue 17, target 6)
BATCH = 100_000  # task rows per transaction
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
KEYS = ("quotation", "order_review", "complaint", "aftersale")  # in turn
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


TASK_COLUMNS = ("id", "instance_id", "process_key", "bpmn_id", "title", "title_en", "role", "form_key", "assignee",
                "status", "created_at", "due_at", "completed_by", "completed_at", "sod")
INSTANCE_COLUMNS = ("id", "process_version_id", "process_key", "business_key", "status", "started_by", "started_at",
                    "ended_at", "state_json", "serializer_version", "data_json", "customer_name", "outcome", "rev")
EVENT_COLUMNS = ("id", "chain", "position", "instance_id", "at", "actor", "kind", "task", "payload", "prev_hash",
                 "hash")
# earlier steps that the KPI figures measure (engine/kpi/kpi.yaml): step number -> BPMN id, per process
KPI_STEPS = {"complaint": {1: "take_quality_by_manager", 4: "implement_solution"},
             "aftersale": {1: "first_response", 4: "resolve"}}
RESPONSE_STEP, RESOLUTION_STEP = 1, 4  # the KPI_STEPS that end the first response and the resolution
# the customers: a company of this size has some tens of thousands, each named as Chinese companies are (a
# city, a two-character name, a trade, the legal form), a few with many instances, most with few
CUSTOMERS = 30_000
CITIES = ("上海", "北京", "合肥", "芜湖", "南京", "苏州", "杭州", "宁波", "武汉", "长沙", "广州", "深圳",
          "成都", "重庆", "西安", "郑州", "济南", "青岛", "天津", "沈阳", "大连", "福州", "厦门", "南昌",
          "昆明", "贵阳", "太原", "石家庄", "哈尔滨", "长春")
FIRST = "海华中东金新宏安泰恒兴盛达天信立永隆正德鑫龙光明远瑞丰鸿宝佳嘉汇通国富联"
SECOND = "螺通达源峰祥业发盛丰泰和昌旺隆润创科星辉阳诚宇航力威建鼎晟杰腾飞翔"
TRADES = ("建材", "水泥", "贸易", "机械", "电子", "化工", "钢铁", "物流", "医药",
          "食品", "纺织", "汽车配件", "建筑工程", "科技", "新能源", "环保设备", "家具", "包装材料")
FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司", "实业有限公司")
SPACING = timedelta(seconds=30)  # one new instance every 30 s: 1,000,000 of them span about a year
ESCALATED = 0.01  # instances whose boundary SLA timer fired (an `escalated` event)
# the after-sales satisfaction scores (kpi.yaml `satisfaction`): the share of resolved cases the customer scored,
# the share of those visited again a week later (a second score), and how the scores 1..5 are spread
SCORED, REVISITED = 0.6, 0.3
SCORES, SCORE_WEIGHTS = (1, 2, 3, 4, 5), (3, 5, 15, 40, 37)


def now_after(open_count: int) -> datetime:
    """The benchmark's clock: a day after the last instance was registered."""
    return T0 + SPACING * open_count + timedelta(days=1)


def customers(seed: int = 1) -> tuple[list[str], list[float]]:
    """CUSTOMERS distinct names and the cumulative weights to draw an instance's customer by (the k-th
    customer's share falls as 1 / k ** 0.6: at 1,000,000 instances the busiest has some 6,000, the median
    one some 20)."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < CUSTOMERS:
        name = rng.choice(CITIES) + rng.choice(FIRST) + rng.choice(SECOND) + rng.choice(TRADES) + rng.choice(FORMS)
        names[name] = None
    cum, sum_ = [], 0.0
    for k in range(1, CUSTOMERS + 1):
        sum_ += k ** -0.6
        cum.append(sum_)
    return list(names), cum


def service_hours(rng: random.Random) -> tuple[float, float]:
    """Hours from a case's registration to its first response and to its resolution (the module's docstring
    says why so): the response within the working day (four in five) or the next one, the resolution after it."""
    median, sigma = (2, 1.0) if rng.random() < 0.8 else (16, 0.45)
    response = rng.lognormvariate(math.log(median), sigma)
    return response, response + rng.lognormvariate(math.log(14), 0.8)


def load(eng: Engine, total: int, open_count: int, seed: int = 1) -> dict:
    """Bulk-insert `open_count` running instances and `total` task rows (one open task per instance, the
    rest done), with the audit events the SLA search and the KPI figures read; returns counts."""
    rng = random.Random(seed)
    service = random.Random(f"service {seed}")  # the KPI end tasks' completion times, apart from everything else
    scoring = random.Random(f"scores {seed}")  # the satisfaction scores, apart from everything else too
    people = _people()
    for name, roles in people.items():
        eng.add_user(name, roles, PASSWORD)
    eng.add_user("auditor_0", ["auditor"], PASSWORD)
    holders: dict[str, list[str]] = {}
    for name, roles in people.items():
        for role in roles:
            holders.setdefault(role, []).append(name)
    reps = holders["sales_rep"]
    roles = list(ROLE_WEIGHTS)
    weights = list(ROLE_WEIGHTS.values())
    with eng.db.read() as s:
        version_id = s.scalar(select(ProcessVersion.id))
        first_event = s.scalar(select(func.max(AuditEvent.id))) or 0  # the deployment's come first
    now = now_after(open_count)
    when = bulk.stamp(eng)
    per_instance = max(total // open_count, 1)
    extra = total - per_instance * open_count  # the first instances get one task more
    instances: list[tuple] = []
    tasks: list[tuple] = []
    events: list[tuple] = []
    stats = {"instances": 0, "tasks": 0, "open": 0, "completed": 0, "events": 0, "first_event": first_event}
    started = time.perf_counter()
    step = max(open_count // 10, 1)
    names, shares = customers(seed)
    with (bulk.without_triggers(eng, ("instance", "task")),
          bulk.without_indexes(eng, ("instance", "task", "audit_event"))):
        for i in range(open_count):
            iid = i + 1
            key = KEYS[i % len(KEYS)]
            started_by = rng.choice(reps)
            at = T0 + SPACING * i
            customer = rng.choices(names, cum_weights=shares)[0]
            data = {"customer_name": customer, "amount_yuan": rng.randrange(1000, 500000),
                    "region": rng.choice("ABCD"), "contact": f"联系人{i}", "phone": f"138{i:08d}",
                    "notes": "常规订单" * 5}
            instances.append((iid, version_id, key, f"BK-{iid}", "running", started_by, when(at), None, "{}", "bench",
                              json.dumps(data, ensure_ascii=False), customer, None, 1))
            done_by: dict[str, str] = {}
            count = per_instance + (1 if i < extra else 0)
            named = KPI_STEPS.get(key, {})
            ends = {}  # step -> when it is done (a KPI end task), else done after 30 minutes
            if named:
                last = now - timedelta(minutes=1)  # before the clock, and each case's hours its own
                response, resolution = service_hours(service)
                ends = {RESPONSE_STEP: min(at + timedelta(hours=response), last),
                        RESOLUTION_STEP: min(at + timedelta(hours=resolution), last)}
            for j in range(count - 1):  # the tasks this instance already went through
                role = rng.choices(roles, weights)[0]
                who = rng.choice(holders[role])
                bpmn_id = named.get(j, f"step_{j}")
                done_by[bpmn_id] = who
                created = at + timedelta(minutes=j)
                finished = max(ends.get(j, created + timedelta(minutes=30)), created + timedelta(seconds=1))
                due = None
                if rng.random() < 0.2:  # a fifth have a deadline; one in twenty of those was missed
                    due = finished + (timedelta(minutes=-10) if rng.random() < 0.05 else timedelta(hours=8))
                if rng.random() < 0.03:
                    tasks.append(_task(stats, iid, key, bpmn_id, role, who, when(created), "cancelled", None, None,
                                       when(due)))
                    continue
                tasks.append(_task(stats, iid, key, bpmn_id, role, who, when(created), "completed", who,
                                   when(finished), when(due)))
                if bpmn_id == "resolve":  # the after-sales resolution measure reads the data it was completed with
                    tid = tasks[-1][0]
                    events.append(_event(stats, iid, 1, finished, who, "completed", bpmn_id,
                                         {"task_id": tid, "data": {"outcome": "resolved"}}))
                    events.extend(_score_events(stats, scoring, iid, finished, now))
            tasks.append(_open_task(stats, rng, iid, key, started_by, holders, roles, weights, done_by,
                                    at + timedelta(minutes=count), now, when))
            if rng.random() < ESCALATED:
                events.append(_event(stats, iid, 2, at + timedelta(days=1), "system", "escalated", "review", {}))
            if len(tasks) >= BATCH:
                _flush(eng, instances, tasks, events, stats)
            if (i + 1) % step == 0:
                bulk.progress("instances", i + 1, open_count, started)
        _flush(eng, instances, tasks, events, stats)
    with eng.db.write() as s:  # the distinct names, as migration 0017 fills them (then the steps)
        s.execute(text(customer_names.FILL))
    filling = time.perf_counter()
    with eng.db.write() as s:  # when each instance counts as SLA-breached, as migration 0019 fills it (then steps)
        s.execute(text(sla.fill_sql(eng.db.is_sqlite)))
    print(f"  SLA columns filled ({time.perf_counter() - filling:.1f} s)", flush=True)
    filling = time.perf_counter()
    # the KPI page's decided cases, as migration 0023 fills them (then the steps); their counts per day and per hour
    # bucket are counted below with the other rollups, in one statement each, not by a trigger call per row
    with bulk.without_triggers(eng, ("kpi_case",)), eng.db.write() as s:
        cases = case_rows.rebuild(s)
    print(f"  KPI case rows filled: {cases:,} ({time.perf_counter() - filling:.1f} s)", flush=True)
    filling = time.perf_counter()
    # the counted satisfaction scores, as migration 0032 fills them (then the steps); counted per day below
    with bulk.without_triggers(eng, ("kpi_score",)), eng.db.write() as s:
        stats["scores"] = score_rows.rebuild(s)
    print(f"  KPI score rows filled: {stats['scores']:,} ({time.perf_counter() - filling:.1f} s)", flush=True)
    filling = time.perf_counter()
    # the KPI page's counts per day, as migrations 0025-0027 count them (then the triggers); the open cases' rows
    # written without their per-row day count (rollups.rebuild counts them after, in one statement)
    with bulk.without_triggers(eng, ("kpi_open_case",)), eng.db.write() as s:
        counted = rollups.rebuild(s, definitions.load().timezone)  # with the month tables and the hour buckets
    stats["rollup_hours"] = counted.get("kpi_hours_month", 0)
    stats["rollup_completed"], stats["rollup_registered"] = counted["kpi_completed_day"], counted["kpi_registered_day"]
    stats["rollup_cases"], stats["rollup_open"] = counted.get("kpi_case_day", 0), counted.get("kpi_open_day", 0)
    print(f"  KPI rollups counted ({time.perf_counter() - filling:.1f} s): {stats['rollup_completed']:,} completed "
          f"tasks ({stats['completed']:,} loaded), {stats['rollup_registered']:,} instances "
          f"({stats['instances']:,} loaded), {stats['rollup_cases']:,} decided cases ({cases:,} rows), "
          f"{stats['rollup_open']:,} open cases, {stats['rollup_hours']:,} done cases in hour buckets", flush=True)
    bulk.settle(eng)
    return stats


def _task(stats: dict, iid: int, key: str, bpmn_id: str, role: str, assignee: str | None, at: object, status: str,
          completed_by: str | None, completed_at: object, due: object, sod: str = "") -> tuple:
    """A task row in TASK_COLUMNS order. Ids are sequential (SpiffWorkflow's are random uuids): the primary
    key then grows at its end, which keeps loading ten million rows quick; no query reads them in order."""
    stats["tasks"] += 1
    stats["completed"] += status == "completed"
    return (f"00000000-0000-4000-8000-{stats['tasks']:012x}", iid, key, bpmn_id, f"任务 {bpmn_id}", f"Task {bpmn_id}",
            role, None, assignee, status, at, due, completed_by, completed_at, sod)


def _event(stats: dict, iid: int, position: int, at: datetime, actor: str, kind: str, task: str,
           payload: dict) -> tuple:
    stats["events"] += 1
    return (stats["first_event"] + stats["events"], instance_chain(iid), position, iid, iso(at), actor, kind, task,
            json.dumps(payload), "0" * 64, "0" * 64)


def _score_events(stats: dict, rng: random.Random, iid: int, resolved: datetime, now: datetime) -> list[tuple]:
    """The satisfaction scores of a resolved after-sales case, as the steps record them (a `completed` event whose
    data carry the form's fields): the customer's confirmation for SCORED of them, a few hours to two days after the
    resolution, and for REVISITED of those a return visit's score a week later (the case's latest: it replaces the
    first); none that would fall after the clock's `now`."""
    found = []
    confirmed = resolved + timedelta(hours=rng.lognormvariate(math.log(6), 0.9))
    if rng.random() >= SCORED or confirmed >= now:
        return found
    score = rng.choices(SCORES, SCORE_WEIGHTS)[0]
    data = {"resolution_confirmed": True, "satisfaction": score, "confirmation_note": "客户确认已修复"}
    found.append(_event(stats, iid, 3, confirmed, "customer_service_0", "completed", "confirm_resolution",
                        {"task_id": f"confirm-{iid}", "data": data, "changes": {"satisfaction": [None, score]}}))
    visited = confirmed + timedelta(days=7, hours=rng.uniform(1, 30))
    if rng.random() < REVISITED and visited < now:
        again = rng.choices(SCORES, SCORE_WEIGHTS)[0]
        data = {"satisfaction": again, "usage_feedback": "设备运行正常"}
        found.append(_event(stats, iid, 4, visited, "customer_service_1", "completed", "return_visit",
                            {"task_id": f"visit-{iid}", "data": data, "changes": {"satisfaction": [score, again]}}))
    return found


def _open_task(stats: dict, rng: random.Random, iid: int, key: str, started_by: str, holders: dict, roles: list,
               weights: list, done_by: dict, at: datetime, now: datetime, when) -> tuple:  # noqa: ANN001
    due = None
    if rng.random() < 0.6:  # most have a deadline; one in twenty is past it
        due = now - timedelta(hours=rng.randrange(1, 48)) if rng.random() < 0.05 else at + timedelta(days=400)
    stats["open"] += 1
    if rng.random() < 0.1:  # back to the requester
        return _task(stats, iid, key, "confirm", "initiator", started_by, when(at), "ready", None, None, when(due))
    role = rng.choices(roles, weights)[0]
    assignee = rng.choice(holders[role]) if rng.random() < 0.25 else None
    sod = ""
    if rng.random() < 0.4:
        sod = "initiator"
        if done_by and rng.random() < 0.5:  # someone of this role did an earlier step: not them again
            earlier = rng.choice(sorted(done_by))
            sod = f"initiator {earlier}"
    return _task(stats, iid, key, "review", role, assignee, when(at), "ready", None, None, when(due), sod)


def _flush(eng: Engine, instances: list, tasks: list, events: list, stats: dict) -> None:
    bulk.insert(eng, "instance", INSTANCE_COLUMNS, instances)
    bulk.insert(eng, "task", TASK_COLUMNS, tasks)
    bulk.insert(eng, "audit_event", EVENT_COLUMNS, events)
    stats["instances"] += len(instances)
    instances.clear()
    tasks.clear()
    events.clear()


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
    clock = ManualClock(now_after(open_count))
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
    parser.add_argument("--tasks", type=int, default=10_000_000, help="task rows in all (default 10000000)")
    parser.add_argument("--open", type=int, default=1_000_000, help="open (ready) tasks (default 1000000)")
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
    print_table(f"Engine.inbox(user) latency in ms (first page of {args.page}; target p95 <= 5 ms) "
                "and the whole list for reference",
                ["db", "person", "visible", "page p50", "page p95", "target", "whole p50", "whole p95"],
                [[r["db"], r["who"], r["visible"], 1000 * r["p50"], 1000 * r["p95"],
                  verdict("17.6", f"{r['db']}: Engine.inbox first page as {r['who']} p95 <= {1000 * PAGE_TARGET:g} ms",
                          f"{1000 * r['p95']:.1f} ms", r["p95"] <= PAGE_TARGET),
                  1000 * r["full_p50"], 1000 * r["full_p95"]]
                 for r in results])
    return results


if __name__ == "__main__":
    main()
