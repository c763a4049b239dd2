"""Migration 0015: the read indexes (partial ones included) come and go with it on both databases, and the
searches and counts that use them answer the same before and after."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}


def _indexes(raw) -> dict[str, list[str]]:
    found = {}
    for table in ("task", "audit_event"):
        found.update({ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes(table)})
    return found


def test_downgrading_below_0015_drops_the_read_indexes_and_upgrading_brings_them_back(approval, db_url):
    iid = approval.start("rep", "approval", dict(REQUEST))
    answers = (approval.inbox_counts("mgr"), approval.search("aud", {"sla_breached": False})["total"],
               approval.search("aud", {"customer": "acme"})["total"])
    assert answers == ({"sales_manager": 1}, 1, 1)
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0014")
        before = _indexes(raw)
        assert not {"ix_task_open", "ix_task_late", "ix_audit_event_escalated"} & set(before)
        assert before["ix_task_instance_status"] == ["instance_id", "status"]
        # the reads 0015's indexes serve; the searches read columns and tables of later migrations (0017's
        # customer names, 0019's SLA columns), which a schema at 0014 lacks: they are asked again at head below
        assert approval.inbox_counts("mgr") == answers[0]
        command.upgrade(cfg, "0015")  # 0016 replaces ix_task_open (tests/test_store__ready_index_migration.py)
        after = _indexes(raw)
        assert after["ix_task_open"] == ["status", "role", "assignee", "sod", "instance_id"]
        assert after["ix_task_late"] == ["status", "instance_id"]
        assert after["ix_audit_event_escalated"] == ["instance_id"]
        assert after["ix_task_instance_status"] == ["instance_id", "status", "completed_by"]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert (approval.inbox_counts("mgr"), approval.search("aud", {"sla_breached": False})["total"],
            approval.search("aud", {"customer": "acme"})["total"]) == answers
    assert approval.instance("rep", iid)["status"] == "running"
