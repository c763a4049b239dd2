"""the company month of each decided case's registration, and an index of a month's done hours (issue 17)

Phase 2 of the page's median and p90 (engine/kpi/quantiles.py) read a month row's values in ix_kpi_case_hours,
ordered by hours over every registration, with the month's bounds as a filter: for everything at a million
instances, the month rows stepped over twelve months' cases of their buckets (240,000 index rows of 410,000 a page).
`kpi_case.month` holds the company month of the registration (the `kpi_day` row it falls in, as every rollup finds
it; '0000-00' outside the listed days), kept by triggers on kpi_case, and `ix_kpi_case_by_month` (measure,
unresolved, month, hours) orders a month's done hours alone. `salesflow kpi rebuild` sets it again for the zone it
lists the days for. The upgrade fills it; the downgrade drops the triggers, the index and the column.

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TRIGGERS = ("kpi_case_set_month_insert", "kpi_case_set_month_update")
_SQLITE_DAY = ("COALESCE((SELECT CASE WHEN d.ends_at > NEW.started_at THEN d.day END FROM kpi_day d "
               "WHERE d.starts_at <= NEW.started_at ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")
_SQLITE_SET = (f"UPDATE kpi_case SET month = substr({_SQLITE_DAY}, 1, 7) "
               "WHERE measure = NEW.measure AND instance_id = NEW.instance_id;")


def _triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":  # before the row is written: no second write
        return [
            "CREATE OR REPLACE FUNCTION kpi_case_set_month() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.month := substr(kpi_day_of(NEW.started_at), 1, 7); RETURN NEW; END $$",
            "CREATE TRIGGER kpi_case_set_month_insert BEFORE INSERT ON kpi_case FOR EACH ROW "
            "EXECUTE FUNCTION kpi_case_set_month()",
            "CREATE TRIGGER kpi_case_set_month_update BEFORE UPDATE OF started_at ON kpi_case FOR EACH ROW "
            "WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at) EXECUTE FUNCTION kpi_case_set_month()",
        ]
    # SQLite cannot change the row being written: the row is updated after (its other triggers watch other columns)
    return [
        f"CREATE TRIGGER kpi_case_set_month_insert AFTER INSERT ON kpi_case BEGIN {_SQLITE_SET} END",
        "CREATE TRIGGER kpi_case_set_month_update AFTER UPDATE OF started_at ON kpi_case "
        f"WHEN OLD.started_at IS NOT NEW.started_at BEGIN {_SQLITE_SET} END",
    ]


def upgrade() -> None:
    op.add_column("kpi_case", sa.Column("month", sa.String(7), nullable=True))
    for statement in _triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import case_rows  # the engine's own fill (imported here: the models are the head's)
    case_rows.set_months(op.get_bind())
    op.create_index("ix_kpi_case_by_month", "kpi_case", ["measure", "unresolved", "month", "hours"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_case")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON kpi_case" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS kpi_case_set_month")
    op.drop_index("ix_kpi_case_by_month", table_name="kpi_case")
    op.execute("ALTER TABLE kpi_case DROP COLUMN month")  # (SQLite 3.35 on: in place, the triggers left alone)
