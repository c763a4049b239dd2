"""Migration 0022: the inbox's four indexes (ix_task_inbox_role, _assignee, _role_due, _assignee_due) hold the open
tasks only, the overdue scan's (ix_task_status_due) the open tasks with a deadline and the KPI page's
(ix_task_completed) the completed tasks, on both databases, and are full and led by status again after its
downgrade; the inboxes (by creation and by deadline), their counts, a manager's list, the health page's task
figures and the KPI page's completions answer the same before and after, with a completed task, an open one
without a deadline and one past its deadline among the rows."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from engine.store.db import alembic_config

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}
KEYS = {"ix_task_inbox_role": ["role", "created_at", "id"],
        "ix_task_inbox_assignee": ["assignee", "created_at", "id"],
        "ix_task_inbox_role_due": ["role", "due_at", "created_at", "id"],
        "ix_task_inbox_assignee_due": ["assignee", "due_at", "created_at", "id"],
        "ix_task_status_due": ["due_at", "instance_id"],
        "ix_task_completed": ["completed_at", "role", "completed_by", "process_key", "status"]}
# before 0022: every row, led by status
BEFORE = {**{name: ["status", *columns] for name, columns in KEYS.items()},
          "ix_task_completed": ["status", "completed_at", "role", "completed_by", "process_key"]}


def _open_task_indexes(raw) -> dict[str, tuple[list[str], str | None]]:
    """name: (columns, the partial condition or None) of these indexes as the database has them."""
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
    gauges = approval.gauges()
    completed = approval.kpi("aud")["volume"]["tasks"]
    return inboxes, counts, tuple(t["id"] for t in approval.managed_tasks("adm")), gauges["open_tasks"], \
        gauges["overdue_tasks"], completed


def test_the_task_indexes_hold_only_the_rows_their_reads_ask_for_from_0022_on_and_every_row_before(approval, db_url):
    first = approval.start("rep", "approval", dict(REQUEST))
    approval.clock.advance(minutes=1)
    approval.start("rep2", "approval", dict(REQUEST))
    approve = next(t for t in approval.inbox("mgr") if t["instance_id"] == first)
    approval.complete("mgr", approve["id"], {"approved": True})  # closed; the requester's archive task opens
    approval.clock.advance(hours=25)  # the other approval is past its deadline (24 hours); the archive has none
    answers = _answers(approval)
    assert len(answers[0][0]) == 1 and len(answers[0][2]) == 1  # mgr: the other approval; rep: the archive
    assert answers[1] == ({"sales_manager": 1}, {"initiator": 1})
    assert answers[3:5] == ({"sales_manager": 1, "initiator": 1}, {"sales_manager": 1})
    assert answers[5]["overall"]["completed"] == 1
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0022")  # what 0022 made: 0024 changed the assignee indexes again
        after = _open_task_indexes(raw)
        assert {name: columns for name, (columns, _) in after.items()} == KEYS
        assert all("status" in where and "ready" in where for name, (_, where) in after.items()
                   if name != "ix_task_completed")
        assert "due_at IS NOT NULL" in after["ix_task_status_due"][1] and "completed" in after["ix_task_completed"][1]
        assert _entries(raw, "ix_task_inbox_role") == 2  # the two open tasks, not the completed approval
        assert _entries(raw, "ix_task_status_due") == 1  # the open approval; the archive task has no deadline
        assert _entries(raw, "ix_task_completed") == 1  # the completed approval
        command.downgrade(cfg, "0021")
        before = _open_task_indexes(raw)
        assert before == {name: (columns, None) for name, columns in BEFORE.items()}
        assert _answers(approval) == answers
        assert {_entries(raw, name) for name in KEYS} == {3}  # every row
        command.upgrade(cfg, "0022")
        assert _open_task_indexes(raw) == after
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _answers(approval) == answers
