"""A small vocabulary for driving the real processes step by step, readably.

Every helper reads the engine through its public facade only (inbox, instance,
history, replay, verify_chains), as a person or an auditor would.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine import Engine
from engine.errors import Forbidden

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUDITOR = "aud"

# Everyone the scenarios know. A role lane must reach exactly the holders of its role;
# the people holding two roles prove that the requester never approves his own request.
PEOPLE: dict[str, list[str]] = {
    "rep1": ["sales_rep"],
    "rep2": ["sales_rep"],
    "mgr1": ["sales_manager"],
    "mgr2": ["sales_manager"],
    "qa1": ["quality"],
    "qa2": ["quality"],
    "disp": ["dispatcher"],
    "lead": ["division_leader"],
    "dir": ["sales_director"],  # manages sales managers, but is offered none of their work
    "adm": ["admin"],
    "aud": ["auditor"],
    "rep_mgr": ["sales_rep", "sales_manager"],
    "rep_qa": ["sales_rep", "quality"],
    "rep_lead": ["sales_rep", "division_leader"],
    "tech1": ["technical"],
    "buy1": ["purchasing"],
    "vp1": ["sales_vp"],
    "rep_vp": ["sales_rep", "sales_vp"],
    "svc1": ["customer_service"],
    "svc2": ["customer_service"],
    "fix1": ["aftersales_engineer"],
    "fix2": ["aftersales_engineer"],
    "svc_fix": ["customer_service", "aftersales_engineer"],
    "fix_mgr": ["aftersales_engineer", "sales_manager"],
    "audit1": ["audit_dept"],
    "hq1": ["headquarters"],
    "gm1": ["general_manager"],
    "clerk1": ["order_clerk"],
    "prod1": ["production"],
    "fin1": ["finance"],
    "fin2": ["finance"],
    "asst1": ["sales_assistant"],
    "asst2": ["sales_assistant"],
    "rep_audit": ["sales_rep", "audit_dept"],
    "rep_hq": ["sales_rep", "headquarters"],
    "rep_gm": ["sales_rep", "general_manager"],
    "off1": ["office"],
    "off2": ["office"],
    "svc_off": ["customer_service", "office"],
    "head1": ["department_head"],
    "head2": ["department_head"],
    "rep_head": ["sales_rep", "department_head"],
    "safe1": ["safety_officer"],
    "safe2": ["safety_officer"],
    "train1": ["training_officer"],
    "train2": ["training_officer"],
}


def holders(role: str) -> set[str]:
    """Every person in PEOPLE who holds the role."""
    return {name for name, roles in PEOPLE.items() if role in roles}


def offered_to(engine: Engine, task_name: str, iid: int | None = None) -> set[str]:
    """The people whose inbox shows a ready task with this element id (of this instance)."""
    return {user for user in PEOPLE if any(
        t["name"] == task_name and (iid is None or t["instance_id"] == iid) for t in engine.inbox(user))}


def inbox_task(engine: Engine, user: str, task_name: str, iid: int | None = None) -> dict:
    """The one task with this element id in the user's inbox."""
    found = [t for t in engine.inbox(user) if t["name"] == task_name and (iid is None or t["instance_id"] == iid)]
    assert len(found) == 1, f"{user}'s inbox has {len(found)} task(s) {task_name}: {engine.inbox(user)}"
    return found[0]


def open_task(engine: Engine, iid: int, task_name: str) -> dict:
    """The one open task with this element id, as the instance view lists it."""
    found = [t for t in engine.instance(AUDITOR, iid)["tasks"] if t["name"] == task_name]
    assert len(found) == 1, f"instance {iid} has {len(found)} open task(s) {task_name}"
    return found[0]


def do(engine: Engine, user: str, task_name: str, data: dict, iid: int | None = None) -> dict:
    """Find the task in the user's inbox and complete it with data; returns the task as it was offered."""
    task = inbox_task(engine, user, task_name, iid)
    engine.complete(user, task["id"], data)
    assert task["id"] not in {t["id"] for t in engine.inbox(user)}
    return task


def history(engine: Engine, iid: int) -> list[dict]:
    return engine.history(AUDITOR, iid)


def trail(engine: Engine, iid: int, skip: tuple[str, ...] = ("claimed",)) -> list[tuple[str, str | None]]:
    """The audit trail as (kind, task) pairs; claims (automatic when completing) are left out."""
    return [(e["kind"], e["task"]) for e in history(engine, iid) if e["kind"] not in skip]


def branches(engine: Engine, iid: int) -> list[tuple[str, str | list[str], str | None]]:
    """Every gateway passed, in order: (gateway, the branch taken, the condition that chose it)."""
    result = []
    for e in history(engine, iid):
        if e["kind"] != "gateway_taken":
            continue
        taken = e["payload"]["taken"]
        target = taken[0] if len(taken) == 1 else taken
        condition = e["payload"]["conditions"].get(target) if isinstance(target, str) else None
        result.append((e["task"], target, condition))
    return result


def submissions(engine: Engine, iid: int) -> list[tuple[str, dict]]:
    """What each completed task submitted, in order, as the trail recorded it."""
    return [(e["task"], e["payload"]["data"]) for e in history(engine, iid) if e["kind"] == "completed"]


def events(engine: Engine, iid: int, kind: str) -> list[dict]:
    return [e for e in history(engine, iid) if e["kind"] == kind]


def end_events(engine: Engine, iid: int) -> list[str]:
    [ended] = events(engine, iid, "ended")
    return ended["payload"]["end_events"]


def assert_audit_intact(engine: Engine, iid: int) -> None:
    """Replay gives the recorded history again, and every hash chain verifies."""
    replayed = engine.replay(iid, actor=AUDITOR)
    assert replayed.verified, replayed.first_mismatch
    assert replayed.steps == len(history(engine, iid))
    chains = {r.chain: r for r in engine.verify_chains()}
    assert f"instance:{iid}" in chains
    assert [r.describe() for r in chains.values() if not r.ok] == []


def local_time(day: str, hhmm: str) -> datetime:
    """An instant given in company time (Asia/Shanghai)."""
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return datetime.combine(datetime.fromisoformat(day).date(), time(hours, minutes), SHANGHAI)


def company_day(instant: datetime, days: int = 0) -> str:
    """The ISO date, in company time, `days` after the instant's day."""
    return (instant.astimezone(SHANGHAI).date() + timedelta(days=days)).isoformat()


def dated(data: dict, instant: datetime, *fields: str) -> dict:
    """The record with each date field set to the company day of `instant`: forms refuse a day that
    has not come yet for something that happened (x-max-days-ahead: 0)."""
    return {**data, **{field: company_day(instant) for field in fields}}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def requester_may_not_work(engine: Engine, iid: int, requester: str, task_name: str, data: dict) -> None:
    """Separation of duties: the requester, although he holds the task's role, may neither
    claim nor complete it, and trying leaves the task as it was."""
    task = open_task(engine, iid, task_name)
    assert set(PEOPLE[requester]) & {task["role"]}, "the requester must hold the task's role for this proof"
    with pytest.raises(Forbidden):
        engine.claim(requester, task["id"])
    with pytest.raises(Forbidden):
        engine.complete(requester, task["id"], data)
    after = open_task(engine, iid, task_name)
    assert (after["id"], after["status"], after["assignee"]) == (task["id"], "ready", None)


def ready_and_done(*tasks: str) -> list[tuple[str, str]]:
    """The (kind, task) pairs of tasks that became ready and were completed, in order."""
    return [pair for t in tasks for pair in (("task_ready", t), ("completed", t))]


def assert_completed(eng: Engine, iid: int, viewer: str, data: dict) -> None:
    """Status completed, nothing left open, and the instance's data exactly as the steps left it."""
    inst = eng.instance(viewer, iid)
    assert (inst["status"], inst["tasks"]) == ("completed", [])
    assert inst["ended_at"] is not None
    assert {t["status"] for t in inst["history_tasks"]} == {"completed"}
    assert inst["data"] == data
