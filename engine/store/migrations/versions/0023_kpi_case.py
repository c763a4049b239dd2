"""the KPI page's decided cases, one row each (issue 17, target 6: the KPI page at a million instances)

The KPI page measured every interval of every instance in Python, one row per instance and interval read and
summarized there: ~40 s at a million instances. `kpi_case` holds the decided cases (done, or ended unresolved),
kept by the steps (engine/kpi/case_rows.py); the page groups and ranks them in SQL (engine/kpi/times.py) and counts
the open cases live. ix_kpi_case_window serves the page's window (measure, registration) from the index alone.

The upgrade fills the table from the instances, tasks and trail with the page's own rule (case_rows.rebuild), in
the migration's transaction, so an upgraded database shows the same page; at a million instances this takes about
as long as one page took before. The downgrade drops it.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from engine.store.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

WINDOW = ["measure", "started_at", "process", "role", "person", "unresolved", "hours"]


def upgrade() -> None:
    op.create_table(
        "kpi_case",
        sa.Column("measure", sa.String(64), primary_key=True),
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instance.id"), primary_key=True),
        sa.Column("process", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("person", sa.String(64)),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("unresolved", sa.Boolean, nullable=False),
    )
    op.create_index("ix_kpi_case_window", "kpi_case", WINDOW)
    from engine.kpi import case_rows  # the engine's own rule (imported here: the models are the head's)
    case_rows.rebuild(Session(bind=op.get_bind()))
    if op.get_bind().dialect.name == "postgresql":  # the page's plans need to know how many rows it holds now
        op.execute("ANALYZE kpi_case")


def downgrade() -> None:
    op.drop_index("ix_kpi_case_window", table_name="kpi_case")
    op.drop_table("kpi_case")
