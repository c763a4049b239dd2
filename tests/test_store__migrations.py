"""The Alembic migrations create exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from engine.store.models import Base


def test_migrated_schema_matches_the_models(engine, db_url):
    raw = create_engine(db_url)
    try:
        with raw.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        raw.dispose()
    # SQLite cannot tell DateTime(timezone) variants apart; anything else is a real drift
    assert [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")] == []


def test_upgrading_twice_is_harmless(engine):
    engine.init()
    engine.init()
    assert engine.processes() == []
