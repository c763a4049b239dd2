"""indexes of a month's done hours per key of the KPI page's breakdowns (issue 17)

Phase 2 of the page's median and p90 (engine/kpi/rank_reads.py) steps to a rank inside a bucket of hours in the
row's index ordered by hours. For a window of a month or two, the overall, process, role and person rows' indexes
hold every month's cases of the bucket, so a read stepped over about twelve times the cases it counted (30 days at a
million instances: ~12,000 wanted steps a page, ~150,000 index rows). With the month after the key, a read takes
each of the window's months' hours in its own range of the index and the database merges them in order
(a compound SELECT's ORDER BY on SQLite, a Merge Append on PostgreSQL), stepping over the window's months alone.
The indexes hold the registration and the process too, so the window's bounds are checked in the index (the month
index of migration 0034, which lacked them, looked up every row a partial month's read stepped over: it is replaced).
The downgrade puts 0034's index back and drops the others.

Revision ID: 0037
Revises: 0036
"""

from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

INDEXES = {"ix_kpi_case_month_hours": ["measure", "unresolved", "month", "hours", "started_at", "process"],
           "ix_kpi_case_process_month": ["measure", "unresolved", "process", "month", "hours", "started_at"],
           "ix_kpi_case_role_month": ["measure", "unresolved", "role", "month", "hours", "started_at", "process"],
           "ix_kpi_case_person_month": ["measure", "unresolved", "person", "month", "hours", "started_at", "process"]}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "kpi_case", columns)
    op.drop_index("ix_kpi_case_by_month", table_name="kpi_case")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_case")


def downgrade() -> None:
    op.create_index("ix_kpi_case_by_month", "kpi_case", ["measure", "unresolved", "month", "hours"])
    for name in INDEXES:
        op.drop_index(name, table_name="kpi_case")
