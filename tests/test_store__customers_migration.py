"""Migration 0013: the customer and customer_contact tables come and go with it, and the rest of the data
(instances, their trails) stays as it was."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from engine.store.db import alembic_config
from tests.conftest import add_users
from tests.web.conftest import SAMPLE_REQUEST, WEB_PEOPLE, p5_p6_files


def test_downgrading_below_0013_drops_the_customer_tables_and_upgrading_brings_them_back(engine, db_url):
    engine.deploy("system", p5_p6_files())
    add_users(engine, WEB_PEOPLE)
    iid = engine.start("rep1", "sample_request", SAMPLE_REQUEST)
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0012")
        tables = set(inspect(raw).get_table_names())
        assert "customer" not in tables and "customer_contact" not in tables
        command.upgrade(cfg, "head")
        tables = set(inspect(raw).get_table_names())
        assert {"customer", "customer_contact"} <= tables
        with raw.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM customer")).scalar_one() == 0
            assert conn.execute(text("SELECT id FROM instance")).scalars().all() == [iid]
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert engine.replay(iid, actor="aud").verified
