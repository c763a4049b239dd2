"""The distinct customer names (instance_customer_name, migration 0017) behind the search by a part of a
customer's name: every name an instance carries is found, whether the instance took it at its start, at a
later task, from a message or before the migration; a command that leaves the name alone writes nothing."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, event, inspect, text

from engine.store.db import alembic_config
from tests.conftest import FIXTURES, add_users

REQUEST = {"customer_name": " ACME 贸易 ", "amount_yuan": 20000}


def _found(eng, customer: str) -> list[int]:
    return sorted(item["id"] for item in eng.search("aud", {"customer": customer})["items"])


def _names(url: str) -> list[str]:
    raw = create_engine(url)
    try:
        with raw.connect() as conn:
            return sorted(conn.execute(text("SELECT name FROM instance_customer_name")).scalars())
    finally:
        raw.dispose()


def test_upgrading_to_0017_keeps_each_name_of_the_instances_there_are_once(approval, db_url):
    first = approval.start("rep", "approval", dict(REQUEST))
    second = approval.start("rep2", "approval", dict(REQUEST))
    approval.start("rep", "approval", {"customer_name": "安徽海螺水泥", "amount_yuan": 5})
    raw = create_engine(db_url)
    cfg = alembic_config(db_url)
    try:
        command.downgrade(cfg, "0016")
        assert "instance_customer_name" not in inspect(raw).get_table_names()
        with raw.begin() as conn:  # a name the table never saw: the migration reads it from the instances
            conn.execute(text("UPDATE instance SET customer_name = '合肥建工集团' WHERE id = :id"), {"id": second})
        command.upgrade(cfg, "head")
    finally:
        command.upgrade(cfg, "head")
        raw.dispose()
    assert _names(db_url) == sorted(["ACME 贸易", "合肥建工集团", "安徽海螺水泥"])
    assert _found(approval, "acme") == [first]
    assert _found(approval, "建工") == [second]
    assert _found(approval, "海螺") == [second + 1]


def test_a_name_given_at_a_later_task_and_one_passed_on_by_a_message_are_found(engine):
    engine.deploy("system", [FIXTURES / "relay"])
    add_users(engine, {"rep": ["sales_rep"], "disp": ["dispatcher"], "aud": ["auditor"]})
    sender = engine.start("rep", "sender", {})
    assert _found(engine, "ACME") == []
    [confirm] = engine.inbox("rep")
    engine.complete("rep", confirm["id"], {"customer_name": "ACME 合肥", "quantity": 3})
    [sent] = [e for e in engine.history("aud", sender) if e["kind"] == "message_sent"]
    [receiver] = sent["payload"]["started"]
    assert _found(engine, "acme") == [sender, receiver]
    assert _found(engine, "合肥") == [sender, receiver]
    assert _names(engine.db.url) == ["ACME 合肥"]


def test_a_step_that_leaves_the_name_alone_or_takes_a_known_one_writes_no_name(approval):
    sent: list[str] = []
    listen = (Engine, "before_cursor_execute")  # every engine: the writer's among them

    def record(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    event.listen(*listen, record)
    try:
        iid = approval.start("rep", "approval", dict(REQUEST))
        started, sent[:] = [s for s in sent if "instance_customer_name" in s], []
        [task] = [t for t in approval.inbox("mgr") if t["instance_id"] == iid]
        approval.complete("mgr", task["id"], {"approved": True})
        completed, sent[:] = [s for s in sent if "instance_customer_name" in s], []
        again = approval.start("rep2", "approval", dict(REQUEST))
        known = [s for s in sent if "instance_customer_name" in s]
    finally:
        event.remove(*listen, record)
    assert len(started) == 1 and started[0].lstrip().upper().startswith("INSERT")
    assert completed == []
    assert known == []  # this process saw the name committed: the start sends nothing for it
    assert _names(approval.db.url) == ["ACME 贸易"]
    assert _found(approval, "贸易") == [iid, again]


def test_a_name_written_in_a_rolled_back_part_is_written_again(approval):
    from engine.runtime import customer_names

    with pytest.raises(RuntimeError), approval.db.write() as session:
        customer_names.remember(session, "回滚客户")
        raise RuntimeError("the command failed after the step")
    with approval.db.write() as session:  # a savepoint taken back (as a failed message start), the rest committed
        savepoint = session.begin_nested()
        customer_names.remember(session, "回滚客户")
        savepoint.rollback()
    assert _names(approval.db.url) == []
    iid = approval.start("rep", "approval", {"customer_name": "回滚客户", "amount_yuan": 5})
    assert _found(approval, "回滚") == [iid]
