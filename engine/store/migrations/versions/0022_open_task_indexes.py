"""the inbox's four indexes hold the open tasks only, the overdue scan's the open tasks with a deadline (issue 17,
target 2: what a command writes)

ix_task_inbox_role, _assignee, _role_due and _assignee_due (0005, 0012) held every task row, led by status. The
inbox reads only `status = 'ready'` rows, yet each completion moved a task's four entries from the open range to
the completed one (a delete and an insert, often on other pages) and every completed task stayed in them for
good. Partial on `status = 'ready'` (as ix_task_ready, 0016), they hold the open tasks only: a completion
deletes its entries and inserts none, and the indexes stay the size of the open work. `status` leaves the key:
PostgreSQL drops a condition the index's own implies from the index conditions (see 0016), and the inbox reads
the task row anyway (no covering read needs the column). The inbox states the literal status
(engine/runtime/queries.py), as a partial index is used only when a query implies its condition.

ix_task_status_due (0018: status, due_at, instance_id) goes the same way: the overdue scan (engine/notify/events.py),
the health page and the SLA columns' fill (engine/runtime/sla.py) read only open tasks with a due time, so it
holds those only, keyed (due_at, instance_id): a task without a deadline never writes it.

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
# name: the key after the upgrade (before it: with status in front, not partial)
INBOX = {"ix_task_inbox_role": ["role", "created_at", "id"],
         "ix_task_inbox_assignee": ["assignee", "created_at", "id"],
         "ix_task_inbox_role_due": ["role", "due_at", "created_at", "id"],
         "ix_task_inbox_assignee_due": ["assignee", "due_at", "created_at", "id"]}


DUE = "status = 'ready' AND due_at IS NOT NULL"
DUE_KEY = ["due_at", "instance_id"]


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


COMPLETED = "status = 'completed'"
COMPLETED_KEY = ["completed_at", "role", "completed_by", "process_key"]  # + status last in the partial one


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
