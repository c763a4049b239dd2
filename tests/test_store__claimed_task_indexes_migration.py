"""Migration 0024: the inbox's indexes by assignee (ix_task_inbox_assignee, _assignee_due) hold the claimed open
tasks only, on both databases, and every open task again after the downgrade; the inboxes (by creation and by
deadline, a claimed task and an offered one among the rows) and their counts answer the same before and after.
On SQLite, with the statistics of a loaded database (benchmark 3 at 1,000,000 task rows), a role's offered tasks
are read from ix_task_inbox_role in the inbox's order, not from the assignee index as `assignee = NULL`: that
read every offered task of every role until a page of this one was found (the rare headquarters role: 5.7 ms)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from engine.runtime import queries
from engine.store.db import alembic_config
from tests.conftest import PG_URL

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}
ASSIGNEE = ("ix_task_inbox_assignee", "ix_task_inbox_assignee_due")
# sqlite_stat1 of the task table after benchmark 3's load at 1,000,000 task rows / 100,000 open (PRAGMA optimize):
# ~1,000 open tasks per assignee value (the people and one NULL), ~5,000 per role
LOADED_STATS = {"ix_task_completed": "873187 9 2 1 1 1", "ix_task_status_due": "60174 1 1",
                "ix_task_inbox_assignee_due": "100000 1031 2 1 1", "ix_task_inbox_role_due": "100000 5000 2 1 1",
                "ix_task_inbox_assignee": "100000 1031 1 1", "ix_task_inbox_role": "100000 5000 1 1",
                "ix_task_instance_status": "1000000 10 5 1 1 1 1 1 1 1", "ix_task_ready": "100000 5000 827 65 1 1",
                "sqlite_autoindex_task_1": "1000000 1"}


def _conditions(raw) -> dict[str, str]:
    """name: the partial condition of the assignee indexes as the database has them."""
    found = {}
    for ix in inspect(raw).get_indexes("task"):
        if ix["name"] in ASSIGNEE:
            options = ix.get("dialect_options", {})
            found[ix["name"]] = str(options.get("postgresql_where", options.get("sqlite_where")))
    return found


def _entries(raw, name: str) -> int:
    """How many rows the index holds (SQLite: the cells of its leaf pages; PostgreSQL: its tuples after ANALYZE)."""
    with raw.begin() as conn:
        if raw.dialect.name == "sqlite":
            return conn.scalar(text("SELECT sum(ncell) FROM dbstat WHERE name = :name AND pagetype = 'leaf'"),
                               {"name": name}) or 0
        conn.exec_driver_sql("ANALYZE task")
        return conn.scalar(text("SELECT reltuples::int FROM pg_class WHERE relname = :name"), {"name": name})


def _answers(approval) -> tuple:
    inboxes = tuple(tuple(t["id"] for t in approval.inbox(who, sort=sort))
                    for who in ("mgr", "mgr2", "rep") for sort in ("created", "due"))
    return inboxes, approval.inbox_counts("mgr"), approval.inbox_counts("mgr2")


def test_the_assignee_indexes_hold_only_claimed_tasks_from_0024_on_and_every_open_task_before(approval, db_url):
    claimed = approval.start("rep", "approval", dict(REQUEST))
    approval.clock.advance(minutes=1)
    approval.start("rep2", "approval", dict(REQUEST))  # its approval stays offered to the sales managers
    task = next(t for t in approval.inbox("mgr") if t["instance_id"] == claimed)
    approval.claim("mgr", task["id"])
    answers = _answers(approval)
    assert [len(ids) for ids in answers[0]] == [2, 2, 1, 1, 0, 0]  # mgr: claimed + offered; mgr2: the offered
    assert answers[1:] == ({"sales_manager": 2}, {"sales_manager": 1})
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        after = _conditions(raw)
        assert all("assignee IS NOT NULL" in where and "ready" in where for where in after.values()), after
        assert [_entries(raw, name) for name in ASSIGNEE] == [1, 1]  # the claimed approval only
        command.downgrade(cfg, "0023")
        assert all("assignee" not in where and "ready" in where for where in _conditions(raw).values())
        assert [_entries(raw, name) for name in ASSIGNEE] == [2, 2]  # both open approvals
        assert _answers(approval) == answers
        command.upgrade(cfg, "0024")
        assert _conditions(raw) == after
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _answers(approval) == answers


def _plan(conn, roles: list[str]) -> list[str]:
    """EXPLAIN QUERY PLAN of the first inbox page of a user holding `roles` (what queries.inbox runs)."""
    statement = queries._inbox_statement(len(roles), False, False, None, True, False)
    compiled = statement.compile(dialect=conn.dialect)
    values = compiled.construct_params({"username": "hq", "limit": 50, "branch_limit": 50,
                                        **{f"role_{i}": r for i, r in enumerate(roles)}})
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                tuple(values[name] for name in compiled.positiontup))
    return [row[3] for row in rows]


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's planner: PostgreSQL's reads the role index, its statistics "
                                         "know how many tasks have no assignee")
def test_sqlite_reads_a_roles_offered_tasks_from_the_role_index_with_a_loaded_databases_statistics(approval, db_url):
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # creates sqlite_stat1; then the loaded database's figures instead
            conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'task'")
            for name, stat in LOADED_STATS.items():
                conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('task', ?, ?)", (name, stat))
            conn.exec_driver_sql("ANALYZE sqlite_schema")  # the planner reads the statistics again
            searches = [line for line in _plan(conn, ["headquarters"]) if line.startswith("SEARCH task ")]
    finally:
        raw.dispose()
    # the claimed tasks by assignee, the offered ones by role: each an ordered range, read until a page is found
    assert searches == ["SEARCH task USING INDEX ix_task_inbox_assignee (assignee=?)",
                        "SEARCH task USING INDEX ix_task_inbox_role (role=?)"], searches
