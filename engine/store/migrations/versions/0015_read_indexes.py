"""indexes for the reads at ten million task rows (issue 17, target 6; bench/read_scale.py)

- ix_task_open: the open tasks only (a partial index: a task leaves it when it is done), with what the
  inbox's navigation counts read (role, assignee, separation-of-duties tokens, instance), so that
  counting a role's open tasks is a range of this index, not a visit to each row;
- ix_task_instance_status gains completed_by: the separation-of-duties check ("did this person complete
  an earlier task of this instance?") becomes one index probe instead of a visit to each completed task;
  every query that used (instance_id, status) still can;
- ix_task_late and ix_audit_event_escalated: the two ways an instance breached an SLA that cannot be
  read from an ordered index (a task completed after its due time; an escalation in its trail), each a
  small partial index, so that the SLA-breached search reads the breaching instances, not every one.

The conditions are literals: a partial index is used when the query states the same condition
(engine/runtime/queries.py, engine/runtime/search.py).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

READY = "status = 'ready'"
LATE = "status = 'completed' AND completed_at > due_at"
ESCALATED = "kind = 'escalated'"


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_index("ix_task_open", "task", ["status", "role", "assignee", "sod", "instance_id"], **_where(READY))
    op.drop_index("ix_task_instance_status", table_name="task")
    op.create_index("ix_task_instance_status", "task", ["instance_id", "status", "completed_by"])
    op.create_index("ix_task_late", "task", ["status", "instance_id"], **_where(LATE))
    op.create_index("ix_audit_event_escalated", "audit_event", ["instance_id"], **_where(ESCALATED))


def downgrade() -> None:
    op.drop_index("ix_audit_event_escalated", table_name="audit_event")
    op.drop_index("ix_task_late", table_name="task")
    op.drop_index("ix_task_instance_status", table_name="task")
    op.create_index("ix_task_instance_status", "task", ["instance_id", "status"])
    op.drop_index("ix_task_open", table_name="task")
