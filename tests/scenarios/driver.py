"""A small vocabulary for driving the real processes step by step, readably.

Every helper reads the engine through its public facade only (inbox, instance,
history, replay, verify_chains), as a person or an auditor would.

What the helpers read is kept while nothing could have changed it (`_Reads`): an inbox or a trail read
again with no write in between and the clock where it stood is the same answer, so it is not asked of the
database again. After every step the tests ask who was offered a task, often for two or three tasks of
the same state, and then read the trail four or five times (trail, branches, submissions, events): each
was a full round of reads (~50 inboxes; the history) of a state already read.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from copy import deepcopy
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from sqlalchemy import event

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


# -- reads kept while nothing was written -------------------------------------------------------------------

_writes = 0  # statements run by any SQLAlchemy engine of this process that may have changed a row


# What cannot change a row: every other statement (INSERT, UPDATE, DELETE, a writing WITH, COPY, DDL) counts as a
# write. SQLite's engine opens its transactions with BEGIN / BEGIN IMMEDIATE through the same cursor.
_READ_ONLY = ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE")


@event.listens_for(sqlalchemy.engine.Engine, "before_cursor_execute")
def _count_writes(conn, cursor, statement, parameters, context, executemany) -> None:
    """Every engine, including another one on the same database (a web app's, a live server's thread): a row
    changed by any of them makes every kept read stale."""
    global _writes
    if not statement.lstrip()[:9].upper().startswith(_READ_ONLY):
        _writes += 1


class _Reads:
    """One engine's inboxes {user: list} and histories {instance: list}, each with the state it was read in:
    (writes so far, the engine's clock). The state is taken before the read, so a write that runs while
    reading (a live server's thread) makes the read stale too."""

    def __init__(self) -> None:
        self.inboxes: dict[str, tuple[tuple, list[dict]]] = {}
        self.histories: dict[int, tuple[tuple, list[dict]]] = {}


_kept: weakref.WeakKeyDictionary[Engine, _Reads] = weakref.WeakKeyDictionary()


def _state(engine: Engine) -> tuple:
    return _writes, engine.clock.now()  # the inbox's overdue flag depends on the clock


def _reads(engine: Engine) -> _Reads:
    reads = _kept.get(engine)
    if reads is None:
        reads = _kept[engine] = _Reads()
    return reads


def inbox_of(engine: Engine, user: str) -> list[dict]:
    """engine.inbox(user), read again only if a write happened or the clock moved since it was last read.
    Not to be changed by the caller: the list is the one kept."""
    reads, state = _reads(engine), _state(engine)
    kept = reads.inboxes.get(user)
    if kept is not None and kept[0] == state:
        return kept[1]
    tasks = engine.inbox(user)
    reads.inboxes[user] = (state, tasks)
    return tasks


def kept_history(engine: Engine, iid: int) -> list[dict]:
    """engine.history as the auditor sees it, read again only after a write (the trail does not depend on the
    clock). Not to be changed by the caller: the list is the one kept."""
    reads, state = _reads(engine), _writes
    kept = reads.histories.get(iid)
    if kept is not None and kept[0] == state:
        return kept[1]
    trail_ = engine.history(AUDITOR, iid)
    reads.histories[iid] = (state, trail_)
    return trail_


def holders(role: str) -> set[str]:
    """Every person in PEOPLE who holds the role."""
    return {name for name, roles in PEOPLE.items() if role in roles}


def offered_to(engine: Engine, task_name: str, iid: int | None = None) -> set[str]:
    """The people whose inbox shows a ready task with this element id (of this instance)."""
    return offered_among(engine, PEOPLE, task_name, iid)


def offered_among(engine: Engine, people: Iterable[str], task_name: str, iid: int | None = None) -> set[str]:
    """Those of `people` whose inbox shows a ready task with this element id (of this instance)."""
    return {user for user in people if any(
        t["name"] == task_name and (iid is None or t["instance_id"] == iid) for t in inbox_of(engine, user))}


def inbox_task(engine: Engine, user: str, task_name: str, iid: int | None = None) -> dict:
    """The one task with this element id in the user's inbox."""
    tasks = inbox_of(engine, user)
    found = [t for t in tasks if t["name"] == task_name and (iid is None or t["instance_id"] == iid)]
    assert len(found) == 1, f"{user}'s inbox has {len(found)} task(s) {task_name}: {tasks}"
    return dict(found[0])  # the caller's copy: the kept inbox stays as read


def open_task(engine: Engine, iid: int, task_name: str) -> dict:
    """The one open task with this element id, as the instance view lists it."""
    found = [t for t in engine.instance(AUDITOR, iid)["tasks"] if t["name"] == task_name]
    assert len(found) == 1, f"instance {iid} has {len(found)} open task(s) {task_name}"
    return found[0]


def do(engine: Engine, user: str, task_name: str, data: dict, iid: int | None = None) -> dict:
    """Find the task in the user's inbox and complete it with data; returns the task as it was offered."""
    task = inbox_task(engine, user, task_name, iid)
    engine.complete(user, task["id"], data)
    assert task["id"] not in {t["id"] for t in inbox_of(engine, user)}
    return task


def history(engine: Engine, iid: int) -> list[dict]:
    return deepcopy(kept_history(engine, iid))  # the caller's copy: the kept history stays as read


def trail(engine: Engine, iid: int, skip: tuple[str, ...] = ("claimed",)) -> list[tuple[str, str | None]]:
    """The audit trail as (kind, task) pairs; claims (automatic when completing) are left out."""
    return [(e["kind"], e["task"]) for e in kept_history(engine, iid) if e["kind"] not in skip]


def branches(engine: Engine, iid: int) -> list[tuple[str, str | list[str], str | None]]:
    """Every gateway passed, in order: (gateway, the branch taken, the condition that chose it)."""
    result = []
    for e in kept_history(engine, iid):
        if e["kind"] != "gateway_taken":
            continue
        taken = e["payload"]["taken"]
        target = taken[0] if len(taken) == 1 else taken
        condition = e["payload"]["conditions"].get(target) if isinstance(target, str) else None
        result.append((e["task"], target, condition))
    return result


def submissions(engine: Engine, iid: int) -> list[tuple[str, dict]]:
    """What each completed task submitted, in order, as the trail recorded it."""
    return deepcopy([(e["task"], e["payload"]["data"]) for e in kept_history(engine, iid) if e["kind"] == "completed"])


def events(engine: Engine, iid: int, kind: str) -> list[dict]:
    return deepcopy([e for e in kept_history(engine, iid) if e["kind"] == kind])


def end_events(engine: Engine, iid: int) -> list[str]:
    [ended] = [e for e in kept_history(engine, iid) if e["kind"] == "ended"]
    return list(ended["payload"]["end_events"])


def assert_audit_intact(engine: Engine, iid: int) -> None:
    """Replay gives the recorded history again, and every hash chain verifies. It asks for every state, as
    the history page does: the engine keeps that replay, which the scenarios' pruning check
    (tests/scenarios/conftest.py) then takes as the cut one instead of replaying the trail again."""
    replayed = engine.replay(iid, actor=AUDITOR, states=True)
    assert replayed.verified, replayed.first_mismatch
    assert replayed.steps == len(kept_history(engine, iid))
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
