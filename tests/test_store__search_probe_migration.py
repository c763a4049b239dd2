"""Migration 0018: the search's probe indexes (ix_task_instance_status with assignee and role, ix_task_status_due
with the instance, ix_instance_customer_name with the start time, and the partial ix_task_late_instance) come and
go with it on both databases, and a sales manager's searches answer the same before and after the round trip."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def _indexes(raw) -> dict[str, list[str]]:
    found = {}
    for table in ("task", "instance"):
        found.update({ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes(table)})
    return found


def _answers(approval) -> tuple:
    return tuple(approval.search("mgr", filters)["total"] for filters in ({}, {"customer": "acme"},
                                                                          {"sla_breached": False}))


def test_downgrading_below_0018_restores_the_indexes_and_upgrading_widens_them_again(approval, db_url):
    approval.start("rep", "approval", dict(REQUEST))
    approval.start("rep2", "approval", dict(REQUEST))
    answers = _answers(approval)
    assert answers == (2, 2, 2)  # the sales manager's tasks wait for his role in both
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0017")
        before = _indexes(raw)
        assert "ix_task_late_instance" not in before
        assert before["ix_task_instance_status"] == ["instance_id", "status", "completed_by"]
        assert before["ix_task_status_due"] == ["status", "due_at"]
        assert before["ix_instance_customer_name"] == ["customer_name", "id"]
        # no search here: it reads migration 0019's SLA columns, which a schema at 0017 lacks (asked at head below)
        command.upgrade(cfg, "0018")
        after = _indexes(raw)
        assert after["ix_task_instance_status"] == ["instance_id", "status", "completed_by", "assignee", "role"]
        assert after["ix_task_status_due"] == ["status", "due_at", "instance_id"]
        assert after["ix_instance_customer_name"] == ["customer_name", "started_at", "id"]
        assert after["ix_task_late_instance"] == ["instance_id"]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _answers(approval) == answers
