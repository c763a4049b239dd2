"""instance.sla_late_at, instance.sla_breach_at: when an instance counts as SLA-breached (issue 17, target 6)

The SLA-breached search probed three sources per instance (an escalation in its trail, a task completed late, an
open task past its due time) or read the set of breaches: 100-250 ms at a million instances (bench/read_scale.py).
Every step now keeps the instant in the instance's row (engine/runtime/sla.py), and the search walks the partial
index ix_instance_sla_breach newest first. The columns are filled here for the existing rows in one UPDATE from
the breaches' partial indexes: a copy of engine/runtime/sla.py's `fill_sql` as it stood (a migration keeps
what it ran; tests/test_store__sla_breach_migration.py checks the two agree with the engine's own values).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BREACHING = "sla_breach_at IS NOT NULL"
# an escalation counts from the instant it was recorded: its `at` (YYYY-MM-DDTHH:MM:SS.ffffff+00:00) less a
# microsecond, as each database keeps a UTC time (SQLite: SQLAlchemy's text form, a second back at .000000)
_MICRO = "CAST(substr(at, 21, 6) AS INTEGER)"
_ESCALATION_AT = {
    "postgresql": "(CAST(at AS timestamptz) AT TIME ZONE 'UTC' - interval '1 microsecond')",
    "sqlite": (f"(strftime('%Y-%m-%d %H:%M:%S', substr(at, 1, 19), CASE WHEN {_MICRO} = 0 THEN '-1 seconds' "
               f"ELSE '+0 seconds' END) || '.' || printf('%06d', ({_MICRO} + 999999) % 1000000))"),
}
FILL = (
    "UPDATE instance SET sla_late_at = b.late, sla_breach_at = b.breach FROM ("
    "SELECT instance_id, min(CASE WHEN lasting = 1 THEN at END) AS late, min(at) AS breach FROM ("
    "SELECT instance_id, {escalation_at} AS at, 1 AS lasting FROM audit_event "
    "WHERE kind = 'escalated' AND instance_id IS NOT NULL "
    "UNION ALL SELECT instance_id, due_at, 1 FROM task WHERE status = 'completed' AND completed_at > due_at "
    "UNION ALL SELECT instance_id, due_at, 0 FROM task WHERE status = 'ready' AND due_at IS NOT NULL"
    ") AS breaches GROUP BY instance_id) AS b WHERE instance.id = b.instance_id")


def upgrade() -> None:
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("sla_late_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_breach_at", sa.DateTime(), nullable=True))
    op.execute(FILL.format(escalation_at=_ESCALATION_AT[op.get_bind().dialect.name]))
    op.create_index("ix_instance_sla_breach", "instance", ["started_at", "id", "sla_breach_at"],
                    sqlite_where=sa.text(BREACHING), postgresql_where=sa.text(BREACHING))


def downgrade() -> None:
    op.drop_index("ix_instance_sla_breach", table_name="instance")
    with op.batch_alter_table("instance") as batch:
        batch.drop_column("sla_breach_at")
        batch.drop_column("sla_late_at")
