"""Migration 0021: the six indexes no query reads any more (ix_task_role_status, ix_task_assignee_status, the
partial ix_task_late, ix_task_late_instance, ix_audit_event_escalated; ix_notification_instance_id) go with it
and come back with its downgrade on both databases; the inbox, its counts, the searches (SLA-breached too) and
the notifications answer the same before and after."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}
DROPPED = {"ix_task_role_status": ["role", "status"], "ix_task_assignee_status": ["assignee", "status"],
           "ix_task_late": ["status", "instance_id"], "ix_task_late_instance": ["instance_id"],
           "ix_audit_event_escalated": ["instance_id"], "ix_notification_instance_id": ["instance_id"]}


def _indexes(raw) -> dict[str, list[str]]:
    found = {}
    for table in ("task", "audit_event", "notification"):
        found.update({ix["name"]: ix["column_names"] for ix in inspect(raw).get_indexes(table)})
    return found


def _answers(approval) -> tuple:
    inbox = tuple(t["id"] for t in approval.inbox("mgr"))
    searches = tuple(approval.search("mgr", filters)["total"]
                     for filters in ({}, {"customer": "acme"}, {"sla_breached": True}, {"sla_breached": False}))
    bell = approval.notifications("mgr")["items"]  # the notifications, found by person
    return inbox, approval.inbox_counts("mgr"), searches, len(bell)


def test_the_unread_indexes_go_with_0021_and_come_back_with_its_downgrade(approval, db_url):
    approval.start("rep", "approval", dict(REQUEST))
    approval.start("rep2", "approval", dict(REQUEST))
    answers = _answers(approval)
    assert len(answers[0]) == 2 and answers[2][:2] == (2, 2)  # the sales manager's tasks wait for his role
    assert answers[3] >= 2  # and he was told of both
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        assert not set(DROPPED) & set(_indexes(raw))
        command.downgrade(cfg, "0020")
        before = _indexes(raw)
        assert {name: before.get(name) for name in DROPPED} == DROPPED
        assert _answers(approval) == answers
        command.upgrade(cfg, "0021")
        assert not set(DROPPED) & set(_indexes(raw))
        assert "ix_task_status_due" in _indexes(raw)  # the overdue scan's stays
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _answers(approval) == answers
