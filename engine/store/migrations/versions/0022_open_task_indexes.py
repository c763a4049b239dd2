"""the task indexes that a command writes hold only the rows their reads ask for (issue 17, target 2: what a
command writes)

ix_task_inbox_role, _assignee, _role_due and _assignee_due (0005, 0012) held every task row, led by status. The
inbox reads only `status = 'ready'` rows, yet each completion moved a task's four entries from the open range to
the completed one (a delete and an insert, often on other pages) and every completed task stayed in them for
good. Partial on `status = 'ready'` (as ix_task_ready, 0016), they hold the open tasks only: a completion
deletes its entries and inserts none, and the indexes stay the size of the open work. `status` leaves the key:
PostgreSQL drops a condition the index's own implies from the index conditions (see 0016), and the inbox reads
the task row anyway (no covering read needs the column). The queries state the literal status (models.READY), as
a partial index is used only when a query implies its condition.

- ix_task_status_due (0018: status, due_at, instance_id): the overdue scan (engine/notify/events.py), the health
  page and the SLA columns' fill (engine/runtime/sla.py) read only open tasks with a due time, so it holds those
  only, keyed (due_at, instance_id): a task without a deadline never writes it.
- ix_task_completed (0020: status, completed_at, ...): the KPI page's completions in a range, partial on
  `status = 'completed'`, so that a new task no longer writes it. 0020 left it whole because SQLite, without
  statistics (a bulk load runs no ANALYZE), preferred any index with an equality on status to a range of a
  partial one: none is left now. `status` goes last, as in ix_task_ready: SQLite reads the partial condition's
  column to check it, from the index instead of the table. Checked with EXPLAIN at 1,000,000 task rows on both
  databases: the KPI page's count reads it alone, for the whole time and for 30 days.

The downgrade makes the full indexes again.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

READY = "status = 'ready'"
DUE = "status = 'ready' AND due_at IS NOT NULL"
COMPLETED = "status = 'completed'"
# name: the key after the upgrade (before it: with status in front, not partial)
INBOX = {"ix_task_inbox_role": ["role", "created_at", "id"],
         "ix_task_inbox_assignee": ["assignee", "created_at", "id"],
         "ix_task_inbox_role_due": ["role", "due_at", "created_at", "id"],
         "ix_task_inbox_assignee_due": ["assignee", "due_at", "created_at", "id"]}
DUE_KEY = ["due_at", "instance_id"]
COMPLETED_KEY = ["completed_at", "role", "completed_by", "process_key"]  # + status last in the partial one


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    for name, columns in INBOX.items():
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", columns, **_where(READY))
    op.drop_index("ix_task_status_due", table_name="task")
    op.create_index("ix_task_status_due", "task", DUE_KEY, **_where(DUE))
    op.drop_index("ix_task_completed", table_name="task")
    op.create_index("ix_task_completed", "task", [*COMPLETED_KEY, "status"], **_where(COMPLETED))


def downgrade() -> None:
    for name, columns in INBOX.items():
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", ["status", *columns])
    op.drop_index("ix_task_status_due", table_name="task")
    op.create_index("ix_task_status_due", "task", ["status", *DUE_KEY])
    op.drop_index("ix_task_completed", table_name="task")
    op.create_index("ix_task_completed", "task", ["status", *COMPLETED_KEY])
