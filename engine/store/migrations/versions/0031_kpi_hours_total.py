"""the KPI page's hour counts summed over every month: kpi_hours_total (issue 17)

Phase 1 of the page's median and p90 (engine/kpi/quantiles.py) summed a range's whole months from kpi_hours_month:
for everything (the page's default) at a million instances some 40,000 rows a measure (a year of months, each a
row per process, role or person and bucket), the largest part of phase 1. `kpi_hours_total` holds the same counts
summed over every month (measure, dim, process, label, bucket): a range of many whole months reads it less the few
months outside the range (everything: none). Kept by the same triggers on kpi_case as the month and day counts,
in the same buckets (0030's: hour_buckets.bucket_sql_0030); the upgrade replaces the triggers and counts the table; the downgrade
puts migration 0030's triggers back and drops it.

Revision ID: 0031
Revises: 0030
"""

import importlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_0028 = importlib.import_module("engine.store.migrations.versions.0028_kpi_hours")  # keys, days, trigger names
_0030 = importlib.import_module("engine.store.migrations.versions.0030_kpi_hours_buckets")  # month and day counts
_KEY = "measure, dim, process, label, bucket"
Count = Callable[[str, int], str]  # (OLD or NEW, +1 or -1) -> the trigger's upserts for that row
Bucket = Callable[[str, str, str], str]  # (dim, hours column, dialect) -> the SQL bucket


def _buckets() -> Bucket:
    """This revision's buckets (migration 0030's; 0038 changed the head's)."""
    from engine.kpi.hour_buckets import bucket_sql_0030
    return bucket_sql_0030


def _sqlite_count(r: str, n: int, bucket_sql: Bucket | None = None) -> str:
    bucket_sql = bucket_sql or _buckets()
    total = " ".join(
        f"INSERT INTO kpi_hours_total ({_KEY}, n) SELECT {r}.measure, '{dim}', {r}.process, {key.format(r=r)}, "
        f"{bucket_sql(dim, f'{r}.hours', 'sqlite')}, {n} WHERE NOT {r}.unresolved "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = n + excluded.n;" for dim, key in _0028.DIMS.items())
    return f"{_0030._sqlite_count(r, n, bucket_sql)} {total}"


def _pg_count(r: str, n: int, bucket_sql: Bucket | None = None) -> str:
    bucket_sql = bucket_sql or _buckets()
    total = " ".join(
        f"INSERT INTO kpi_hours_total AS k ({_KEY}, n) VALUES ({r}.measure, '{dim}', {r}.process, "
        f"{key.format(r=r)}, {bucket_sql(dim, f'{r}.hours', 'postgresql')}, {n}) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = k.n + excluded.n;" for dim, key in _0028.DIMS.items())
    return f"IF NOT {r}.unresolved THEN {total} END IF; {_0030._pg_count(r, n, bucket_sql)}"


def _triggers(dialect: str, sqlite_count: Count | None = None, pg_count: Count | None = None) -> list[str]:
    """0030's triggers (the same events and conditions), counting the totals too; a later revision's with its own
    counts (`sqlite_count`, `pg_count`: the body for a row and its sign)."""
    sqlite_count, pg_count = sqlite_count or _sqlite_count, pg_count or _pg_count
    keys = ", ".join(_0028.KEYS)
    if dialect == "postgresql":
        call = "FOR EACH ROW WHEN ({}) EXECUTE FUNCTION kpi_hours_rollup()"
        return [
            "CREATE OR REPLACE FUNCTION kpi_hours_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {pg_count('OLD', -1)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {pg_count('NEW', 1)} END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case {call.format('NOT NEW.unresolved')}",
            f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
            + call.format(f"(NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS DISTINCT FROM')}"),
            f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case {call.format('NOT OLD.unresolved')}",
        ]
    return [
        f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case WHEN NOT NEW.unresolved "
        f"BEGIN {sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
        f"WHEN (NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS NOT')} "
        f"BEGIN {sqlite_count('OLD', -1)} {sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case WHEN NOT OLD.unresolved "
        f"BEGIN {sqlite_count('OLD', -1)} END",
    ]


def _replace_triggers(statements: list[str]) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in _0028.TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_case" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    for statement in statements:  # (PostgreSQL: the function replaced in place)
        op.execute(statement)


def upgrade() -> None:
    key = [sa.Column(name, sa.String(length), primary_key=True)
           for name, length in (("measure", 64), ("dim", 8), ("process", 128), ("label", 64))]
    op.create_table("kpi_hours_total", *key, sa.Column("bucket", sa.Integer, primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), sqlite_with_rowid=False)
    dialect = op.get_bind().dialect.name
    _replace_triggers(_triggers(dialect))
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    quantiles.count_totals(Session(bind=op.get_bind()), _buckets())
    if dialect == "postgresql":
        op.execute("ANALYZE kpi_hours_total")


def downgrade() -> None:
    _replace_triggers(_0030._triggers(op.get_bind().dialect.name, _buckets()))
    op.drop_table("kpi_hours_total")
