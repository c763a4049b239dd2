"""Migration 0016: ix_task_ready (the open tasks led by role) replaces 0015's ix_task_open on both databases, and
the navigation's counts answer the same before and after."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def test_downgrading_below_0016_brings_back_ix_task_open_and_upgrading_replaces_it(approval, db_url):
    approval.start("rep", "approval", dict(REQUEST))
    approval.start("rep2", "approval", dict(REQUEST))
    answer = approval.inbox_counts("mgr")
    assert answer == {"sales_manager": 2}
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0015")
        before = {ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes("task")}
        assert "ix_task_ready" not in before
        assert before["ix_task_open"] == ["status", "role", "assignee", "sod", "instance_id"]
        assert approval.inbox_counts("mgr") == answer
        command.upgrade(cfg, "0016")
        after = {ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes("task")}
        assert "ix_task_open" not in after
        assert after["ix_task_ready"] == ["role", "assignee", "sod", "instance_id", "status"]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert approval.inbox_counts("mgr") == answer
