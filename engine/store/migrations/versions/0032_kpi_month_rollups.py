"""the KPI page's day counts summed per company month, kept by database triggers on the day tables (issue 17)

The page groups by month, and its "everything" window summed every day row: ~134,000 rows of kpi_completed_day
(the volume section, ~90 ms at a million instances) and ~35,000 of kpi_case_day per measure (times, resolution
rate). `kpi_completed_month` and `kpi_case_month` hold the same counts per month (the day's YYYY-MM): the page reads
a window's whole months from them and only the days of its partial months at the edges from the day tables
(engine/kpi/month_rows.py). kpi_registered_day has a few rows per day (144 at a tenth of the size): not worth it.

Triggers on the day tables keep them, in the same transaction as the day row: an insert adds the row's counts to its
month, a change of the counts alone adds the difference, a change of the key takes the old row off its month and
adds the new one, a delete takes it off. So they follow every writer of the day rows (the triggers of 0025/0026,
a rebuild) without touching those. The OUTSIDE day '0000-00-00' falls in the month '0000-00', which the page never
reads while a count is there (the day tables' `usable` checks). The upgrade counts them from the day tables; the
downgrade drops the triggers, functions and tables.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

CLUSTERED = {"sqlite_with_rowid": False}
# month table -> (day table, its key columns after the day or before it, its counts)
TABLES = {"kpi_completed_month": ("kpi_completed_day", (), ("process_key", "role", "person"), ("n",)),
          "kpi_case_month": ("kpi_case_day", ("measure",), ("process", "role", "person"),
                             ("done", "within", "unresolved"))}


def _names(month: str) -> tuple[str, str, str, str]:
    return f"{month}_insert", f"{month}_update", f"{month}_move", f"{month}_delete"


def _add(month: str, r: str, counts: list[str], alias: str, values: str) -> str:
    """`counts` (SQL, in the table's order) added to the month of the day row `r`; `values` wraps the row (SQLite:
    SELECT ... WHERE true, PostgreSQL: VALUES (...)), `alias` prefixes the table's own counts ('' or 'k.')."""
    _day, before, after, names = TABLES[month]
    keys = (*before, "month", *after)
    row = [f"{r}.{c}" for c in before] + [f"substr({r}.day, 1, 7)"] + [f"{r}.{c}" for c in after] + counts
    sums = ", ".join(f"{c} = {alias}{c} + excluded.{c}" for c in names)
    target = f"{month} AS k" if alias else month
    return (f"INSERT INTO {target} ({', '.join((*keys, *names))}) {values.format(', '.join(row))} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums};")


def _plus(month: str, r: str, alias: str, values: str) -> str:
    return _add(month, r, [f"{r}.{c}" for c in TABLES[month][3]], alias, values)


def _minus(month: str, r: str, alias: str, values: str) -> str:
    return _add(month, r, [f"-{r}.{c}" for c in TABLES[month][3]], alias, values)


def _delta(month: str, alias: str, values: str) -> str:
    """NEW's counts minus OLD's added to their (one) month."""
    return _add(month, "NEW", [f"NEW.{c} - OLD.{c}" for c in TABLES[month][3]], alias, values)


def _key(month: str) -> tuple[str, ...]:
    _day, before, after, _counts = TABLES[month]
    return (*before, "day", *after)


def _difference(month: str) -> str:
    """SQL: a day row's counts changed, its key not (the upsert of the triggers of 0025/0026: the common case)."""
    same = " AND ".join(f"OLD.{c} = NEW.{c}" for c in _key(month))
    return f"({same} AND (" + " OR ".join(f"OLD.{c} <> NEW.{c}" for c in TABLES[month][3]) + "))"


def _moved(month: str) -> str:
    """SQL: a day row's key changed (only ever by hand)."""
    return "(" + " OR ".join(f"OLD.{c} <> NEW.{c}" for c in _key(month)) + ")"


# -- SQLite: a SELECT ... WHERE before ON CONFLICT (without the WHERE, SQLite would read ON as a join's constraint)

_SQLITE_ROW = "SELECT {} WHERE true"


def _sqlite_triggers() -> list[str]:
    out, row = [], _SQLITE_ROW
    for month, (day, _before, _after, counts) in TABLES.items():
        insert, update, move, delete = _names(month)
        out += [
            f"CREATE TRIGGER {insert} AFTER INSERT ON {day} BEGIN {_plus(month, 'NEW', '', row)} END",
            f"CREATE TRIGGER {update} AFTER UPDATE OF {', '.join(counts)} ON {day} WHEN {_difference(month)} "
            f"BEGIN {_delta(month, '', row)} END",
            f"CREATE TRIGGER {move} AFTER UPDATE ON {day} WHEN {_moved(month)} "
            f"BEGIN {_minus(month, 'OLD', '', row)} {_plus(month, 'NEW', '', row)} END",
            f"CREATE TRIGGER {delete} AFTER DELETE ON {day} BEGIN {_minus(month, 'OLD', '', row)} END",
        ]
    return out


# -- PostgreSQL: one function per month table, called by its triggers (a changed key: no `move` trigger of its own)

_PG_ROW = "VALUES ({})"


def _pg_triggers() -> list[str]:
    out, row, each = [], _PG_ROW, "FOR EACH ROW"
    for month, (day, *_rest) in TABLES.items():
        insert, update, _move, delete = _names(month)
        out += [
            f"CREATE OR REPLACE FUNCTION {month}_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND {_difference(month)} THEN {_delta(month, 'k.', row)} RETURN NULL; END IF; "
            f"IF TG_OP <> 'INSERT' THEN {_minus(month, 'OLD', 'k.', row)} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_plus(month, 'NEW', 'k.', row)} END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER {insert} AFTER INSERT ON {day} {each} EXECUTE FUNCTION {month}_rollup()",
            f"CREATE TRIGGER {update} AFTER UPDATE ON {day} {each} "
            f"WHEN ({_difference(month)} OR {_moved(month)}) EXECUTE FUNCTION {month}_rollup()",
            f"CREATE TRIGGER {delete} AFTER DELETE ON {day} {each} EXECUTE FUNCTION {month}_rollup()",
        ]
    return out


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their functions)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    op.create_table("kpi_completed_month", sa.Column("month", sa.String(7), primary_key=True),
                    sa.Column("process_key", sa.String(128), primary_key=True),
                    sa.Column("role", sa.String(64), primary_key=True),
                    sa.Column("person", sa.String(64), primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), **CLUSTERED)
    op.create_table("kpi_case_month", sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("month", sa.String(7), primary_key=True),
                    sa.Column("process", sa.String(128), primary_key=True),
                    sa.Column("role", sa.String(64), primary_key=True),
                    sa.Column("person", sa.String(64), primary_key=True),
                    *(sa.Column(c, sa.Integer, nullable=False) for c in ("done", "within", "unresolved")),
                    **CLUSTERED)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import month_rows  # the engine's own count (imported here: the models are the head's)
    for statement in month_rows.COUNT.values():
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_completed_month, kpi_case_month")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for month, (day, *_rest) in TABLES.items():
        for name in _names(month):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {day}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {month}_rollup")
        op.drop_table(month)
