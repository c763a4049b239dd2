"""What must hold after a load-and-failure run, read straight from the database.

- every command the staff saw acknowledged (2xx) is there: a started instance with its requester,
  a `claimed` event for a claim, a `completed` event and a completed task row for a completion,
  each with the same task id and user;
- no task completed twice: at most one `completed` event per task id, and the task table agrees;
- no timer fired twice (two timer workers race for every due timer, one is killed on the way);
- the KPI rollups the database triggers keep (engine/kpi/rollups.py) equal a count of the task and instance rows
  (their row locks taken by concurrent commands: none lost, none counted twice), and the decided cases per day
  (engine/kpi/case_days.py) a count of the kpi_case rows, the open cases (engine/kpi/open_cases.py) the rule's;
- every instance can still be loaded and driven to its end through the Engine facade;
- the poisoned instance (its timer's next step always fails) stopped no other timer: each healthy
  completed instance fired its cool-off timer exactly once, the poisoned one's failed attempts were
  counted on its timer row, it never fired, and it can still be cancelled (issue 11).

The audit chains themselves are verified by `salesflow audit verify` (hashes and a replay of
every instance), run by the caller.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.staff import Ack, form_data
from engine import Engine
from engine.kpi import case_days, definitions, open_cases, rollups
from engine.store.models import AuditEvent, Instance, KpiCase, Task, Timer

POISON = "load_poison"  # bench/processes/load_poison.bpmn


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    def add(self, problem: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(problem)
        self.figures["problems"] = self.figures.get("problems", 0) + 1


def _trail(eng: Engine) -> tuple[dict[str, list[str]], set[tuple[str, str]], Counter]:
    """From every instance chain: task id -> actors of its `completed` events, the (task id, actor)
    pairs of `claimed` events, and (instance, timer element) -> times it fired."""
    completed: dict[str, list[str]] = defaultdict(list)
    claimed: set[tuple[str, str]] = set()
    fired: Counter = Counter()
    with eng.db.read() as s:
        rows = s.execute(select(AuditEvent.instance_id, AuditEvent.kind, AuditEvent.actor, AuditEvent.task,
                                AuditEvent.payload)
                         .where(AuditEvent.kind.in_(("completed", "claimed", "timer_fired")),
                                AuditEvent.instance_id.is_not(None)))
        for instance_id, kind, actor, task, payload in rows:
            if kind == "timer_fired":
                fired[(instance_id, task)] += 1
                continue
            task_id = json.loads(payload).get("task_id")
            if kind == "completed":
                completed[task_id].append(actor)
            else:
                claimed.add((task_id, actor))
    return completed, claimed, fired


def rollup_problems(eng: Engine) -> list[str]:
    """The KPI page's counts per company day that the database triggers kept while the workers raced and died
    (engine/kpi/rollups.py) against a count of the task and instance rows, each row's day by zoneinfo."""
    zone, timezone = ZoneInfo(definitions.load().timezone), definitions.load().timezone
    completed: Counter = Counter()
    registered: Counter = Counter()
    with eng.db.read() as s:
        if not rollups.usable(s, timezone):
            return [f"the KPI rollups are not usable for {timezone}"]
        kept = rollups.nonzero_rows(s)
        for at, process, role, person in s.execute(select(Task.completed_at, Task.process_key, Task.role,
                                                          Task.completed_by).where(Task.status == "completed")):
            completed[(at.astimezone(zone).date().isoformat(), process, role, person or "")] += 1
        for at, process, outcome in s.execute(select(Instance.started_at, Instance.process_key, Instance.outcome)):
            registered[(at.astimezone(zone).date().isoformat(), process, outcome or "")] += 1
    problems = []
    for table, counted in (("kpi_completed_day", completed), ("kpi_registered_day", registered)):
        rows = {(*key, n) for key, n in counted.items()}
        for row in sorted(rows ^ kept[table], key=str)[:20]:
            problems.append(f"{table}: {'counted ' if row in rows else 'kept '}{row} differs")
    return problems + case_day_problems(eng)


def case_day_problems(eng: Engine) -> list[str]:
    """The decided cases per company day the kpi_case triggers kept (engine/kpi/case_days.py, migration 0026)
    against a count of the kpi_case rows, each row's day by zoneinfo and `within` by kpi.yaml's targets."""
    defs = definitions.load()
    zone, targets = ZoneInfo(defs.timezone), {m.key: m.target_hours for m in defs.measures}
    counted: Counter = Counter()
    with eng.db.read() as s:
        if not all(case_days.usable(s, m, defs.timezone) for m in defs.measures):
            return [f"the KPI decided-case rollup is not usable for {defs.timezone} and kpi.yaml's targets"]
        kept = case_days.nonzero_rows(s)
        for measure, at, process, role, person, hours, unresolved in s.execute(select(
                KpiCase.measure, KpiCase.started_at, KpiCase.process, KpiCase.role, KpiCase.person, KpiCase.hours,
                KpiCase.unresolved)):
            key = (measure, at.astimezone(zone).date().isoformat(), process, role or "", person or "")
            counted[key] += 0  # the key is there, whatever it counts
            counted[(*key, "done")] += not unresolved
            counted[(*key, "within")] += not unresolved and hours <= targets[measure]
            counted[(*key, "unresolved")] += bool(unresolved)
    rows = {(*key, counted[(*key, "done")], counted[(*key, "within")], counted[(*key, "unresolved")])
            for key in counted if len(key) == 5}
    return [f"kpi_case_day: {'counted ' if row in rows else 'kept '}{row} differs"
            for row in sorted(rows ^ kept, key=str)[:20]] + open_problems(eng)


def open_problems(eng: Engine) -> list[str]:
    """The open cases the triggers kept (engine/kpi/open_cases.py, migration 0027) against the rule computed
    again from the instances, tasks and kpi_case, and their counts per day against a count of them by zoneinfo."""
    defs = definitions.load()
    zone = ZoneInfo(defs.timezone)
    with eng.db.read() as s:
        if not all(open_cases.usable(s, m, defs.timezone) for m in defs.measures):
            return [f"the KPI open-case rollup is not usable for {defs.timezone} and kpi.yaml's end tasks"]
        kept, counted, days = open_cases.kept(s), open_cases.by_rule(s), open_cases.nonzero_rows(s)
    per_day = Counter((m, at.astimezone(zone).date().isoformat(), p, role or "", person or "")
                      for m, _, p, at, role, person in counted)
    counted_days = {(*key, n) for key, n in per_day.items()}
    return [f"{table}: {'counted ' if row in b else 'kept '}{row} differs"
            for table, a, b in (("kpi_open_case", kept, counted), ("kpi_open_day", days, counted_days))
            for row in sorted(a ^ b, key=str)[:20]]


def check_database(eng: Engine, acks: list[Ack]) -> Findings:
    found = Findings()
    completed, claimed, fired = _trail(eng)
    with eng.db.read() as s:
        tasks = {t.id: t for t in s.scalars(select(Task))}
        starters = dict(s.execute(select(Instance.id, Instance.started_by)).all())
    for a in acks:
        if a.kind == "start" and starters.get(a.instance_id) != a.user:
            found.add(f"acknowledged start of instance {a.instance_id} by {a.user} is not in the database")
        elif a.kind == "claim" and (a.task_id, a.user) not in claimed:
            found.add(f"acknowledged claim of task {a.task_id} by {a.user} has no claimed event")
        elif a.kind == "complete":
            row = tasks.get(a.task_id)
            if completed.get(a.task_id) != [a.user]:
                found.add(f"acknowledged completion of task {a.task_id} by {a.user}: completed events "
                          f"{completed.get(a.task_id)}")
            if row is None or row.status != "completed" or row.completed_by != a.user:
                found.add(f"acknowledged completion of task {a.task_id} by {a.user}: task row "
                          f"{None if row is None else (row.status, row.completed_by)}")
    for task_id, actors in completed.items():
        row = tasks.get(task_id)
        if len(actors) > 1:
            found.add(f"task {task_id} completed {len(actors)} times: {actors}")
        if row is None or row.status != "completed" or row.completed_by != actors[0]:
            found.add(f"task {task_id} has a completed event by {actors[0]} but its row says "
                      f"{None if row is None else (row.status, row.completed_by)}")
    for row in tasks.values():
        if row.status == "completed" and row.id not in completed:
            found.add(f"task {row.id} is completed in the task table but has no completed event")
    for (instance_id, timer), times in fired.items():
        if times > 1:
            found.add(f"timer {timer} of instance {instance_id} fired {times} times")
    for problem in rollup_problems(eng):
        found.add(problem)
    found.figures.update({
        "tasks_completed": sum(1 for t in tasks.values() if t.status == "completed"),
        "tasks_open": sum(1 for t in tasks.values() if t.status == "ready"),
        "timers_fired": sum(fired.values()),
        "reminders": sum(1 for t in tasks.values() if t.bpmn_id == "reminder"),
        "instances": len(starters),
    })
    return found


def drive_to_end(eng: Engine, admin: str, seconds: float = 120, skip: set[int] | frozenset = frozenset()) -> Findings:
    """Finish every running instance (but those in `skip`) through the Engine facade: fire due timers,
    complete each open task as its assignee or a holder of its role; report any instance that does not
    reach `completed`."""
    found = Findings()
    with eng.db.read() as s:
        running = set(s.scalars(select(Instance.id).where(Instance.status == "running"))) - set(skip)
    found.figures["instances_left_running"] = len(running)
    holders: dict[str, list[str]] = {}
    commands, deadline = 0, time.monotonic() + seconds
    while running and time.monotonic() < deadline:
        eng.fire_due_timers()
        progressed = False
        for iid in sorted(running):
            view = eng.instance(admin, iid)
            if view["status"] != "running":
                running.discard(iid)
                if view["status"] != "completed":
                    found.add(f"instance {iid} ended as {view['status']}")
                continue
            for task in view["tasks"]:
                actor = task["assignee"] or holders.setdefault(task["role"], eng.role_holders(task["role"]))[0]
                eng.complete(actor, task["id"], form_data(task))
                commands += 1
                progressed = True
        if not progressed:
            time.sleep(0.25)  # waiting on a timer (1-3 s in bench/processes)
    for iid in sorted(running):
        found.add(f"instance {iid} could not be finished within {seconds}s")
    with eng.db.read() as s:
        statuses = Counter(s.scalars(select(Instance.status).where(Instance.id.not_in(skip or {0}))))
    found.figures.update({"drive_commands": commands, "instances_completed": statuses.get("completed", 0),
                          "instances_not_completed": sum(n for k, n in statuses.items() if k != "completed")})
    return found


def start_poisoned(url: str, rep: str) -> int:
    """Start the poisoned instance (before any other, so that it has the lowest id)."""
    eng = Engine(url)
    try:
        return eng.start(rep, POISON, {})
    finally:
        eng.db.dispose()


def check_poisoned(eng: Engine, poisoned: int, admin: str) -> Findings:
    """After the run (and drive_to_end): the poisoned instance held up no other timer, its failures were
    counted, and it can be cancelled without running its broken step."""
    found = Findings()
    _completed, _claimed, fired = _trail(eng)
    with eng.db.read() as s:
        done = list(s.scalars(select(Instance.id).where(Instance.status == "completed", Instance.id != poisoned)))
        rows = list(s.scalars(select(Timer).where(Timer.instance_id == poisoned)))
        status = s.scalar(select(Instance.status).where(Instance.id == poisoned))
    not_once = [iid for iid in done if fired[(iid, "cool_off")] != 1]
    for iid in not_once[:20]:
        found.add(f"instance {iid} completed but its cool-off timer fired {fired[(iid, 'cool_off')]} times")
    attempts = max((r.attempts for r in rows), default=0)
    if any(task == "wait" for (iid, task) in fired if iid == poisoned):
        found.add(f"the poisoned instance {poisoned} fired its timer, which cannot succeed")
    if attempts < 1:
        found.add(f"the poisoned instance {poisoned}: no failed attempt was counted ({status})")
    if status not in ("running", "incident"):
        found.add(f"the poisoned instance {poisoned} is {status}, not running or halted by an incident")
    try:
        eng.cancel(admin, poisoned, "load test: the poisoned instance")
        outcome = eng.instance(admin, poisoned)["status"]
    except Exception as exc:  # reported as a problem
        outcome = f"cancel failed: {exc}"
    if outcome != "cancelled":
        found.add(f"the poisoned instance {poisoned} could not be cancelled: {outcome}")
    found.figures.update({"timers_not_once": len(not_once), "poisoned": 1, "poisoned_attempts": attempts,
                          "poisoned_outcome": f"{status}, {outcome}"})
    return found
