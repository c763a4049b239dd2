"""the KPI page's counts per company day, kept by database triggers (issue 17, target 6)

Counting the user tasks completed in a range (the Volume section) and the instances registered in it read every
source row of the range: 18 s and 2.5 s for everything at a million instances. `kpi_completed_day` (day, process,
role, person) and `kpi_registered_day` (day, process, outcome) hold those counts per company day; the page sums a
few rows per day (engine/kpi/rollups.py).

Triggers keep them, in the writing transaction: an engine command may not pay a statement of its own for them
(issue 17 target 2 counts statements per command), and rows written around the engine (tools, a bulk load) are
counted too. On `task`: a row counts while status = 'completed' and completed_at is set; an insert adds it, an
update that changes status, completed_at, role, completed_by or process_key takes the old row's count off and
adds the new one's, a delete takes it off. On `instance`: every row counts under its outcome ('' while none); an
update of started_at, process_key or outcome moves it. The engine's task upsert (INSERT ... ON CONFLICT DO UPDATE)
fires the update triggers for a row that was there, and sets every column: the WHEN clauses compare old and new,
so an unchanged row costs nothing. Rows that fall to zero stay (a later count reuses them; the page skips them).

The day of an instant: the last `kpi_day` row starting at or before it (an index seek), if it ends after it; else
'0000-00-00' (outside the listed days: the page then counts the source rows). kpi_day is filled in Python with
zoneinfo for the configured zone (kpi.yaml `timezone`), and `kpi_rollup_state` records that zone; the upgrade fills
the days and counts every rollup from the source rows (rollups.rebuild) in its transaction, so an upgraded
database shows the same page, fast. The downgrade drops the triggers, functions and tables.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from engine.store.types import UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

CLUSTERED = {"sqlite_with_rowid": False}
COUNTED = "{r}.status = 'completed' AND {r}.completed_at IS NOT NULL"  # a completed task row counts
TASK_KEYS = ("status", "completed_at", "role", "completed_by", "process_key")
INSTANCE_KEYS = ("started_at", "process_key", "outcome")
TRIGGERS = {"task": ("kpi_task_insert", "kpi_task_update", "kpi_task_delete"),
            "instance": ("kpi_instance_insert", "kpi_instance_update", "kpi_instance_delete")}


def _changed(columns: tuple[str, ...], differ: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns) + ")"


# -- SQLite: each trigger body is its own upserts (a SELECT ... WHERE before ON CONFLICT: without the WHERE, SQLite
# would read ON as a join's constraint)

def _sqlite_day(at: str) -> str:
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {at} THEN d.day END FROM kpi_day d WHERE d.starts_at <= {at} "
            f"ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")


def _sqlite_task(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_completed_day (day, process_key, role, person, n) "
            f"SELECT {_sqlite_day(r + '.completed_at')}, {r}.process_key, {r}.role, COALESCE({r}.completed_by, ''), "
            f"{n} WHERE {COUNTED.format(r=r)} "
            f"ON CONFLICT (day, process_key, role, person) DO UPDATE SET n = n + excluded.n;")


def _sqlite_instance(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_registered_day (day, process_key, outcome, n) "
            f"SELECT {_sqlite_day(r + '.started_at')}, {r}.process_key, COALESCE({r}.outcome, ''), {n} WHERE true "
            f"ON CONFLICT (day, process_key, outcome) DO UPDATE SET n = n + excluded.n;")


def _sqlite_triggers() -> list[str]:
    counted_old, counted_new = COUNTED.format(r="OLD"), COUNTED.format(r="NEW")
    return [
        f"CREATE TRIGGER kpi_task_insert AFTER INSERT ON task WHEN {counted_new} BEGIN {_sqlite_task('NEW', 1)} END",
        f"CREATE TRIGGER kpi_task_update AFTER UPDATE OF {', '.join(TASK_KEYS)} ON task "
        f"WHEN (({counted_old}) OR ({counted_new})) AND {_changed(TASK_KEYS, 'IS NOT')} "
        f"BEGIN {_sqlite_task('OLD', -1)} {_sqlite_task('NEW', 1)} END",
        f"CREATE TRIGGER kpi_task_delete AFTER DELETE ON task WHEN {counted_old} BEGIN {_sqlite_task('OLD', -1)} END",
        f"CREATE TRIGGER kpi_instance_insert AFTER INSERT ON instance BEGIN {_sqlite_instance('NEW', 1)} END",
        f"CREATE TRIGGER kpi_instance_update AFTER UPDATE OF {', '.join(INSTANCE_KEYS)} ON instance "
        f"WHEN {_changed(INSTANCE_KEYS, 'IS NOT')} "
        f"BEGIN {_sqlite_instance('OLD', -1)} {_sqlite_instance('NEW', 1)} END",
        f"CREATE TRIGGER kpi_instance_delete AFTER DELETE ON instance BEGIN {_sqlite_instance('OLD', -1)} END",
    ]


# -- PostgreSQL: one function per table, called by its three triggers

_PG_DAY = """
CREATE OR REPLACE FUNCTION kpi_day_of(instant timestamp) RETURNS varchar LANGUAGE sql STABLE AS $$
  SELECT COALESCE((SELECT CASE WHEN d.ends_at > instant THEN d.day END FROM kpi_day d WHERE d.starts_at <= instant
                   ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')
$$"""


def _pg_task(r: str, n: int) -> str:
    return (f"IF {COUNTED.format(r=r)} THEN "
            f"INSERT INTO kpi_completed_day AS k (day, process_key, role, person, n) "
            f"VALUES (kpi_day_of({r}.completed_at), {r}.process_key, {r}.role, COALESCE({r}.completed_by, ''), {n}) "
            f"ON CONFLICT (day, process_key, role, person) DO UPDATE SET n = k.n + excluded.n; END IF;")


def _pg_instance(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_registered_day AS k (day, process_key, outcome, n) "
            f"VALUES (kpi_day_of({r}.started_at), {r}.process_key, COALESCE({r}.outcome, ''), {n}) "
            f"ON CONFLICT (day, process_key, outcome) DO UPDATE SET n = k.n + excluded.n;")


def _pg_function(name: str, old: str, new: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {old} END IF; IF TG_OP <> 'DELETE' THEN {new} END IF; "
            f"RETURN NULL; END $$")


def _pg_triggers() -> list[str]:
    counted_old, counted_new = COUNTED.format(r="OLD"), COUNTED.format(r="NEW")
    each = "FOR EACH ROW"
    return [
        _PG_DAY,
        _pg_function("kpi_task_rollup", _pg_task("OLD", -1), _pg_task("NEW", 1)),
        _pg_function("kpi_instance_rollup", _pg_instance("OLD", -1), _pg_instance("NEW", 1)),
        f"CREATE TRIGGER kpi_task_insert AFTER INSERT ON task {each} WHEN ({counted_new}) "
        f"EXECUTE FUNCTION kpi_task_rollup()",
        f"CREATE TRIGGER kpi_task_update AFTER UPDATE OF {', '.join(TASK_KEYS)} ON task {each} "
        f"WHEN ((({counted_old}) OR ({counted_new})) AND {_changed(TASK_KEYS, 'IS DISTINCT FROM')}) "
        f"EXECUTE FUNCTION kpi_task_rollup()",
        f"CREATE TRIGGER kpi_task_delete AFTER DELETE ON task {each} WHEN ({counted_old}) "
        f"EXECUTE FUNCTION kpi_task_rollup()",
        f"CREATE TRIGGER kpi_instance_insert AFTER INSERT ON instance {each} EXECUTE FUNCTION kpi_instance_rollup()",
        f"CREATE TRIGGER kpi_instance_update AFTER UPDATE OF {', '.join(INSTANCE_KEYS)} ON instance {each} "
        f"WHEN {_changed(INSTANCE_KEYS, 'IS DISTINCT FROM')} EXECUTE FUNCTION kpi_instance_rollup()",
        f"CREATE TRIGGER kpi_instance_delete AFTER DELETE ON instance {each} EXECUTE FUNCTION kpi_instance_rollup()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their functions)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    op.create_table("kpi_day", sa.Column("starts_at", UTCDateTime, primary_key=True),
                    sa.Column("ends_at", UTCDateTime, nullable=False), sa.Column("day", sa.String(10), nullable=False),
                    **CLUSTERED)
    op.create_table("kpi_rollup_state", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("timezone", sa.String(64)), sa.Column("built_at", UTCDateTime))
    key = [sa.Column("day", sa.String(10), primary_key=True), sa.Column("process_key", sa.String(128), primary_key=True)]
    op.create_table("kpi_completed_day", *key, sa.Column("role", sa.String(64), primary_key=True),
                    sa.Column("person", sa.String(64), primary_key=True), sa.Column("n", sa.Integer, nullable=False),
                    **CLUSTERED)
    key = [sa.Column("day", sa.String(10), primary_key=True), sa.Column("process_key", sa.String(128), primary_key=True)]
    op.create_table("kpi_registered_day", *key, sa.Column("outcome", sa.String(32), primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), **CLUSTERED)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import definitions, rollups  # the engine's own rule (imported here: the models are the head's)
    rollups.rebuild(Session(bind=op.get_bind()), definitions.load().timezone)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_day, kpi_completed_day, kpi_registered_day")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        for name in ("kpi_task_rollup", "kpi_instance_rollup", "kpi_day_of(timestamp)"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    for table in ("kpi_registered_day", "kpi_completed_day", "kpi_rollup_state", "kpi_day"):
        op.drop_table(table)
