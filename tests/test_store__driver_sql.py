"""engine/store/driver_sql.py: a statement run as the driver's SQL writes what SQLAlchemy would have written
(values converted by their column types), in the session's transaction, and refuses what it cannot run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import IntegrityError

from engine import Engine
from engine.store.driver_sql import DriverStatement, Placeholders, fetch
from engine.store.models import ApiToken, AuditChain, User
from tests.conftest import add_users

_ADD_TOKEN = DriverStatement(text("INSERT INTO api_token (token_hash, username, created_at, expires_at, revoked) "
                                  "VALUES (:digest, :username, :at, :until, :revoked)")
                             .bindparams(bindparam("at", type_=ApiToken.__table__.c.created_at.type),
                                         bindparam("until", type_=ApiToken.__table__.c.expires_at.type)))


def test_values_are_converted_by_their_types_as_sqlalchemy_would(engine: Engine):
    add_users(engine, {"ann": ["sales_rep"]})
    at = datetime(2026, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8)))  # 08:30 UTC
    with engine.db.write() as s:
        _ADD_TOKEN.execute(s, {"digest": "d" * 64, "username": "ann", "at": at, "until": at + timedelta(hours=12),
                               "revoked": False})
    with engine.db.read() as s:
        row = s.execute(select(ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked)).one()
    assert row.created_at == at and row.expires_at == at + timedelta(hours=12) and row.revoked is False


def test_it_runs_in_the_sessions_transaction(engine: Engine):
    add_users(engine, {"ann": ["sales_rep"]})
    with pytest.raises(RuntimeError), engine.db.write() as s:
        _ADD_TOKEN.execute(s, {"digest": "e" * 64, "username": "ann", "at": datetime.now(UTC),
                               "until": datetime.now(UTC), "revoked": False})
        raise RuntimeError("the command fails")
    with engine.db.read() as s:
        assert s.scalar(select(ApiToken.id)) is None


def test_several_values_and_a_missing_one(engine: Engine):
    insert = DriverStatement(AuditChain.__table__.insert(), ("chain", "length", "head"))
    with engine.db.write() as s:
        insert.execute(s, [{"chain": f"test:{i}", "length": i, "head": "0" * 64} for i in range(3)])
        with pytest.raises(KeyError):
            insert.execute(s, {"chain": "test:9", "length": 9})
    with engine.db.read() as s:
        assert s.scalars(select(AuditChain.length).where(AuditChain.chain.like("test:%"))).all() == [0, 1, 2]


def test_a_statement_whose_text_depends_on_its_values_is_refused(engine: Engine):
    names = DriverStatement(select(User.id).where(User.username.in_(bindparam("names", expanding=True))))
    with engine.db.read() as s, pytest.raises(ValueError):
        names.execute(s, {"names": ["ann"]})


_TOKENS = DriverStatement(select(ApiToken.username, ApiToken.created_at, ApiToken.revoked.label("gone"))
                          .where(ApiToken.username == bindparam("username")).order_by(ApiToken.id))


def test_rows_come_back_converted_by_their_types_as_a_core_result_gives_them(engine: Engine):
    add_users(engine, {"ann": ["sales_rep"]})
    at = datetime(2026, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    with engine.db.write() as s:
        for i, revoked in enumerate((False, True)):
            _ADD_TOKEN.execute(s, {"digest": f"{i}" * 64, "username": "ann", "at": at + timedelta(minutes=i),
                                   "until": at, "revoked": revoked})
    with engine.db.read() as s:
        rows = _TOKENS.rows(s, {"username": "ann"})
        core = s.execute(_TOKENS.statement, {"username": "ann"}).all()
        assert _TOKENS.rows(s, {"username": "bob"}) == []
    assert [tuple(r) for r in rows] == [tuple(r) for r in core]
    assert rows[1].created_at == at + timedelta(minutes=1) and rows[1].created_at.tzinfo is not None
    assert [r.gone for r in rows] == [False, True] and rows[0][0] == "ann"


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it_and_nothing_is_kept(engine: Engine):
    insert = DriverStatement(AuditChain.__table__.insert(), ("chain", "length", "head"))
    with pytest.raises(IntegrityError), engine.db.write() as s:
        insert.execute(s, {"chain": "test:dup", "length": 1, "head": "0" * 64})
        insert.execute(s, {"chain": "test:dup", "length": 2, "head": "0" * 64})
    with engine.db.read() as s:
        assert s.scalar(select(AuditChain.length).where(AuditChain.chain == "test:dup")) is None


def test_the_engines_cursor_listeners_see_each_statement(engine: Engine):
    seen: list[tuple[str, bool]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], executemany))

    insert = DriverStatement(AuditChain.__table__.insert(), ("chain", "length", "head"))
    with engine.db.write() as s:
        sql_engine = s.get_bind()
        event.listen(sql_engine, "before_cursor_execute", before)
        try:
            insert.execute(s, [{"chain": f"test:e{i}", "length": i, "head": "0" * 64} for i in range(2)])
            _TOKENS.rows(s, {"username": "nobody"})
        finally:
            event.remove(sql_engine, "before_cursor_execute", before)
    assert seen[-2:] == [("INSERT", True), ("SELECT", False)]


def test_sql_written_with_placeholders_reads_the_rows_the_driver_returns(engine: Engine):
    """A statement whose shape depends on its values (an IN list of any length), written with the driver's own
    placeholders: its values as given, in the session's transaction (a row written before the read is seen)."""
    add_users(engine, {"ann": ["sales_rep"], "bob": ["sales_rep"], "cy": ["sales_manager"]})
    with engine.db.write() as s:
        s.execute(text("UPDATE app_user SET display_name = 'Bob B' WHERE username = 'bob'"))
        p = Placeholders(s.get_bind().dialect)
        sql = (f"SELECT username, display_name FROM app_user WHERE username IN ({p.each(['bob', 'cy', 'dan'])}) "
               f"AND active = {p(True)} ORDER BY username")
        assert fetch(s, sql, p.values) == [("bob", "Bob B"), ("cy", "cy")]
        assert fetch(s, "SELECT count(*) FROM app_user WHERE username = " + p("ann"), p.values) == [(1,)]
