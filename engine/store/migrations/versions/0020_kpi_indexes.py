"""indexes that answer the KPI page's reads from the index alone (issue 17, target 6: the KPI page)

The KPI page (engine/kpi) measured at 100,000 instances spent most of its time in two kinds of read:

- per instance of the range, the task rows of the measured steps (the first completion reaching an end, the
  first open row, the last completion of a case closed unresolved): ix_task_instance_status found the
  instance's rows but the step (bpmn_id), the times and the row id were read from the table, row by row. It
  gains bpmn_id, completed_at, created_at and id: the whole read is a range of the index. No index that every
  command writes is added: this one is widened, as 0015 and 0018 did;
- the user tasks completed in the range per role and person (the volume section): no index led by the
  completion time, so every completed task row of the database was read for a 30-day range too.
  ix_task_completed (status, completed_at, with what the count groups by) makes it a range of the index. Not
  partial on `status = 'completed'` (which would spare the write when a task is created): without statistics
  SQLite prefers any index with an equality on status to a range of a partial one, and SQLite has no hint
  SQLAlchemy can state.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BEFORE = ["instance_id", "status", "completed_by", "assignee", "role"]
AFTER = [*BEFORE, "bpmn_id", "completed_at", "created_at", "id"]


def upgrade() -> None:
    op.drop_index("ix_task_instance_status", table_name="task")
    op.create_index("ix_task_instance_status", "task", AFTER)
    op.create_index("ix_task_completed", "task", ["status", "completed_at", "role", "completed_by", "process_key"])


def downgrade() -> None:
    op.drop_index("ix_task_completed", table_name="task")
    op.drop_index("ix_task_instance_status", table_name="task")
    op.create_index("ix_task_instance_status", "task", BEFORE)
