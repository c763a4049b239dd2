"""an index of kpi_score_day by process and day (issue 17)

The satisfaction section asks, per scored process, the first and last day kpi_score_day holds a row on
(engine/kpi/month_rows.py: a window's end past the last one reads its month row). The table's key leads with the day,
so for a process with no score yet (the survey, in the benchmark's data) both questions scanned every row: ~9 ms a
page at a million instances. `ix_kpi_score_day_process` (process, day, n) answers them with two seeks, and covers the
section's read of a process's days (the key's other columns are in every index of the table on SQLite; with `n`, no
row is looked up: 15 -> 7 ms for 30 days of day rows).

Revision ID: 0035
Revises: 0034
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kpi_score_day_process", "kpi_score_day", ["process", "day", "n"])


def downgrade() -> None:
    op.drop_index("ix_kpi_score_day_process", table_name="kpi_score_day")
