"""The SLA-breached search reads `instance.sla_breach_at`, which every step keeps (engine/runtime/sla.py): on real
instances (a fired SLA timer, a late completion, an overdue open task, a completion in time, a cancelled overdue
task) the column, the filter, its negation and the page's column give at every instant what the definition gives
read from the task rows and the trail (an `escalated` event, a task completed after its due time, an open task
past its due time now), to the microsecond at each edge; and migration 0019 fills the column for rows written
before it exactly as the engine keeps it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from engine import Engine
from engine import clock as clock_mod
from engine.runtime import commands, sla
from engine.store.db import alembic_config
from engine.store.models import AuditEvent, Instance, Task
from tests.conftest import FIXTURES, add_users
from tests.test_search__filters import at, ready
from tests.web.conftest import SAMPLE_REQUEST, WEB_PEOPLE, p5_p6_files

PEOPLE = {**WEB_PEOPLE, "dir": ["sales_director"]}
MICRO = timedelta(microseconds=1)


def approval(eng: Engine, who: str, key: str) -> int:
    return eng.start(who, "approval", {"customer_name": "Acme", "amount_yuan": 5000}, business_key=key)


def to_feedback(eng: Engine, who: str, key: str) -> int:
    """A sample request up to the requester's feedback task (due 14 days after shipping, no timer)."""
    iid = eng.start(who, "sample_request", dict(SAMPLE_REQUEST), business_key=key)
    for user, name, data in [("mgr1", "sales_approval", {"approved": True}),
                             ("qa1", "quality_approval", {"approved": True}),
                             ("qa1", "take_sample", {"batch_no": "QC-07"}),
                             ("disp", "dispatch_ship", {"shipped_on": "2026-03-02", "carrier": "顺丰速运"})]:
        eng.complete(user, ready(eng, user, iid, name), data)
    return iid


def definition(eng: Engine) -> tuple[dict[int, datetime | None], set[int], list[tuple]]:
    """From the rows, as the search decided before the column: ({instance: the instant after which it counts as
    breached}, the escalated ones, the instants where that may flip), computed here in Python."""
    with eng.db.read() as s:
        ids = list(s.scalars(select(Instance.id)))
        tasks = s.execute(select(Task.instance_id, Task.status, Task.due_at, Task.completed_at)).all()
        escalations = s.execute(select(AuditEvent.instance_id, AuditEvent.at)
                                .where(AuditEvent.kind == "escalated")).all()
    instants: dict[int, list[datetime]] = {i: [] for i in ids}
    for iid, status, due, done in tasks:
        if due is not None and (status == "ready" or (status == "completed" and done > due)):
            instants[iid].append(due)
    for iid, when in escalations:
        instants[iid].append(datetime.fromisoformat(when) - MICRO)  # counts from the instant it was recorded
    edges = sorted({t + d for ts in instants.values() for t in ts for d in (-MICRO, 0 * MICRO, MICRO, 2 * MICRO)})
    return {i: min(ts, default=None) for i, ts in instants.items()}, {i for i, _ in escalations}, edges


def old_breached(eng: Engine, now: datetime) -> set[int]:
    """The definition itself at `now`: escalated, a task completed after its due time, an open task past it."""
    with eng.db.read() as s:
        tasks = s.execute(select(Task.instance_id, Task.status, Task.due_at, Task.completed_at)).all()
        escalated = set(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.kind == "escalated")))
    return escalated | {iid for iid, status, due, done in tasks if due is not None and (
        (status == "completed" and done > due) or (status == "ready" and due < now))}


def columns(eng: Engine) -> dict[int, tuple]:
    with eng.db.read() as s:
        return {r.id: (r.sla_late_at, r.sla_breach_at)
                for r in s.execute(select(Instance.id, Instance.sla_late_at, Instance.sla_breach_at))}


def searched(eng: Engine, user: str, filters: dict) -> list[int]:
    result = eng.search(user, filters, per_page=100)
    assert (result["total"], result["total_capped"]) == (len(result["items"]), False)
    return [item["id"] for item in result["items"]]


def check(eng: Engine, clock, instants: list[datetime]) -> None:
    """The column is the definition's instant, and at the clock's time and each later one of the `instants` and
    of the definition's edges the search finds, for an auditor and for a sales manager (who sees a part), what
    the definition finds (an earlier instant is not one a search can be at: what happened since is recorded)."""
    expected, _, edges = definition(eng)
    assert {i: c[1] for i, c in columns(eng).items()} == expected
    back = clock.now()
    for now in sorted(t for t in {back, *instants, *edges} if t >= back):
        clock.set(now)
        breached = old_breached(eng, now)
        for user in ("aud", "mgr1"):
            everything = searched(eng, user, {})
            assert searched(eng, user, {"sla_breached": True}) == [i for i in everything if i in breached], now
            assert searched(eng, user, {"sla_breached": False}) == [i for i in everything if i not in breached]
        items = eng.search("aud", {}, per_page=100)["items"]
        assert {i["id"] for i in items if i["sla_breached"]} == breached
    clock.set(back)


@pytest.fixture
def world(engine: Engine, clock) -> dict[str, int]:
    engine.deploy("system", [FIXTURES / "approval", *p5_p6_files()])
    add_users(engine, PEOPLE)
    return {}


def test_the_column_and_the_search_follow_the_definition_through_every_kind_of_breach(engine, world, clock):
    eng = engine
    clock.set(at(3, 2, 1))
    ontime = approval(eng, "rep1", "ON-TIME")  # approved at once: its 24 h deadline met
    eng.complete("mgr1", ready(eng, "mgr1", ontime, "approve"), {"approved": True})
    escalated = approval(eng, "rep2", "ESCALATED")
    clock.set(at(3, 2, 2))
    overdue = approval(eng, "rep1", "OVERDUE")  # left open past its deadline, its timer not fired yet
    late = to_feedback(eng, "rep1", "LATE")
    cancelled = to_feedback(eng, "rep2", "CANCELLED")
    check(eng, clock, [at(3, 2, 3)])
    assert columns(eng)[escalated][1] == at(3, 3, 1)  # the open approval's deadline: not breached yet

    clock.set(at(3, 3, 1))  # exactly the escalated one's deadline: not past it
    check(eng, clock, [])
    clock.set(at(3, 3, 1, 30))
    # only the escalated one's timer: the overdue one stays an open task past its due time
    with clock_mod.using(eng.clock):
        assert commands.fire_timers(eng, escalated) == 1
    expected, esc, _ = definition(eng)
    assert esc == {escalated}
    assert columns(eng)[escalated] == (at(3, 3, 1, 30) - MICRO, at(3, 3, 1))
    check(eng, clock, [])  # the clock is the escalation's very instant: breached already
    eng.complete("dir", ready(eng, "dir", escalated, "escalation"), {"comment": "请尽快"})
    eng.complete("mgr2", ready(eng, "mgr2", escalated, "approve"), {"approved": False, "comment": "不行"})
    check(eng, clock, [at(3, 3, 2)])

    clock.set(at(3, 20, 1))  # both feedback tasks past their due time
    eng.complete("rep1", ready(eng, "rep1", late, "collect_feedback"), {"feedback": "好", "satisfaction": 5})
    eng.cancel("adm", cancelled, "客户撤回")
    check(eng, clock, [at(4, 1, 1)])
    final = columns(eng)
    assert final[ontime] == (None, None) and final[cancelled] == (None, None)
    assert final[late][0] == final[late][1] is not None  # a late completion never goes back
    assert final[overdue][0] is None and final[overdue][1] == at(3, 3, 2)


def test_migration_0019_fills_the_columns_as_the_engine_keeps_them(engine, world, clock, db_url):
    eng = engine
    clock.set(at(3, 2, 1))
    ids = [approval(eng, "rep1", "AP-0"), approval(eng, "rep1", "AP-1")]
    clock.set(at(3, 2, 2))
    ids.append(approval(eng, "rep1", "AP-2"))
    eng.complete("mgr1", ready(eng, "mgr1", ids[0], "approve"), {"approved": True})
    late = to_feedback(eng, "rep1", "LATE")
    clock.set(at(3, 3, 1, 0) + timedelta(seconds=1))  # an escalation recorded at a whole second, then one not
    assert eng.fire_due_timers() == 1
    clock.set(at(3, 3, 2, 0) + timedelta(microseconds=123457))
    assert eng.fire_due_timers() == 1
    clock.set(at(3, 20, 1))
    eng.complete("rep1", ready(eng, "rep1", late, "collect_feedback"), {"feedback": "好", "satisfaction": 5})
    kept = columns(eng)
    assert sum(1 for c in kept.values() if c[0] is not None) == 3  # two escalations, one late completion
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0018")
        command.upgrade(cfg, "0019")
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert columns(eng) == kept
    with eng.db.write() as s:  # and the engine's own recomputation (an instance migration's) gives the same
        s.execute(text("UPDATE instance SET sla_late_at = NULL, sla_breach_at = NULL"))
        for iid in kept:
            sla.refresh(s, iid)
    assert columns(eng) == kept
