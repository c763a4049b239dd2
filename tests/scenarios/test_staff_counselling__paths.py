"""P16 staff_counselling (员工心理辅导): the quarterly session, from its timer to its record.

The clock starts at T0 = Monday 2026-03-02 09:00 in Shanghai; the first session starts by its timer at 09:00 on
15 April, the next on 15 July.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Engine
from engine.errors import Forbidden, InvalidData
from tests.scenarios.driver import (
    AUDITOR,
    assert_audit_intact,
    assert_completed,
    do,
    end_events,
    holders,
    inbox_task,
    local_time,
    offered_to,
    parse,
)

KEY = "staff_counselling"
APRIL = local_time("2026-04-15", "09:00")
JULY = local_time("2026-07-15", "09:00")
PLANNED = {"counselling_date": "2026-04-22", "counsellor": "市心理咨询中心 周老师",
           "counselling_theme": "应对客户投诉的压力", "counselling_place": "芜湖门店会议室"}
RECORDED = {"counselling_held_on": "2026-04-22", "counselling_participants": 18,
            "counselling_summary": "主要压力来自旺季加班和投诉处理；讲解了情绪调节方法",
            "workplace_suggestions": "旺季轮休；投诉处理后安排短暂休息"}


def sessions(eng: Engine) -> list[dict]:
    """Every instance of the process, oldest first, as an auditor sees it."""
    ids = sorted(int(r.chain.split(":")[1]) for r in eng.verify_chains() if r.chain.startswith("instance:"))
    return [view for view in (eng.instance(AUDITOR, i) for i in ids) if view["process_key"] == KEY]


def fire_all(eng: Engine) -> None:
    while eng.fire_due_timers():
        pass


@pytest.mark.rule("P16.1")
def test_a_session_starts_each_quarter_is_planned_and_recorded_and_the_next_follows(flows, clock):
    eng = flows
    with pytest.raises(Forbidden, match="started by its timer"):
        eng.start("train1", KEY, {})
    [armed] = sessions(eng)
    assert (armed["status"], armed["started_by"], armed["tasks"]) == ("running", "system", [])
    clock.set(APRIL - timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_counselling") == set()
    clock.set(APRIL + timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_counselling", armed["id"]) == holders("training_officer")
    plan = inbox_task(eng, "train1", "plan_counselling", armed["id"])
    assert (plan["role"], plan["title"]) == ("training_officer", "安排心理辅导")
    assert parse(plan["due_at"]) == APRIL + timedelta(days=14, minutes=1)
    with pytest.raises(InvalidData) as refused:
        eng.complete("train1", plan["id"], {**PLANNED, "counselling_date": "2026-04-14", "counsellor": " "})
    assert {"counselling_date", "counsellor"} <= set(refused.value.fields)
    do(eng, "train1", "plan_counselling", PLANNED, armed["id"])
    record = inbox_task(eng, "train2", "record_counselling", armed["id"])
    assert parse(record["due_at"]) == local_time("2026-04-25", "18:00")
    clock.set(local_time("2026-04-23", "10:00"))
    with pytest.raises(InvalidData) as refused:
        eng.complete("train2", record["id"], {**RECORDED, "counselling_participants": 0})
    assert "counselling_participants" in refused.value.fields
    do(eng, "train2", "record_counselling", RECORDED, armed["id"])
    assert_completed(eng, armed["id"], AUDITOR, {**PLANNED, **RECORDED})
    inst = eng.instance(AUDITOR, armed["id"])
    assert (inst["outcome"], end_events(eng, armed["id"])) == ("completed", ["counselling_done"])
    assert_audit_intact(eng, armed["id"])

    [july] = [v for v in sessions(eng) if v["status"] == "running"]
    clock.set(JULY - timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_counselling") == set()
    clock.set(JULY + timedelta(minutes=1))
    fire_all(eng)
    assert offered_to(eng, "plan_counselling", july["id"]) == holders("training_officer")
    assert len([v for v in sessions(eng) if v["status"] == "running" and v["tasks"] == []]) == 1  # October's
