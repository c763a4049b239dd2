"""the KPI page's decided cases counted per company day, kept by database triggers on kpi_case (issue 17, target 6)

The times section counted every decided case of the range (kpi_case, ~57 ms per measure at 100,000 instances), the
resolution rate again (~35 ms). `kpi_case_day` (measure, day of the registration, process, role, person) holds
their counts: done, done within the measure's target, unresolved; the page sums a few rows per day
(engine/kpi/case_days.py), as migration 0025 does for completed tasks and registrations (same `kpi_day`, same
`kpi_rollup_state`).

Triggers on kpi_case keep it in the writing transaction (case_rows writes the rows with a step: no statement of
the command's own): an insert adds the row's counts, a delete takes them off, an update of a counted column does
both. `within` is `hours <= target`: the trigger reads the measure's target from `kpi_case_target` (filled from
kpi.yaml); the page uses the counts only while those are kpi.yaml's targets. The upgrade fills the targets and
counts the rollup from kpi_case (case_days.rebuild); the downgrade drops the triggers, functions and tables.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

CLUSTERED = {"sqlite_with_rowid": False}
CASE_KEYS = ("measure", "started_at", "process", "role", "person", "hours", "unresolved")
TRIGGERS = ("kpi_case_insert", "kpi_case_update", "kpi_case_delete")
COUNTS = ("done", "within", "unresolved")


def _changed(differ: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in CASE_KEYS) + ")"


def _counts(r: str, n: int) -> tuple[str, str, str]:
    """The row's (done, within, unresolved) times n, as SQL (a missing target counts nothing within: the page then
    does not use the rollup, case_days.usable)."""
    target = f"(SELECT t.target_hours FROM kpi_case_target t WHERE t.measure = {r}.measure)"
    return (f"CASE WHEN {r}.unresolved THEN 0 ELSE {n} END",
            f"CASE WHEN NOT {r}.unresolved AND {r}.hours <= {target} THEN {n} ELSE 0 END",
            f"CASE WHEN {r}.unresolved THEN {n} ELSE 0 END")


_SUM = ", ".join(f"{c} = {{k}}{c} + excluded.{c}" for c in COUNTS)
_KEY = "(measure, day, process, role, person)"


# -- SQLite: the trigger bodies are upserts (a SELECT ... WHERE before ON CONFLICT, as in 0025)

def _sqlite_day(at: str) -> str:
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {at} THEN d.day END FROM kpi_day d WHERE d.starts_at <= {at} "
            f"ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")


def _sqlite_case(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_case_day {_KEY[:-1]}, {', '.join(COUNTS)}) "
            f"SELECT {r}.measure, {_sqlite_day(r + '.started_at')}, {r}.process, COALESCE({r}.role, ''), "
            f"COALESCE({r}.person, ''), {', '.join(_counts(r, n))} WHERE true "
            f"ON CONFLICT {_KEY} DO UPDATE SET {_SUM.format(k='')};")


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER kpi_case_insert AFTER INSERT ON kpi_case BEGIN {_sqlite_case('NEW', 1)} END",
        f"CREATE TRIGGER kpi_case_update AFTER UPDATE OF {', '.join(CASE_KEYS)} ON kpi_case "
        f"WHEN {_changed('IS NOT')} BEGIN {_sqlite_case('OLD', -1)} {_sqlite_case('NEW', 1)} END",
        f"CREATE TRIGGER kpi_case_delete AFTER DELETE ON kpi_case BEGIN {_sqlite_case('OLD', -1)} END",
    ]


# -- PostgreSQL: one function, called by the three triggers (kpi_day_of comes from 0025)

def _pg_case(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_case_day AS k {_KEY[:-1]}, {', '.join(COUNTS)}) "
            f"VALUES ({r}.measure, kpi_day_of({r}.started_at), {r}.process, COALESCE({r}.role, ''), "
            f"COALESCE({r}.person, ''), {', '.join(_counts(r, n))}) "
            f"ON CONFLICT {_KEY} DO UPDATE SET {_SUM.format(k='k.')};")


def _pg_triggers() -> list[str]:
    each = "FOR EACH ROW"
    return [
        "CREATE OR REPLACE FUNCTION kpi_case_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_pg_case('OLD', -1)} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_pg_case('NEW', 1)} END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER kpi_case_insert AFTER INSERT ON kpi_case {each} EXECUTE FUNCTION kpi_case_rollup()",
        f"CREATE TRIGGER kpi_case_update AFTER UPDATE OF {', '.join(CASE_KEYS)} ON kpi_case {each} "
        f"WHEN {_changed('IS DISTINCT FROM')} EXECUTE FUNCTION kpi_case_rollup()",
        f"CREATE TRIGGER kpi_case_delete AFTER DELETE ON kpi_case {each} EXECUTE FUNCTION kpi_case_rollup()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their function)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    op.create_table("kpi_case_target", sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("target_hours", sa.Float, nullable=False))
    op.create_table("kpi_case_day", sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("day", sa.String(10), primary_key=True),
                    sa.Column("process", sa.String(128), primary_key=True),
                    sa.Column("role", sa.String(64), primary_key=True),
                    sa.Column("person", sa.String(64), primary_key=True),
                    *(sa.Column(c, sa.Integer, nullable=False) for c in COUNTS), **CLUSTERED)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import case_days  # the engine's own rule (imported here: the models are the head's)
    case_days.rebuild(Session(bind=op.get_bind()))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_case_target, kpi_case_day")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_case" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS kpi_case_rollup")
    for table in ("kpi_case_day", "kpi_case_target"):
        op.drop_table(table)
