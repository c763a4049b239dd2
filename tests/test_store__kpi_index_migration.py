"""Migration 0020: the KPI page's indexes (ix_task_instance_status with the step, times and id; ix_task_completed
led by status and completion time) come and go with it on both databases, and the KPI page answers the same
before and after (the after-sales cases of tests/test_kpi__aftersale.py: open, resolved, closed unresolved)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine.store.db import alembic_config
from tests.test_kpi__aftersale import AUDITOR, cases  # noqa: F401 - the fixture

BEFORE = ["instance_id", "status", "completed_by", "assignee", "role"]


def _indexes(raw) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes("task")}


def _figures(eng) -> dict:
    report = eng.kpi(AUDITOR)
    return {k: v for k, v in report.items() if k != "generated_at"}


def test_downgrading_below_0020_restores_the_indexes_and_upgrading_widens_them_again(engine, cases, db_url):  # noqa: F811
    figures = _figures(engine)
    assert figures["volume"]["tasks"]["overall"]["completed"] > 0
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0019")
        before = _indexes(raw)
        assert "ix_task_completed" not in before
        assert before["ix_task_instance_status"] == BEFORE
        assert _figures(engine) == figures
        command.upgrade(cfg, "0020")
        after = _indexes(raw)
        assert after["ix_task_instance_status"] == [*BEFORE, "bpmn_id", "completed_at", "created_at", "id"]
        assert after["ix_task_completed"] == ["status", "completed_at", "role", "completed_by", "process_key"]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _figures(engine) == figures
