"""Migration 0014: the versions deployed before rule-change governance are all in force, and governance is
off until someone switches it on."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from engine.store.db import alembic_config
from tests.conftest import add_users
from tests.web.conftest import SAMPLE_REQUEST, WEB_PEOPLE, p5_p6_files


@pytest.mark.rule("P13.3")
def test_upgrading_to_0014_makes_every_existing_version_active(engine, db_url):
    engine.deploy("system", p5_p6_files())
    add_users(engine, WEB_PEOPLE)
    running = engine.start("rep1", "sample_request", SAMPLE_REQUEST)
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0012")
        with raw.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(process_version)"))] \
                if raw.dialect.name == "sqlite" else list(conn.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'process_version'"
                )).scalars())
        assert "status" not in columns
        command.upgrade(cfg, "head")
        with raw.connect() as conn:
            rows = conn.execute(text("SELECT key, version, status, change_request_id FROM process_version "
                                     "ORDER BY key")).all()
            settings = conn.execute(text("SELECT count(*) FROM setting")).scalar_one()
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert [tuple(r) for r in rows] == [("customer_visit", 1, "active", None), ("sample_request", 1, "active", None)]
    assert settings == 0
    assert engine.governance("adm")["on"] is False
    assert engine.instance("rep1", running)["version"] == 1
    assert engine.instance("rep1", engine.start("rep1", "sample_request", SAMPLE_REQUEST))["version"] == 1
