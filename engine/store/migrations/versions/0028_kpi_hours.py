"""the KPI page's median and p90 read at their ranks: done cases per month and hour bucket, indexes on hours (issue 17)

The page's median and p90 per row (overall, process, month, role, person) came from one sorted read of every done
case of the window into Python: ~1 s per measure at a million instances. Now (engine/kpi/quantiles.py):

- `kpi_hours_month` counts the done cases (kpi_case rows that are not unresolved) per measure, company month of
  registration, process and hour bucket ceil(hours) (bucket b: b-1 < hours <= b), three times: per process alone
  (dim 'process', label ''), per role (dim 'role') and per person (dim 'person'; label '' for none), so the bucket that
  holds a wanted rank of a row of each breakdown and the rank inside it are known from a few rows per month, each
  breakdown from its own rows (one row per case and breakdown, not per combination of them); `kpi_hours_day` counts
  the same per company day, for the days of a window's partial months at its edges;
- four indexes on kpi_case ordered by hours (overall and month; per process, role, person) let the page step to that
  rank inside the bucket.

Triggers on kpi_case keep the counts in the writing transaction (the steps write kpi_case through case_rows: no
statement of their own; rows written around the engine are counted too): an insert adds a done row, a delete takes
it off, an update of any column the count depends on takes the old row's count off and adds the new one's. The
day of a registration: the `kpi_day` row it falls in (migration 0025), '0000-00-00' outside the listed days (the
page then reads every done case, as before); its month, the day's YYYY-MM. The upgrade counts the existing rows
(quantiles.rebuild); the downgrade drops the triggers, the tables and the indexes.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

KEYS = ("measure", "started_at", "process", "role", "person", "hours", "unresolved")  # what a count depends on
TRIGGERS = ("kpi_hours_insert", "kpi_hours_update", "kpi_hours_delete")
INDEXES = {"ix_kpi_case_hours": ["measure", "unresolved", "hours", "started_at", "process"],
           "ix_kpi_case_process_hours": ["measure", "unresolved", "process", "hours", "started_at"],
           "ix_kpi_case_role_hours": ["measure", "unresolved", "role", "hours", "started_at", "process"],
           "ix_kpi_case_person_hours": ["measure", "unresolved", "person", "hours", "started_at", "process"]}
TABLES = {"kpi_hours_month": ("month", 7), "kpi_hours_day": ("day", 10)}  # table -> its period column, its length
DIMS = {"process": "''", "role": "COALESCE({r}.role, '')", "person": "COALESCE({r}.person, '')"}  # dim -> label


def _changed(differ: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in KEYS) + ")"


# -- SQLite: each trigger body is its own upserts (SELECT ... WHERE before ON CONFLICT, as in 0025)

def _sqlite_day(r: str) -> str:
    at = f"{r}.started_at"
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {at} THEN d.day END FROM kpi_day d "
            f"WHERE d.starts_at <= {at} ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")


def _sqlite_bucket(r: str) -> str:
    return f"(CAST({r}.hours AS INTEGER) + ({r}.hours > CAST({r}.hours AS INTEGER)))"  # ceil: SQLite may lack it


def _sqlite_count(r: str, n: int) -> str:
    return " ".join(
        f"INSERT INTO {table} (measure, {period}, dim, process, label, bucket, n) SELECT {r}.measure, "
        f"substr({_sqlite_day(r)}, 1, {length}), '{dim}', {r}.process, {key.format(r=r)}, {_sqlite_bucket(r)}, {n} "
        f"WHERE NOT {r}.unresolved "
        f"ON CONFLICT (measure, {period}, dim, process, label, bucket) DO UPDATE SET n = n + excluded.n;"
        for table, (period, length) in TABLES.items() for dim, key in DIMS.items())


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case WHEN NOT NEW.unresolved "
        f"BEGIN {_sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {', '.join(KEYS)} ON kpi_case "
        f"WHEN (NOT OLD.unresolved OR NOT NEW.unresolved) AND {_changed('IS NOT')} "
        f"BEGIN {_sqlite_count('OLD', -1)} {_sqlite_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case WHEN NOT OLD.unresolved "
        f"BEGIN {_sqlite_count('OLD', -1)} END",
    ]


# -- PostgreSQL: one function (kpi_day_of is migration 0025's)

def _pg_count(r: str, n: int) -> str:
    return f"IF NOT {r}.unresolved THEN " + " ".join(
        f"INSERT INTO {table} AS k (measure, {period}, dim, process, label, bucket, n) VALUES ({r}.measure, "
        f"substr(kpi_day_of({r}.started_at), 1, {length}), '{dim}', {r}.process, {key.format(r=r)}, "
        f"CAST(ceil({r}.hours) AS integer), {n}) "
        f"ON CONFLICT (measure, {period}, dim, process, label, bucket) DO UPDATE SET n = k.n + excluded.n;"
        for table, (period, length) in TABLES.items() for dim, key in DIMS.items()) + " END IF;"


def _pg_triggers() -> list[str]:
    call = "FOR EACH ROW WHEN ({}) EXECUTE FUNCTION kpi_hours_rollup()"
    return [
        "CREATE OR REPLACE FUNCTION kpi_hours_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_pg_count('OLD', -1)} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_pg_count('NEW', 1)} END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER kpi_hours_insert AFTER INSERT ON kpi_case {call.format('NOT NEW.unresolved')}",
        f"CREATE TRIGGER kpi_hours_update AFTER UPDATE OF {', '.join(KEYS)} ON kpi_case "
        + call.format(f"(NOT OLD.unresolved OR NOT NEW.unresolved) AND {_changed('IS DISTINCT FROM')}"),
        f"CREATE TRIGGER kpi_hours_delete AFTER DELETE ON kpi_case {call.format('NOT OLD.unresolved')}",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their function)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "kpi_case", columns)
    for table, period in TABLES.items():
        key = [sa.Column(name, sa.String(length), primary_key=True)
               for name, length in (("measure", 64), period, ("dim", 8), ("process", 128), ("label", 64))]
        op.create_table(table, *key, sa.Column("bucket", sa.Integer, primary_key=True),
                        sa.Column("n", sa.Integer, nullable=False), sqlite_with_rowid=False)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import quantiles  # the engine's own count (imported here: the models are the head's)
    quantiles.rebuild(Session(bind=op.get_bind()), quantiles.hourly_sql)  # in this revision's buckets
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_case, kpi_hours_month, kpi_hours_day")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_case" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS kpi_hours_rollup")
    for table in TABLES:
        op.drop_table(table)
    for name in INDEXES:
        op.drop_index(name, table_name="kpi_case")
