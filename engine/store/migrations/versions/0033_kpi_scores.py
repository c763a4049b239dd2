"""the KPI page's satisfaction scores as rows, counted per company day by triggers (issue 17: the page <= 100 ms)

The satisfaction section read every `completed` event of every instance of a scored process and parsed its JSON in
Python (~120 ms at a million instances, growing with the scores). `kpi_score` holds one row per counted score
(instance, seq: process, when recorded, role, person, value), kept by the steps with the page's own rule
(engine/kpi/score_rows.py); `kpi_score_day` (company day of recording, process, role, person, value) and
`kpi_score_month` (the same per the day's month) count them, kept by triggers on kpi_score in the writing
transaction with the day of `kpi_day` (migration 0025), as 0026 does for kpi_case. The page sums the month rows of
the window's whole months and the day rows of its other days (engine/kpi/score_days.py).

The upgrade fills kpi_score from the trail and tasks (score_rows.rebuild) and counts it (score_days.rebuild) in
the migration's transaction, so an upgraded database shows the same page; the downgrade drops the triggers,
function and tables.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from engine.store.types import UTCDateTime

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

CLUSTERED = {"sqlite_with_rowid": False}
SCORE_KEYS = ("at", "process", "role", "person", "value")
TRIGGERS = ("kpi_score_insert", "kpi_score_update", "kpi_score_delete")
# each row is counted twice: under its company day and under that day's month (the day's YYYY-MM)
_PERIODS = (("day", "day", "{}"), ("month", "month", "substr({}, 1, 7)"))


def _changed(differ: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in SCORE_KEYS) + ")"


# -- SQLite: the trigger bodies are upserts (a SELECT ... WHERE before ON CONFLICT, as in 0025)

def _sqlite_day(at: str) -> str:
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {at} THEN d.day END FROM kpi_day d WHERE d.starts_at <= {at} "
            f"ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")


def _sqlite_score(r: str, n: int) -> str:
    return "".join(
        f"INSERT INTO kpi_score_{table} ({period}, process, role, person, value, n) "
        f"SELECT {cut.format(_sqlite_day(r + '.at'))}, {r}.process, COALESCE({r}.role, ''), "
        f"COALESCE({r}.person, ''), {r}.value, {n} WHERE true "
        f"ON CONFLICT ({period}, process, role, person, value) DO UPDATE SET n = n + excluded.n;"
        for table, period, cut in _PERIODS)


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER kpi_score_insert AFTER INSERT ON kpi_score BEGIN {_sqlite_score('NEW', 1)} END",
        f"CREATE TRIGGER kpi_score_update AFTER UPDATE OF {', '.join(SCORE_KEYS)} ON kpi_score "
        f"WHEN {_changed('IS NOT')} BEGIN {_sqlite_score('OLD', -1)} {_sqlite_score('NEW', 1)} END",
        f"CREATE TRIGGER kpi_score_delete AFTER DELETE ON kpi_score BEGIN {_sqlite_score('OLD', -1)} END",
    ]


# -- PostgreSQL: one function, called by the three triggers (kpi_day_of comes from 0025)

def _pg_score(r: str, n: int) -> str:
    return "".join(
        f"INSERT INTO kpi_score_{table} AS k ({period}, process, role, person, value, n) "
        f"VALUES ({cut.format(f'kpi_day_of({r}.at)')}, {r}.process, COALESCE({r}.role, ''), "
        f"COALESCE({r}.person, ''), {r}.value, {n}) "
        f"ON CONFLICT ({period}, process, role, person, value) DO UPDATE SET n = k.n + excluded.n;"
        for table, period, cut in _PERIODS)


def _pg_triggers() -> list[str]:
    each = "FOR EACH ROW"
    return [
        "CREATE OR REPLACE FUNCTION kpi_score_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_pg_score('OLD', -1)} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_pg_score('NEW', 1)} END IF; RETURN NULL; END $$",
        f"CREATE TRIGGER kpi_score_insert AFTER INSERT ON kpi_score {each} EXECUTE FUNCTION kpi_score_rollup()",
        f"CREATE TRIGGER kpi_score_update AFTER UPDATE OF {', '.join(SCORE_KEYS)} ON kpi_score {each} "
        f"WHEN {_changed('IS DISTINCT FROM')} EXECUTE FUNCTION kpi_score_rollup()",
        f"CREATE TRIGGER kpi_score_delete AFTER DELETE ON kpi_score {each} EXECUTE FUNCTION kpi_score_rollup()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their function)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    op.create_table(
        "kpi_score",
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instance.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("process", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("person", sa.String(64)),
        sa.Column("value", sa.Integer, nullable=False),
    )
    for table, width in (("kpi_score_day", 10), ("kpi_score_month", 7)):
        op.create_table(table, sa.Column(table.removeprefix("kpi_score_"), sa.String(width), primary_key=True),
                        sa.Column("process", sa.String(128), primary_key=True),
                        sa.Column("role", sa.String(64), primary_key=True),
                        sa.Column("person", sa.String(64), primary_key=True),
                        sa.Column("value", sa.Integer, primary_key=True),
                        sa.Column("n", sa.Integer, nullable=False), **CLUSTERED)
    from engine.kpi import score_days, score_rows  # the engine's own rule (imported here: the models are the head's)
    session = Session(bind=op.get_bind())
    score_rows.rebuild(session)  # before the triggers: counted after in one statement, not by a call per row
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    score_days.rebuild(session)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_score, kpi_score_day, kpi_score_month")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_score" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS kpi_score_rollup")
    for table in ("kpi_score_month", "kpi_score_day", "kpi_score"):
        op.drop_table(table)
