"""The Alembic migrations create exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from engine.store.kpi_tables import GROUPED_ON_SQLITE
from engine.store.models import Base


def test_migrated_schema_matches_the_models(engine, db_url):
    raw = create_engine(db_url)
    try:
        with raw.connect() as conn:
            # (indexes the models create on SQLite alone are expected there only)
            sqlite_only = set() if conn.dialect.name == "sqlite" else {index.name for index in GROUPED_ON_SQLITE}
            context = MigrationContext.configure(conn, opts={
                "include_object": lambda obj, name, type_, reflected, compare_to: name not in sqlite_only})
            diff = compare_metadata(context, Base.metadata)
    finally:
        raw.dispose()
    # SQLite cannot tell DateTime(timezone) variants apart; anything else is a real drift
    assert [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")] == []


def test_upgrading_twice_is_harmless(engine):
    engine.init()
    engine.init()
    assert engine.processes() == []
