"""the KPI page's hour counts in finer buckets per role and for the first hours per process (issue 17)

Phase 2 of the page's median and p90 (engine/kpi/rank_reads.py) steps from a bucket's nearer end to the rank inside
it, in an index ordered by hours: its cost is the cases of the bucket it steps over. At a million instances a role
holds some 25,000 cases a measure, and migration 0030's LADDER buckets near a role's median and p90 held 10,000 to
16,000 of them (~65,000 index entries stepped a page for the roles alone); the whole hour 2-3 h of the process counts
held ~60,000 first responses (~42,000 entries stepped for the overall, process and month rows). The role counts now
split each doubling of hours in eight (hour_buckets.EIGHTHS, 121 buckets), the process counts the first 4 hours in
quarters (hour_buckets.PROCESS); the person counts keep LADDER (a person holds a twentieth of a role's cases: finer
buckets would cost phase 1 more rows than they save steps). On PostgreSQL: the upgrade replaces the triggers (0036's,
counting in the head's buckets) and counts the month, day, dekad and total rows again; SQLite keeps 0030's buckets
(its phase 2 costs per read, hardly per entry stepped: hour_buckets.EDGES_0030). Both mark their counts' buckets in
`kpi_rollup_state.hour_buckets` (0038 or 0030: the page reads them only when they are the code's, so code and
counts never disagree on what a bucket holds); the downgrade puts 0030's buckets back and drops the mark.

Revision ID: 0038
Revises: 0037
"""

import importlib
from functools import partial

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

_0031 = importlib.import_module("engine.store.migrations.versions.0031_kpi_hours_total")  # triggers
_0036 = importlib.import_module("engine.store.migrations.versions.0036_kpi_hours_dekad")  # its counts


def _recount(bucket: _0031.Bucket) -> None:
    """0036's triggers counting in `bucket`'s buckets, and every hour count counted again in them."""
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    dialect = op.get_bind().dialect.name
    _0031._replace_triggers(_0031._triggers(dialect, partial(_0036._sqlite_count, bucket_sql=bucket),
                                            partial(_0036._pg_count, bucket_sql=bucket)))
    quantiles.rebuild(Session(bind=op.get_bind()), bucket)
    if dialect == "postgresql":
        op.execute("ANALYZE kpi_hours_month, kpi_hours_day, kpi_hours_dekad, kpi_hours_total")


def upgrade() -> None:
    from engine.kpi.hour_buckets import EDGES, bucket_sql, edges_for, mark_for
    dialect = op.get_bind().dialect.name
    op.add_column("kpi_rollup_state", sa.Column("hour_buckets", sa.String(4), nullable=False,
                                                server_default=mark_for(dialect)))
    if edges_for(dialect) is EDGES:  # (SQLite keeps 0030's buckets: hour_buckets.EDGES_0030 says why)
        _recount(partial(bucket_sql, edges=EDGES))


def downgrade() -> None:
    from engine.kpi.hour_buckets import EDGES, bucket_sql_0030, edges_for
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("kpi_rollup_state") as table:  # (SQLite: the table copied without it)
        table.drop_column("hour_buckets")
    if edges_for(dialect) is EDGES:
        _recount(bucket_sql_0030)
