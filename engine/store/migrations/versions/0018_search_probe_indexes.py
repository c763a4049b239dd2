"""indexes that answer the search's per-instance questions from the index alone (issue 17, target 6)

A sales manager's search (he sees the instances he takes part in, access.visible) probes each candidate
instance: does one of its task rows name him, or wait for a role of his? And with the SLA-breached filter:
was one of its tasks completed late, is one overdue? At a million instances a page and a capped total probe
some thousands of instances, each of which read its nine task rows from the table (1 s for a common customer
name, 0.3 s SLA-breached, bench/read_scale.py). No index that every command writes is added: three are widened
instead, and one small partial index is added:

- ix_task_instance_status gains assignee and role: the visibility probe is a range of the index alone;
- ix_task_late_instance: the late completions (0015's ix_task_late) led by instance_id. PostgreSQL drops the
  status condition that the partial index's own condition implies, so it could not position the probe of one
  instance in ix_task_late (status, instance_id) (as 0016 found) and read the instance's completed tasks from
  the table instead. ix_task_late stays: SQLite reads the whole set (the SLA filter when breaches are few)
  from it, and would not from this one. Written only when a task is completed after its due time;
- ix_task_status_due gains instance_id: the overdue tasks' instances from the index alone (the set above);
- ix_instance_customer_name gains started_at: the instances of the names found, newest first, from the index.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LATE = "status = 'completed' AND completed_at > due_at"
_WHERE = {"sqlite_where": sa.text(LATE), "postgresql_where": sa.text(LATE)}
# (name, table, columns before, columns after)
CHANGES = (("ix_task_instance_status", "task", ["instance_id", "status", "completed_by"],
            ["instance_id", "status", "completed_by", "assignee", "role"]),
           ("ix_task_status_due", "task", ["status", "due_at"], ["status", "due_at", "instance_id"]),
           ("ix_instance_customer_name", "instance", ["customer_name", "id"], ["customer_name", "started_at", "id"]))


def upgrade() -> None:
    for name, table, _, after in CHANGES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after)
    op.create_index("ix_task_late_instance", "task", ["instance_id"], **_WHERE)


def downgrade() -> None:
    op.drop_index("ix_task_late_instance", table_name="task")
    for name, table, before, _ in CHANGES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before)
