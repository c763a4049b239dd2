"""the open tasks' index without the status column in front (issue 17, target 6: the inbox counts)

ix_task_open (0015) is partial on `status = 'ready'` and led by that column. PostgreSQL drops a condition that
the index's own condition implies from the index conditions, so a query naming (role, assignee) could not
position itself in it and read the whole index for each source of the navigation's counts (measured: 151
index pages for an empty source at 20,000 open tasks). ix_task_ready holds the same open tasks led by
role, assignee: each source is a range on both databases, and the roles of the open tasks can be read one
index seek each. `status` stays as the last column so that SQLite reads the index alone (it checks
the partial condition's column, although it never differs).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

READY = "status = 'ready'"


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    op.create_index("ix_task_ready", "task", ["role", "assignee", "sod", "instance_id", "status"], **_where(READY))
    op.drop_index("ix_task_open", table_name="task")


def downgrade() -> None:
    op.create_index("ix_task_open", "task", ["status", "role", "assignee", "sod", "instance_id"], **_where(READY))
    op.drop_index("ix_task_ready", table_name="task")
