"""the KPI page's hour counts per dekad: kpi_hours_dekad (issue 17)

Phase 1 of the page's median and p90 (engine/kpi/quantiles.py) read a partial month at a window's edge as its days
of kpi_hours_day: 30 days ending on 18 December read 19 to 30 November, ~17,000 count rows a measure at a million
instances (a person's cases of one day fall in some ten buckets: a row each), about half of the page's time.
`kpi_hours_dekad` holds the same counts per dekad (days 1-10, 11-20, 21 to the month's end, named by the first day:
engine/kpi/dekads.py), about two days' rows each: the partial month is read as whole dekads and a few days. Kept by
the same triggers on kpi_case as the month, day and total counts (three more upserts a done case); the upgrade counts
it from kpi_hours_day; the downgrade puts migration 0031's triggers back and drops it.

Revision ID: 0036
Revises: 0035
"""

import importlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

_0028 = importlib.import_module("engine.store.migrations.versions.0028_kpi_hours")  # keys, days, trigger names
_0031 = importlib.import_module("engine.store.migrations.versions.0031_kpi_hours_total")  # its counts and triggers
_KEY = "measure, dekad, dim, process, label, bucket"


def _sqlite_count(r: str, n: int, bucket_sql: _0031.Bucket | None = None) -> str:
    from engine.kpi import dekads
    bucket_sql = bucket_sql or _0031._buckets()
    dekad = " ".join(  # the day found once per upsert (a seek in kpi_day), as the day and month counts find it
        f"INSERT INTO kpi_hours_dekad ({_KEY}, n) SELECT {r}.measure, {dekads.sql('x.d')}, '{dim}', {r}.process, "
        f"{key.format(r=r)}, {bucket_sql(dim, f'{r}.hours', 'sqlite')}, {n} FROM (SELECT {_0028._sqlite_day(r)} "
        f"AS d) x WHERE NOT {r}.unresolved ON CONFLICT ({_KEY}) DO UPDATE SET n = n + excluded.n;"
        for dim, key in _0028.DIMS.items())
    return f"{_0031._sqlite_count(r, n, bucket_sql)} {dekad}"


def _pg_count(r: str, n: int, bucket_sql: _0031.Bucket | None = None) -> str:
    from engine.kpi import dekads
    bucket_sql = bucket_sql or _0031._buckets()
    dekad = " ".join(
        f"INSERT INTO kpi_hours_dekad AS k ({_KEY}, n) SELECT {r}.measure, {dekads.sql('x.d')}, '{dim}', "
        f"{r}.process, {key.format(r=r)}, {bucket_sql(dim, f'{r}.hours', 'postgresql')}, {n} "
        f"FROM (SELECT kpi_day_of({r}.started_at) AS d) x "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = k.n + excluded.n;" for dim, key in _0028.DIMS.items())
    return f"IF NOT {r}.unresolved THEN {dekad} END IF; {_0031._pg_count(r, n, bucket_sql)}"


def upgrade() -> None:
    key = [sa.Column(name, sa.String(length), primary_key=True)
           for name, length in (("measure", 64), ("dekad", 10), ("dim", 8), ("process", 128), ("label", 64))]
    op.create_table("kpi_hours_dekad", *key, sa.Column("bucket", sa.Integer, primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), sqlite_with_rowid=False)
    dialect = op.get_bind().dialect.name
    _0031._replace_triggers(_0031._triggers(dialect, _sqlite_count, _pg_count))  # 0031's, counting the dekads too
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    quantiles.count_dekads(Session(bind=op.get_bind()))
    if dialect == "postgresql":
        op.execute("ANALYZE kpi_hours_dekad")


def downgrade() -> None:
    _0031._replace_triggers(_0031._triggers(op.get_bind().dialect.name))
    op.drop_table("kpi_hours_dekad")
