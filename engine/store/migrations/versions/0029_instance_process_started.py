"""the instances of a process in a date range from one index (issue 17, target 6: the KPI page's 30 days)

The KPI page's figures of a process with few instances (accidents, customer opinions, hazards, training:
records.instances) ask for `process_key = ? AND started_at` in the window. With ix_instance_process_key and
ix_instance_started_at apart, SQLite's statistics give a process the average share of the instances (a quarter of
a million at 1,000,000 instances, for a process that has none) and it read the window's whole range of
ix_instance_started_at, every instance of 30 days, to keep the few of the process: 20-27 ms per figure at
100,000 instances. ix_instance_process_started (process_key, started_at) answers the equality and the range in
one seek; it replaces ix_instance_process_key, its prefix, which serves nothing the new one does not.

The downgrade makes ix_instance_process_key again and drops the new index.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_instance_process_started", "instance", ["process_key", "started_at"])
    op.drop_index("ix_instance_process_key", table_name="instance")


def downgrade() -> None:
    op.create_index("ix_instance_process_key", "instance", ["process_key"])
    op.drop_index("ix_instance_process_started", table_name="instance")
