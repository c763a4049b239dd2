"""Migration 0004 fills instance.customer_name from the data of instances that existed before it."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from engine.store.db import alembic_config

ROWS = {1: {"customer_name": "  合肥建工集团 "}, 2: {"amount_yuan": 5}, 3: {"customer_name": 42},
        4: {"customer_name": "x" * 250}}


def test_upgrading_to_0004_copies_each_customer_name(engine, db_url):
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0003")
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.execute(text("INSERT INTO process_version (id, key, version, name, sha256, spec_json, model_json, "
                              "serializer_version, deployed_by, deployed_at, note) VALUES (1, 'p', 1, 'P', '', '{}', "
                              "'{}', '1', 'system', '2026-03-02 01:00:00', '')"))
            for iid, data in ROWS.items():
                conn.execute(text("INSERT INTO instance (id, process_version_id, process_key, status, started_by, "
                                  "started_at, state_json, serializer_version, data_json, rev) VALUES (:id, 1, 'p', "
                                  "'running', 'rep1', '2026-03-02 01:00:00', '{}', '1', :data, 0)"),
                             {"id": iid, "data": json.dumps(data, ensure_ascii=False)})
        command.upgrade(cfg, "head")
        with raw.connect() as conn:
            names = dict(conn.execute(text("SELECT id, customer_name FROM instance")).all())
    finally:
        command.upgrade(cfg, "head")  # the next tests need the whole schema whatever happened here
        raw.dispose()
    assert names == {1: "合肥建工集团", 2: None, 3: None, 4: "x" * 200}
