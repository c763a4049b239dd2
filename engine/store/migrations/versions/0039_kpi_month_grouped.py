"""indexes in the order the KPI page groups the month counts, on SQLite (issue 17)

The "everything" window sums the month rows of three rollups per month and per their other keys at once
(engine/kpi/month_rows.summed: the decided cases of kpi_case_month per process, role and person, the completed tasks
of kpi_completed_month per role and person, the satisfaction scores of kpi_score_month per month and value and per
role, person and value). SQLite has no hash aggregate: each grouping not in a key's order sorted its ~2,300-5,600
rows in a temporary B-tree, ~1-1.5 ms apiece at a million instances. With a covering index in each grouping's order
(its keys, the filter's columns, the counts) the sums stream from it. PostgreSQL hashes these few thousand rows
(under a millisecond), and an index holding the counts would cost the month rows their HOT updates (each completion
updates one): it gets none. The downgrade drops them.

Revision ID: 0039
Revises: 0038
"""

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

# name -> (table, columns): a grouping's keys (the month table's key serves the other), the filter's, the counts
INDEXES = {
    "ix_kpi_case_month_keys": ("kpi_case_month", ["measure", "process", "role", "person", "done", "within",
                                                  "unresolved"]),
    "ix_kpi_completed_month_keys": ("kpi_completed_month", ["role", "person", "process_key", "n"]),
    "ix_kpi_score_month_month": ("kpi_score_month", ["process", "month", "value", "n"]),
    "ix_kpi_score_month_keys": ("kpi_score_month", ["process", "role", "person", "value", "n"]),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, (table, columns) in INDEXES.items():
            op.create_index(name, table, columns)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, (table, _) in INDEXES.items():
            op.drop_index(name, table_name=table)
