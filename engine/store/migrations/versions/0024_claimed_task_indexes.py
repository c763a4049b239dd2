"""the inbox's indexes by assignee hold the claimed open tasks only (issue 17, target 6: the first inbox page)

ix_task_inbox_assignee and _assignee_due (0022) held every open task, and three in four have no assignee (offered
to a role). SQLite, asked for a role's offered tasks (`assignee IS NULL AND role = ?`, queries.inbox), chose
ix_task_inbox_assignee over ix_task_inbox_role: its statistics give ~1,000 rows per assignee (an average over the
people and one NULL) against ~5,000 per role, and a NULL counts as an equality. So the branch read every offered
task in creation order and kept those of the role: ~50 / share rows for a page of 50, ~2,600 table rows for the
rare headquarters role (1.9 % of the tasks) against ~330 for a sales manager (15 %); 5.7 ms at 10,000,000 task
rows. Partial on `assignee IS NOT NULL` as well, these indexes cannot serve `assignee IS NULL`, and the branch
reads ix_task_inbox_role: ~50 / (1 - claimed share) rows for any role. A claimed task's source (`assignee = ?`)
implies the condition on both databases (a comparison is never true for NULL), so it keeps its index, a quarter
of the size. A task offered to a role no longer writes these two indexes.

The downgrade makes them as 0022 did.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

READY = "status = 'ready'"
CLAIMED = "status = 'ready' AND assignee IS NOT NULL"
INDEXES = {"ix_task_inbox_assignee": ["assignee", "created_at", "id"],
           "ix_task_inbox_assignee_due": ["assignee", "due_at", "created_at", "id"]}


def _where(condition: str) -> dict:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # 0023's rebuild (engine/kpi) left a server-side cursor over `task` open when it stopped reading a stream
        # early (measures._streamed closes it now); upgraded in the same transaction, PostgreSQL refuses to change
        # the table's indexes while one is open ("being used by active queries in this session"). Kept as a guard:
        # nothing reads a cursor left open by an earlier migration
        op.execute("CLOSE ALL")
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", columns, **_where(CLAIMED))


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", columns, **_where(READY))
