"""Migration 0022: the inbox's four indexes (ix_task_inbox_role, _assignee, _role_due, _assignee_due) hold the open
tasks only, without the status column, on both databases, and are full and led by status again after its
downgrade; the inboxes (by creation and by deadline), their counts and a manager's list answer the same before
and after, with a completed task among the rows."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}
KEYS = {"ix_task_inbox_role": ["role", "created_at", "id"],
        "ix_task_inbox_assignee": ["assignee", "created_at", "id"],
        "ix_task_inbox_role_due": ["role", "due_at", "created_at", "id"],
        "ix_task_inbox_assignee_due": ["assignee", "due_at", "created_at", "id"]}


def _inbox_indexes(raw) -> dict[str, tuple[list[str], str | None]]:
    """name: (columns, the partial condition or None) of the inbox's indexes as the database has them."""
    found = {}
    for ix in inspect(raw).get_indexes("task"):
        if ix["name"] in KEYS:
            options = ix.get("dialect_options", {})
            where = options.get("postgresql_where", options.get("sqlite_where"))
            found[ix["name"]] = (ix["column_names"], None if where is None else str(where))
    return found


def _entries(raw, name: str) -> int:
    """How many rows the index holds (SQLite: the cells of its leaf pages; PostgreSQL: its tuples after ANALYZE)."""
    with raw.begin() as conn:
        if raw.dialect.name == "sqlite":
            return conn.scalar(text("SELECT sum(ncell) FROM dbstat WHERE name = :name AND pagetype = 'leaf'"),
                               {"name": name})
        conn.exec_driver_sql("ANALYZE task")
        return conn.scalar(text("SELECT reltuples::int FROM pg_class WHERE relname = :name"), {"name": name})


def _answers(approval) -> tuple:
    inboxes = tuple(tuple(t["id"] for t in approval.inbox(who, sort=sort))
                    for who in ("mgr", "rep") for sort in ("created", "due"))
    counts = (approval.inbox_counts("mgr"), approval.inbox_counts("rep"))
    return inboxes, counts, tuple(t["id"] for t in approval.managed_tasks("adm"))


def test_the_inbox_indexes_hold_the_open_tasks_from_0022_on_and_all_tasks_after_its_downgrade(approval, db_url):
    first = approval.start("rep", "approval", dict(REQUEST))
    approval.clock.advance(minutes=1)
    approval.start("rep2", "approval", dict(REQUEST))
    approve = next(t for t in approval.inbox("mgr") if t["instance_id"] == first)
    approval.complete("mgr", approve["id"], {"approved": True})  # closed; the requester's archive task opens
    answers = _answers(approval)
    assert len(answers[0][0]) == 1 and len(answers[0][2]) == 1  # mgr: the other approval; rep: the archive
    assert answers[1] == ({"sales_manager": 1}, {"initiator": 1})
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        after = _inbox_indexes(raw)
        assert {name: columns for name, (columns, _) in after.items()} == KEYS
        assert all("status" in where and "ready" in where for _, where in after.values())
        assert _entries(raw, "ix_task_inbox_role") == 2  # the two open tasks, not the completed approval
        command.downgrade(cfg, "0021")
        before = _inbox_indexes(raw)
        assert before == {name: (["status", *columns], None) for name, columns in KEYS.items()}
        assert _answers(approval) == answers
        assert _entries(raw, "ix_task_inbox_role") == 3  # every task row
        command.upgrade(cfg, "0022")
        assert _inbox_indexes(raw) == after
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _answers(approval) == answers
