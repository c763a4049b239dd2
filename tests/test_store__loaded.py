"""engine/store/loaded.py: an object made from a Core row is the session's, as if the ORM had loaded it: one
object per row in the session, a change to it saved at the commit, a rolled-back change taken back."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.store import loaded
from engine.store.models import AuditChain, Instance, User

CHAIN = "test:loaded"


@pytest.fixture
def chain(engine: Engine) -> str:
    with engine.db.write() as s:
        s.add(AuditChain(chain=CHAIN, length=0, head="0" * 64))
    return CHAIN


def _row(s: Session) -> tuple:
    return s.execute(select(*loaded.columns(AuditChain)).where(AuditChain.__table__.c.chain == CHAIN)).one()


def _length_in_db(engine: Engine) -> int:
    with engine.db.read() as s:
        return s.scalar(select(AuditChain.length).where(AuditChain.chain == CHAIN))


def test_a_loaded_row_is_the_sessions_object_and_a_change_to_it_is_saved(engine: Engine, chain: str):
    with engine.db.write() as s:
        head = loaded.loaded(s, AuditChain, _row(s))
        assert s.get(AuditChain, chain) is head  # in the identity map: no second object
        assert head not in s.dirty and not s.new
        head.length = 7
        assert head in s.dirty
    assert _length_in_db(engine) == 7


def test_a_row_the_session_holds_already_gets_the_databases_values(engine: Engine, chain: str):
    with engine.db.write() as s:
        held = s.get(AuditChain, chain)
        held.length = 99
        again = loaded.loaded(s, AuditChain, _row(s))
        assert again is held and held.length == 0 and held not in s.dirty


def test_a_rolled_back_transaction_takes_a_change_to_a_loaded_row_back(engine: Engine, chain: str):
    with pytest.raises(RuntimeError), engine.db.write() as s:
        head = loaded.loaded(s, AuditChain, _row(s))
        head.length = 7
        s.flush()
        raise RuntimeError("the command fails")
    assert _length_in_db(engine) == 0


def test_an_outer_join_without_a_row_gives_none(engine: Engine):
    with engine.db.read() as s:
        assert loaded.loaded(s, Instance, [None] * loaded.width(Instance)) is None


def test_a_mapping_with_relationships_is_refused():
    with pytest.raises(TypeError):
        loaded.columns(User)


def test_a_column_left_out_is_read_when_first_used(engine: Engine, chain: str):
    with engine.db.write() as s:
        s.get(AuditChain, chain).head = "f" * 64
    with engine.db.read() as s:
        row = s.execute(select(*loaded.columns(AuditChain, ("head",)))
                        .where(AuditChain.__table__.c.chain == chain)).one()
        head = loaded.loaded(s, AuditChain, row, ("head",))
        assert "head" not in head.__dict__
        assert head.head == "f" * 64 and head.length == 0
