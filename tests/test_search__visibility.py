"""The search finds, for each person, exactly the instances access.may_see_instance lets him open, on a mixed
data set (every way of taking part, and near misses: a task of his role no longer waiting, a task someone else
was given or did), with a total that stops counting at TOTAL_CAP past the page's start, and an SLA-breached
filter (instance.sla_breach_at, engine/runtime/sla.py) that finds the instances the rows say breached.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from engine import Engine
from engine.clock import iso
from engine.runtime import access, search, sla
from engine.store.models import AuditEvent, Instance, ProcessVersion, Task
from engine.users import get_actor
from tests.conftest import T0, add_users, deploy_approval

PEOPLE = {"ann": ["sales_rep"], "bob": ["sales_rep"], "cat": ["sales_manager"], "dan": ["sales_manager", "finance"],
          "eve": ["finance"], "fay": ["quality"]}
ROLES = ("sales_rep", "sales_manager", "finance", "quality", "initiator")
STATUSES = ("ready", "completed", "cancelled")
NAMES = (*PEOPLE, None)


@pytest.fixture
def mixed(engine: Engine) -> dict[int, dict]:
    """60 instances with random task rows (seeded): {instance id: {started_by, breached}} as written."""
    deploy_approval(engine)
    add_users(engine, PEOPLE)
    rng = random.Random(17)
    now = engine.clock.now()
    written: dict[int, dict] = {}
    with engine.db.write() as s:
        version = s.query(ProcessVersion).first()
        for n in range(60):
            inst = Instance(process_version_id=version.id, process_key=version.key, business_key=f"MIX-{n}",
                            status="running", started_by=rng.choice(list(PEOPLE)),
                            started_at=T0 - timedelta(hours=60 - n), state_json="{}", serializer_version="test",
                            data_json="{}", rev=1)
            s.add(inst)
            s.flush()
            breached = False
            for k in range(rng.randrange(0, 4)):
                status = rng.choice(STATUSES)
                due = rng.choice((None, now - timedelta(hours=1), now + timedelta(hours=1)))
                done = now - timedelta(hours=rng.choice((0, 2))) if status == "completed" else None
                s.add(Task(id=f"mix-{n}-{k}", instance_id=inst.id, process_key=version.key, bpmn_id=f"step_{k}",
                           title="t", role=rng.choice(ROLES), assignee=rng.choice(NAMES), status=status,
                           created_at=inst.started_at, due_at=due,
                           completed_by=rng.choice(NAMES) if status == "completed" else None, completed_at=done))
                breached |= due is not None and ((status == "completed" and done > due)
                                                 or (status == "ready" and due < now))
            if rng.random() < 0.1:
                s.add(AuditEvent(chain=f"mix-{n}", position=1, instance_id=inst.id,
                                 at=iso(now - timedelta(hours=3)), actor="system",
                                 kind="escalated", payload="{}", prev_hash="0", hash="0"))
                breached = True
            written[inst.id] = {"started_by": inst.started_by, "breached": breached}
        s.flush()  # the rows are written past the engine's steps: their SLA columns as migration 0019 fills them
        s.execute(text(sla.fill_sql(engine.db.is_sqlite)))
    return written


def allowed(engine: Engine, user: str, ids: list[int]) -> list[int]:
    """The ids access.may_see_instance lets this user open, newest first (the search's order)."""
    with engine.db.read() as s:
        actor = get_actor(s, user)
        return sorted((i for i in ids if access.may_see_instance(s, actor, s.get(Instance, i))), reverse=True)


def everything(engine: Engine, user: str, filters: dict) -> list[int]:
    result = engine.search(user, filters, per_page=100)
    assert (result["total"], result["total_capped"]) == (len(result["items"]), False)
    return [item["id"] for item in result["items"]]


@pytest.mark.parametrize("user", [*PEOPLE, "aud"])  # aud: an auditor (tests/conftest.py APPROVAL_PEOPLE)
def test_a_participant_finds_exactly_what_access_lets_him_open(engine, mixed, user):
    ids = list(mixed)
    expected = allowed(engine, user, ids)
    assert 0 < len(expected) <= len(ids)
    assert everything(engine, user, {}) == expected
    breached = [i for i in expected if mixed[i]["breached"]]
    assert everything(engine, user, {"sla_breached": True}) == breached
    assert everything(engine, user, {"sla_breached": False}) == [i for i in expected if i not in breached]


def test_sla_breached_finds_what_the_rows_say_and_the_page_column_agrees(engine, mixed):
    expected = sorted((i for i, row in mixed.items() if row["breached"]), reverse=True)
    assert expected and everything(engine, "aud", {"sla_breached": True}) == expected
    items = engine.search("aud", {}, per_page=100)["items"]
    assert [i["id"] for i in items if i["sla_breached"]] == expected  # the page's column says the same


def test_the_total_stops_counting_past_the_cap_and_says_so(engine, mixed, monkeypatch):
    monkeypatch.setattr(search, "TOTAL_CAP", 7)
    newest = sorted(mixed, reverse=True)
    first = engine.search("aud", {}, page=1, per_page=5)
    assert (first["total"], first["total_capped"], first["pages"]) == (7, True, 2)
    assert [i["id"] for i in first["items"]] == newest[:5]
    deeper = engine.search("aud", {}, page=11, per_page=5)  # counts on from the page's start: 50 + 7 of 60
    assert (deeper["total"], deeper["total_capped"], deeper["pages"]) == (57, True, 12)
    last = engine.search("aud", {}, page=12, per_page=5)
    assert (last["total"], last["total_capped"], last["pages"]) == (60, False, 12)
    assert [i["id"] for i in last["items"]] == newest[55:]
