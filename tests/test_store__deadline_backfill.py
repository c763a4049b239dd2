"""Migration 0012: tasks that were open before deadlines came from boundary timers get theirs on
upgrade, read from each instance's saved workflow state, the same figure the engine now computes."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import create_engine, text

from engine.store.db import alembic_config
from tests.conftest import ROOT, T0, add_users
from tests.scenarios.driver import PEOPLE, do, inbox_task
from tests.test_queries__deadlines import REPAIR, RESPONSE, VISIT


def test_upgrading_to_0012_gives_open_tasks_the_deadline_of_their_boundary_timers(engine, clock, db_url):
    eng = engine
    eng.deploy("system", [ROOT / "processes", ROOT / "forms"])
    add_users(eng, PEOPLE)
    visit = eng.start("rep1", "customer_visit", dict(VISIT))
    do(eng, "lead", "leader_approval", {"approved": True, "comment": "同意"}, visit)
    case = eng.start("svc1", "aftersale", dict(REPAIR))
    do(eng, "fix1", "first_response", RESPONSE, case)
    clock.set(T0 + timedelta(days=2, hours=1))
    eng.fire_due_timers()  # the reception's and the resolution's timers fire: their targets are kept
    reception = inbox_task(eng, "rep1", "arrange_reception", visit)
    diagnose = inbox_task(eng, "fix1", "diagnose", case)
    assert reception["overdue"] and diagnose["overdue"]
    expected = {reception["id"]: reception["due_at"], diagnose["id"]: diagnose["due_at"]}

    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        with raw.begin() as conn:  # as before 0012: neither task has a due date of its own
            conn.execute(text("UPDATE task SET due_at = NULL WHERE status = 'ready'"))
        assert inbox_task(eng, "rep1", "arrange_reception", visit)["due_at"] is None
        command.downgrade(cfg, "0012-1")
        command.upgrade(cfg, "head")
    finally:
        raw.dispose()

    after = {t["id"]: t for t in (inbox_task(eng, "rep1", "arrange_reception", visit),
                                  inbox_task(eng, "fix1", "diagnose", case))}
    assert {i: t["due_at"] for i, t in after.items()} == expected
    assert all(t["overdue"] for t in after.values())
    assert reception["id"] in {t["id"] for t in eng.inbox("rep1", overdue=True)}
