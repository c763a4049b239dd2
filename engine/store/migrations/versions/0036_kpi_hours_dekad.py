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


def _sqlite_count(r: str, n: int) -> str:
    from engine.kpi import dekads
    from engine.kpi.quantiles import bucket_sql
    dekad = " ".join(  # the day found once per upsert (a seek in kpi_day), as the day and month counts find it
        f"INSERT INTO kpi_hours_dekad ({_KEY}, n) SELECT {r}.measure, {dekads.sql('x.d')}, '{dim}', {r}.process, "
        f"{key.format(r=r)}, {bucket_sql(dim, f'{r}.hours', 'sqlite')}, {n} FROM (SELECT {_0028._sqlite_day(r)} "
        f"AS d) x WHERE NOT {r}.unresolved ON CONFLICT ({_KEY}) DO UPDATE SET n = n + excluded.n;"
        for dim, key in _0028.DIMS.items())
    return f"{_0031._sqlite_count(r, n)} {dekad}"


def _pg_count(r: str, n: int) -> str:
    from engine.kpi import dekads
    from engine.kpi.quantiles import bucket_sql
    dekad = " ".join(
        f"INSERT INTO kpi_hours_dekad AS k ({_KEY}, n) SELECT {r}.measure, {dekads.sql('x.d')}, '{dim}', "
        f"{r}.process, {key.format(r=r)}, {bucket_sql(dim, f'{r}.hours', 'postgresql')}, {n} "
        f"FROM (SELECT kpi_day_of({r}.started_at) AS d) x "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = k.n + excluded.n;" for dim, key in _0028.DIMS.items())
    return f"IF NOT {r}.unresolved THEN {dekad} END IF; {_0031._pg_count(r, n)}"


def _triggers(dialect: str) -> list[str]:
    """0031's triggers (the same events and conditions), counting the dekads too."""
    keys = ", ".join(_0028.KEYS)
    if dialect == "postgresql":
        call = "FOR EACH ROW WHEN ({}) EXECUTE FUNCTION kpi_hours_rollup()"
        return [
            "CREATE OR REPLACE FUNCTION kpi_hours_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_pg_count('OLD', -1)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_pg_count('NEW', 1)} END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case {call.format('NOT NEW.unresolved')}",
            f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
            + call.format(f"(NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS DISTINCT FROM')}"),
            f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case {call.format('NOT OLD.unresolved')}",
        ]
    return [
        f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case WHEN NOT NEW.unresolved "
        f"BEGIN {_sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {keys} ON kpi_case "
        f"WHEN (NOT OLD.unresolved OR NOT NEW.unresolved) AND {_0028._changed('IS NOT')} "
        f"BEGIN {_sqlite_count('OLD', -1)} {_sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case WHEN NOT OLD.unresolved "
        f"BEGIN {_sqlite_count('OLD', -1)} END",
    ]


def upgrade() -> None:
    key = [sa.Column(name, sa.String(length), primary_key=True)
           for name, length in (("measure", 64), ("dekad", 10), ("dim", 8), ("process", 128), ("label", 64))]
    op.create_table("kpi_hours_dekad", *key, sa.Column("bucket", sa.Integer, primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), sqlite_with_rowid=False)
    dialect = op.get_bind().dialect.name
    _0031._replace_triggers(_triggers(dialect))
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    quantiles.count_dekads(Session(bind=op.get_bind()))
    if dialect == "postgresql":
        op.execute("ANALYZE kpi_hours_dekad")


def downgrade() -> None:
    _0031._replace_triggers(_0031._triggers(op.get_bind().dialect.name))
    op.drop_table("kpi_hours_dekad")
