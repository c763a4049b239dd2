"""the KPI page's hour counts in buckets per dim: wider ones per role and person, per process bounded (issue 17)

Migration 0028 counted the done cases per month (and day) and bucket ceil(hours) for every dim. With hours spread
as service times are, a person's month of cases took some 80 whole-hour rows, and phase 1 of the page's median and
p90 (engine/kpi/quantiles.py) summed ~134,000 such rows of a year's ~180,000 at a million instances. Now the
triggers count by quantiles.bucket_sql: per role and per person the wider quantiles.LADDER (0.25, 0.5, 1, 1.5, 2,
3, 4, 6, ... 8192 hours: about 20 rows a person and month), per process whole hours up to a week and the ladder past
it (so a month of a process has at most ~180 rows: quantiles.cheaper bounds phase 1's rows from the counts). The
upgrade replaces the triggers and counts the rows again; the downgrade puts 0028's triggers back and counts in
whole hours again.

Revision ID: 0030
Revises: 0029
"""

import importlib
from collections.abc import Callable

from alembic import op
from sqlalchemy.orm import Session

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_0028 = importlib.import_module("engine.store.migrations.versions.0028_kpi_hours")  # its keys, days and triggers
Bucket = Callable[[str, str, str], str]  # (dim, hours column, dialect) -> the SQL bucket


def _sqlite_count(r: str, n: int, bucket: Bucket) -> str:
    return " ".join(
        f"INSERT INTO {table} (measure, {period}, dim, process, label, bucket, n) SELECT {r}.measure, "
        f"substr({_0028._sqlite_day(r)}, 1, {length}), '{dim}', {r}.process, {key.format(r=r)}, "
        f"{bucket(dim, f'{r}.hours', 'sqlite')}, {n} WHERE NOT {r}.unresolved "
        f"ON CONFLICT (measure, {period}, dim, process, label, bucket) DO UPDATE SET n = n + excluded.n;"
        for table, (period, length) in _0028.TABLES.items() for dim, key in _0028.DIMS.items())


def _pg_count(r: str, n: int, bucket: Bucket) -> str:
    return f"IF NOT {r}.unresolved THEN " + " ".join(
        f"INSERT INTO {table} AS k (measure, {period}, dim, process, label, bucket, n) VALUES ({r}.measure, "
        f"substr(kpi_day_of({r}.started_at), 1, {length}), '{dim}', {r}.process, {key.format(r=r)}, "
        f"{bucket(dim, f'{r}.hours', 'postgresql')}, {n}) "
        f"ON CONFLICT (measure, {period}, dim, process, label, bucket) DO UPDATE SET n = k.n + excluded.n;"
        for table, (period, length) in _0028.TABLES.items() for dim, key in _0028.DIMS.items()) + " END IF;"


def _triggers(dialect: str, bucket: Bucket) -> list[str]:
    """0028's triggers (the same events and conditions) counting in `bucket`'s buckets."""
    keys = ", ".join(_0028.KEYS)
    if dialect == "postgresql":
        call = "FOR EACH ROW WHEN ({}) EXECUTE FUNCTION kpi_hours_rollup()"
        return [
            "CREATE OR REPLACE FUNCTION kpi_hours_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_pg_count('OLD', -1, bucket)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_pg_count('NEW', 1, bucket)} END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case {call.format('NOT NEW.unresolved')}",
            f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
            + call.format(f"(NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS DISTINCT FROM')}"),
            f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case {call.format('NOT OLD.unresolved')}",
        ]
    return [
        f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case WHEN NOT NEW.unresolved "
        f"BEGIN {_sqlite_count('NEW', 1, bucket)} END",
        f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
        f"WHEN (NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS NOT')} "
        f"BEGIN {_sqlite_count('OLD', -1, bucket)} {_sqlite_count('NEW', 1, bucket)} END",
        f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case WHEN NOT OLD.unresolved "
        f"BEGIN {_sqlite_count('OLD', -1, bucket)} END",
    ]


def _recount(bucket: Bucket) -> None:
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    dialect = op.get_bind().dialect.name
    for name in _0028.TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_case" if dialect == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    for statement in _triggers(dialect, bucket):  # (PostgreSQL: the function replaced in place)
        op.execute(statement)
    quantiles.rebuild(Session(bind=op.get_bind()), bucket)
    if dialect == "postgresql":
        op.execute("ANALYZE kpi_hours_month, kpi_hours_day")


def upgrade() -> None:
    from engine.kpi.hour_buckets import bucket_sql_0030  # this revision's buckets (migration 0038 changed the head's)
    _recount(bucket_sql_0030)


def downgrade() -> None:
    from engine.kpi import quantiles
    _recount(quantiles.hourly_sql)
