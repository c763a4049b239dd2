"""Migration 0009: instances that finished before outcomes existed get the outcome of the end event
their trail says they reached, and the versions deployed then learn their end events' outcomes."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import create_engine, text

from engine.store.db import alembic_config
from tests.conftest import add_users
from tests.web.conftest import SAMPLE_REQUEST, WEB_PEOPLE, p5_p6_files


def test_upgrading_to_0009_gives_finished_instances_their_outcome(engine, db_url):
    engine.deploy("system", p5_p6_files())
    add_users(engine, WEB_PEOPLE)
    rejected = engine.start("rep1", "sample_request", SAMPLE_REQUEST)
    [task] = engine.inbox("mgr1")
    engine.complete("mgr1", task["id"], {"approved": False, "comment": "额度已用完"})
    withdrawn = engine.start("rep1", "sample_request", SAMPLE_REQUEST)
    engine.cancel("rep1", withdrawn, "客户取消")
    running = engine.start("rep1", "sample_request", SAMPLE_REQUEST)

    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        with raw.begin() as conn:  # as deployed before 0009: no end event declared an outcome
            for vid, model_json in conn.execute(text("SELECT id, model_json FROM process_version")).all():
                models = json.loads(model_json)
                for model in models.values():
                    for element in model["elements"].values():
                        element.pop("outcome", None)
                conn.execute(text("UPDATE process_version SET model_json = :m WHERE id = :id"),
                             {"m": json.dumps(models), "id": vid})
        command.downgrade(cfg, "0008")
        command.upgrade(cfg, "head")
        with raw.connect() as conn:
            outcomes = dict(conn.execute(text("SELECT id, outcome FROM instance")).all())
            model = json.loads(conn.execute(text("SELECT model_json FROM process_version "
                                                 "WHERE key = 'sample_request'")).scalar_one())
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    # a withdrawal before 0009 was a cancellation: that is all the old trail can tell
    assert outcomes == {rejected: "rejected", withdrawn: "cancelled", running: None}
    assert model["sample_request"]["elements"]["rejected_by_sales"]["outcome"] == "rejected"
    assert model["sample_request"]["elements"]["request_completed"]["outcome"] == "approved"
