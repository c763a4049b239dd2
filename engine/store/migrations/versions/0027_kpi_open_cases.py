"""the KPI page's open cases counted per company day, kept by database triggers (issue 17, target 6)

The times section counted the open cases live: every running or halted instance of a measured process without a
decided row, each with a lookup of its first waiting end task (~56 ms per measure at 100,000 instances, where every
instance is open). `kpi_open_case` holds one row per open case (measure, instance, process, registration, and the
role and assignee of its first waiting end task: measures._first_waiting's rule), `kpi_open_day` their counts per
measure, company day of the registration, process, role and person; the page sums a few rows per day and counts
exactly only the day in which `now - target` falls (engine/kpi/open_cases.py).

Triggers keep them in the writing transaction (no statement of the command's own): an instance's open rows are
computed again by the rule (delete, insert ... select) when the instance is inserted or its status, registration or
process changes and when one of its decided rows (kpi_case) is deleted or moved; a decided row inserted deletes its
open row; an instance deleted deletes its open rows; an instance inserted gets its open rows offered to no one (its
tasks and decided rows come after it: their foreign keys). When a ready task of a measured end (`kpi_open_end`, filled
from kpi.yaml) is inserted, deleted or changes status, role, assignee, creation time, element or instance, only
whom the instance's open rows are offered to is computed again (an UPDATE: which cases are open does not depend on
the tasks; an unchanged row costs no count). Triggers
on kpi_open_case keep kpi_open_day (as 0025 and 0026, by kpi_day). The upgrade fills them (open_cases.rebuild); the
downgrade drops the triggers, functions and tables.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from engine.store.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

CLUSTERED = {"sqlite_with_rowid": False}
INSTANCE_KEYS = ("status", "started_at", "process_key")
TASK_KEYS = ("status", "role", "assignee", "created_at", "bpmn_id", "instance_id")
CASE_KEYS = ("measure", "instance_id")
OPEN_KEYS = ("measure", "started_at", "process", "role", "person")
TRIGGERS = {"instance": ("kpi_open_instance_insert", "kpi_open_instance_update", "kpi_open_instance_delete"),
            "task": ("kpi_open_task_insert", "kpi_open_task_update", "kpi_open_task_delete"),
            "kpi_case": ("kpi_open_decided_insert", "kpi_open_decided_update", "kpi_open_decided_delete"),
            "kpi_open_case": ("kpi_open_day_insert", "kpi_open_day_update", "kpi_open_day_delete")}
FUNCTIONS = ("kpi_open_instance", "kpi_open_task", "kpi_open_decided", "kpi_open_day_rollup",
             "kpi_open_recompute(integer)", "kpi_open_offer(integer)")
_MEASURED_PROCESS = "{r}.process_key IN (SELECT e.process FROM kpi_open_end e)"
_END_TASK = "{r}.bpmn_id IN (SELECT e.bpmn_id FROM kpi_open_end e)"


def _changed(columns: tuple[str, ...], differ: str) -> str:
    return "(" + " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns) + ")"


def open_rows(where: str) -> str:
    """INSERT of the open rows of the instances `where` selects (whom they are offered to left NULL), and UPDATE of
    whom those `where` selects are offered to: the engine's rule (engine/kpi/open_cases.py, imported here: the
    triggers and the rebuild share one text)."""
    from engine.kpi import open_cases

    return open_cases.open_rows(where, offered_to=False)


def offered(where: str) -> str:
    from engine.kpi import open_cases

    return open_cases.offered(where)


# a new instance has no task and no decided row yet (their foreign keys: SQLite's engine connections enforce them,
# PostgreSQL always): its open rows, offered to no one, from kpi_open_end alone
_NEW_INSTANCE = ("INSERT INTO kpi_open_case (measure, instance_id, process, started_at, role, person) "
                 "SELECT DISTINCT e.measure, NEW.id, NEW.process_key, NEW.started_at, NULL, NULL FROM kpi_open_end e "
                 "WHERE e.process = NEW.process_key AND NEW.status IN ('running', 'incident')")


# -- SQLite: the trigger bodies are the statements themselves

def _sqlite_recompute(iid: str, also: str = "true", measure: str | None = None) -> str:
    """The instance's open rows (of one measure: a decided row deleted) computed again."""
    one, of_s = ("true", "true") if measure is None else (f"measure = {measure}", f"s.measure = {measure}")
    return (f"DELETE FROM kpi_open_case WHERE instance_id = {iid} AND {one} AND {also}; "
            f"{open_rows(f'i.id = {iid} AND {of_s} AND {also}')}; "
            f"{offered(f'kpi_open_case.instance_id = {iid} AND {also}')};")


def _sqlite_day(at: str) -> str:
    return (f"COALESCE((SELECT CASE WHEN d.ends_at > {at} THEN d.day END FROM kpi_day d WHERE d.starts_at <= {at} "
            f"ORDER BY d.starts_at DESC LIMIT 1), '0000-00-00')")


def _sqlite_day_count(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_open_day (measure, day, process, role, person, n) "
            f"SELECT {r}.measure, {_sqlite_day(r + '.started_at')}, {r}.process, COALESCE({r}.role, ''), "
            f"COALESCE({r}.person, ''), {n} WHERE true "
            f"ON CONFLICT (measure, day, process, role, person) DO UPDATE SET n = n + excluded.n;")


def _sqlite_triggers() -> list[str]:
    measured = f"({_MEASURED_PROCESS.format(r='NEW')} OR {_MEASURED_PROCESS.format(r='OLD')})"
    ends = f"({_END_TASK.format(r='NEW')} OR {_END_TASK.format(r='OLD')})"
    moved = "OLD.instance_id IS NOT NEW.instance_id"
    return [
        f"CREATE TRIGGER kpi_open_instance_insert AFTER INSERT ON instance WHEN {_MEASURED_PROCESS.format(r='NEW')} "
        f"BEGIN {_NEW_INSTANCE}; END",
        f"CREATE TRIGGER kpi_open_instance_update AFTER UPDATE OF {', '.join(INSTANCE_KEYS)} ON instance "
        f"WHEN {_changed(INSTANCE_KEYS, 'IS NOT')} AND {measured} BEGIN {_sqlite_recompute('NEW.id')} END",
        f"CREATE TRIGGER kpi_open_instance_delete AFTER DELETE ON instance WHEN {_MEASURED_PROCESS.format(r='OLD')} "
        "BEGIN DELETE FROM kpi_open_case WHERE instance_id = OLD.id; END",
        f"CREATE TRIGGER kpi_open_task_insert AFTER INSERT ON task "
        f"WHEN NEW.status = 'ready' AND {_END_TASK.format(r='NEW')} "
        f"BEGIN {offered('kpi_open_case.instance_id = NEW.instance_id')}; END",
        f"CREATE TRIGGER kpi_open_task_update AFTER UPDATE OF {', '.join(TASK_KEYS)} ON task "
        f"WHEN (OLD.status = 'ready' OR NEW.status = 'ready') AND {_changed(TASK_KEYS, 'IS NOT')} AND {ends} "
        f"BEGIN {offered('kpi_open_case.instance_id IN (OLD.instance_id, NEW.instance_id)')}; END",
        f"CREATE TRIGGER kpi_open_task_delete AFTER DELETE ON task "
        f"WHEN OLD.status = 'ready' AND {_END_TASK.format(r='OLD')} "
        f"BEGIN {offered('kpi_open_case.instance_id = OLD.instance_id')}; END",
        "CREATE TRIGGER kpi_open_decided_insert AFTER INSERT ON kpi_case BEGIN "
        "DELETE FROM kpi_open_case WHERE measure = NEW.measure AND instance_id = NEW.instance_id; END",
        f"CREATE TRIGGER kpi_open_decided_update AFTER UPDATE OF {', '.join(CASE_KEYS)} ON kpi_case "
        f"WHEN {_changed(CASE_KEYS, 'IS NOT')} "
        f"BEGIN {_sqlite_recompute('OLD.instance_id', moved)} {_sqlite_recompute('NEW.instance_id')} END",
        f"CREATE TRIGGER kpi_open_decided_delete AFTER DELETE ON kpi_case "
        f"BEGIN {_sqlite_recompute('OLD.instance_id', measure='OLD.measure')} END",
        f"CREATE TRIGGER kpi_open_day_insert AFTER INSERT ON kpi_open_case BEGIN {_sqlite_day_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_open_day_update AFTER UPDATE OF {', '.join(OPEN_KEYS)} ON kpi_open_case "
        f"WHEN {_changed(OPEN_KEYS, 'IS NOT')} BEGIN {_sqlite_day_count('OLD', -1)} {_sqlite_day_count('NEW', 1)} END",
        f"CREATE TRIGGER kpi_open_day_delete AFTER DELETE ON kpi_open_case BEGIN {_sqlite_day_count('OLD', -1)} END",
    ]


# -- PostgreSQL: a function computes one instance's open rows again; one trigger function per table (a trigger's
# WHEN may not hold a subquery: the measured-process and end-task checks are in the functions)

def _pg_day_count(r: str, n: int) -> str:
    return (f"INSERT INTO kpi_open_day AS k (measure, day, process, role, person, n) "
            f"VALUES ({r}.measure, kpi_day_of({r}.started_at), {r}.process, COALESCE({r}.role, ''), "
            f"COALESCE({r}.person, ''), {n}) "
            f"ON CONFLICT (measure, day, process, role, person) DO UPDATE SET n = k.n + excluded.n;")


def _pg_function(name: str, body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"


def _pg_triggers() -> list[str]:
    each = "FOR EACH ROW"
    end_old, end_new = (f"EXISTS (SELECT 1 FROM kpi_open_end e WHERE e.bpmn_id = {r}.bpmn_id)" for r in ("OLD", "NEW"))
    measured_old, measured_new = (f"EXISTS (SELECT 1 FROM kpi_open_end e WHERE e.process = {r}.process_key)"
                                  for r in ("OLD", "NEW"))
    return [
        "CREATE OR REPLACE FUNCTION kpi_open_recompute(iid integer) RETURNS void LANGUAGE sql AS $$ "
        f"DELETE FROM kpi_open_case WHERE instance_id = iid; {open_rows('i.id = iid')}; "
        f"{offered('kpi_open_case.instance_id = iid')} $$",
        "CREATE OR REPLACE FUNCTION kpi_open_offer(iid integer) RETURNS void LANGUAGE sql AS $$ "
        f"{offered('kpi_open_case.instance_id = iid')} $$",
        _pg_function("kpi_open_instance",
                     f"IF TG_OP = 'DELETE' THEN IF {measured_old} THEN "
                     "DELETE FROM kpi_open_case WHERE instance_id = OLD.id; END IF; "
                     f"ELSIF TG_OP = 'INSERT' THEN {_NEW_INSTANCE}; "
                     f"ELSIF {measured_new} OR {measured_old} THEN PERFORM kpi_open_recompute(NEW.id); END IF;"),
        _pg_function("kpi_open_task",
                     f"IF TG_OP <> 'INSERT' AND {end_old} THEN PERFORM kpi_open_offer(OLD.instance_id); END IF; "
                     f"IF TG_OP <> 'DELETE' AND {end_new} AND (TG_OP = 'INSERT' OR OLD.instance_id <> NEW.instance_id "
                     f"OR NOT {end_old}) THEN PERFORM kpi_open_offer(NEW.instance_id); END IF;"),
        _pg_function("kpi_open_decided",
                     "IF TG_OP = 'INSERT' THEN DELETE FROM kpi_open_case WHERE measure = NEW.measure "
                     "AND instance_id = NEW.instance_id; ELSE PERFORM kpi_open_recompute(OLD.instance_id); "
                     "IF TG_OP = 'UPDATE' AND OLD.instance_id <> NEW.instance_id THEN "
                     "PERFORM kpi_open_recompute(NEW.instance_id); END IF; END IF;"),
        _pg_function("kpi_open_day_rollup",
                     f"IF TG_OP <> 'INSERT' THEN {_pg_day_count('OLD', -1)} END IF; "
                     f"IF TG_OP <> 'DELETE' THEN {_pg_day_count('NEW', 1)} END IF;"),
        f"CREATE TRIGGER kpi_open_instance_insert AFTER INSERT ON instance {each} EXECUTE FUNCTION kpi_open_instance()",
        f"CREATE TRIGGER kpi_open_instance_update AFTER UPDATE OF {', '.join(INSTANCE_KEYS)} ON instance {each} "
        f"WHEN {_changed(INSTANCE_KEYS, 'IS DISTINCT FROM')} EXECUTE FUNCTION kpi_open_instance()",
        f"CREATE TRIGGER kpi_open_instance_delete AFTER DELETE ON instance {each} EXECUTE FUNCTION kpi_open_instance()",
        f"CREATE TRIGGER kpi_open_task_insert AFTER INSERT ON task {each} WHEN (NEW.status = 'ready') "
        "EXECUTE FUNCTION kpi_open_task()",
        f"CREATE TRIGGER kpi_open_task_update AFTER UPDATE OF {', '.join(TASK_KEYS)} ON task {each} "
        f"WHEN ((OLD.status = 'ready' OR NEW.status = 'ready') AND {_changed(TASK_KEYS, 'IS DISTINCT FROM')}) "
        "EXECUTE FUNCTION kpi_open_task()",
        f"CREATE TRIGGER kpi_open_task_delete AFTER DELETE ON task {each} WHEN (OLD.status = 'ready') "
        "EXECUTE FUNCTION kpi_open_task()",
        f"CREATE TRIGGER kpi_open_decided_insert AFTER INSERT ON kpi_case {each} EXECUTE FUNCTION kpi_open_decided()",
        f"CREATE TRIGGER kpi_open_decided_update AFTER UPDATE OF {', '.join(CASE_KEYS)} ON kpi_case {each} "
        f"WHEN {_changed(CASE_KEYS, 'IS DISTINCT FROM')} EXECUTE FUNCTION kpi_open_decided()",
        f"CREATE TRIGGER kpi_open_decided_delete AFTER DELETE ON kpi_case {each} EXECUTE FUNCTION kpi_open_decided()",
        f"CREATE TRIGGER kpi_open_day_insert AFTER INSERT ON kpi_open_case {each} "
        "EXECUTE FUNCTION kpi_open_day_rollup()",
        f"CREATE TRIGGER kpi_open_day_update AFTER UPDATE OF {', '.join(OPEN_KEYS)} ON kpi_open_case {each} "
        f"WHEN {_changed(OPEN_KEYS, 'IS DISTINCT FROM')} EXECUTE FUNCTION kpi_open_day_rollup()",
        f"CREATE TRIGGER kpi_open_day_delete AFTER DELETE ON kpi_open_case {each} "
        "EXECUTE FUNCTION kpi_open_day_rollup()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements that create the triggers (and on PostgreSQL their functions)."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


def upgrade() -> None:
    op.create_table("kpi_open_end", sa.Column("bpmn_id", sa.String(128), primary_key=True),
                    sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("process", sa.String(128), primary_key=True))
    op.create_table("kpi_open_case", sa.Column("instance_id", sa.Integer, primary_key=True),
                    sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("process", sa.String(128), nullable=False),
                    sa.Column("started_at", UTCDateTime, nullable=False), sa.Column("role", sa.String(64)),
                    sa.Column("person", sa.String(64)))
    op.create_index("ix_kpi_open_case_day", "kpi_open_case", ["measure", "process", "started_at"])
    op.create_table("kpi_open_day", sa.Column("measure", sa.String(64), primary_key=True),
                    sa.Column("day", sa.String(10), primary_key=True),
                    sa.Column("process", sa.String(128), primary_key=True),
                    sa.Column("role", sa.String(64), primary_key=True),
                    sa.Column("person", sa.String(64), primary_key=True),
                    sa.Column("n", sa.Integer, nullable=False), **CLUSTERED)
    for statement in triggers(op.get_bind().dialect.name):
        op.execute(statement)
    from engine.kpi import open_cases  # the engine's own rule (imported here: the models are the head's)
    open_cases.rebuild(Session(bind=op.get_bind()))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE kpi_open_end, kpi_open_case, kpi_open_day")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, names in TRIGGERS.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgres else f"DROP TRIGGER IF EXISTS {name}")
    if postgres:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}")
    for table in ("kpi_open_day", "kpi_open_case", "kpi_open_end"):
        op.drop_table(table)
