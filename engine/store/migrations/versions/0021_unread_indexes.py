"""drop the indexes no query reads any more (issue 17, targets 1 and 2: what a command writes)

Every command that changes a task's status rewrites its entries in most of the task table's indexes, and
their pages are the largest part of what a command commits (the WAL on SQLite). Six are read by nothing now:

- ix_task_role_status, ix_task_assignee_status (0001): every query that names a role or an assignee also
  names the status (the inbox and its counts: ix_task_inbox_*, ix_task_ready) or the instance
  (ix_task_instance_status, which holds assignee and role since 0018);
- ix_task_late, ix_task_late_instance (0015, 0018) and ix_audit_event_escalated (0015): the SLA-breached
  search's probes, which read instance.sla_breach_at since 0019. What still asks for these rows (one
  instance's refresh, engine/runtime/sla.py) finds them by ix_task_instance_status and ix_audit_event_instance_id.

ix_task_status_due stays: the worker's overdue scan (engine/notify/events.py) and the health page read it.
The downgrade creates the six again.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

LATE = "status = 'completed' AND completed_at > due_at"
ESCALATED = "kind = 'escalated'"
# (name, table, columns, partial condition or None), as the migrations that made them left them
DROPPED = (("ix_task_role_status", "task", ["role", "status"], None),
           ("ix_task_assignee_status", "task", ["assignee", "status"], None),
           ("ix_task_late", "task", ["status", "instance_id"], LATE),
           ("ix_task_late_instance", "task", ["instance_id"], LATE),
           ("ix_audit_event_escalated", "audit_event", ["instance_id"], ESCALATED),
           ("ix_notification_instance_id", "notification", ["instance_id"], None))


def upgrade() -> None:
    for name, table, _, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns, where in DROPPED:
        partial = {} if where is None else {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}
        op.create_index(name, table, columns, **partial)
