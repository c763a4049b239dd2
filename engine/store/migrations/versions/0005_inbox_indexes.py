"""indexes for the inbox: open tasks of a role (unclaimed) and of an assignee, in inbox order

The inbox reads one branch per source (tasks assigned to me; unclaimed tasks of each of my roles)
ordered by (created_at, id); with these indexes each branch is an ordered index scan that stops
after a page, instead of a sort of every ready task the user could see (bench/inbox_latency.py).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_inbox_role", "task", ["status", "role", "created_at", "id"])
    op.create_index("ix_task_inbox_assignee", "task", ["status", "assignee", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_task_inbox_assignee", table_name="task")
    op.drop_index("ix_task_inbox_role", table_name="task")
