"""engine/store/writes.py: a row a command writes at once with Core is the database's afterwards, as if the
flush had written it; a rolled-back SAVEPOINT or transaction takes its change back in memory too."""

from __future__ import annotations

from sqlalchemy import event, select

from engine import Engine
from engine.store.models import User
from engine.store.writes import write_changes
from tests.conftest import add_users


def _name_in_db(engine: Engine, username: str) -> str:
    with engine.db.read() as s:
        return s.scalar(select(User.display_name).where(User.username == username))


def test_a_written_row_is_saved_and_left_clean_for_the_flush(engine: Engine):
    add_users(engine, {"ann": ["sales_rep"]})
    sent: list[str] = []
    with engine.db.write() as s:
        user = s.scalar(select(User).where(User.username == "ann"))
        user.display_name = "Ann Lee"
        listener = lambda *args: sent.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            write_changes(s, user)
            assert not s.dirty  # nothing left for the flush at the commit
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
    assert [t.split()[0] for t in sent] == ["UPDATE"]
    assert _name_in_db(engine, "ann") == "Ann Lee"


def test_a_rolled_back_savepoint_takes_a_written_change_back_in_memory_too(engine: Engine):
    add_users(engine, {"ann": ["sales_rep"]})
    with engine.db.write() as s:
        user = s.scalar(select(User).where(User.username == "ann"))
        before = user.display_name
        savepoint = s.begin_nested()
        user.display_name = "Ann Lee"
        write_changes(s, user)
        savepoint.rollback()
        assert user.display_name == before  # expired by the rollback and read again, not the lost value
    assert _name_in_db(engine, "ann") == before


def test_a_column_set_to_the_value_it_had_is_not_sent(engine: Engine):
    """As the flush does: an UPDATE naming an indexed column rewrites its index entries (SQLite), so a step
    that sets the instance's customer name to the same one each time must not name it."""
    add_users(engine, {"ann": ["sales_rep"]})
    sent: list[str] = []
    with engine.db.write() as s:
        user = s.scalar(select(User).where(User.username == "ann"))
        user.username, user.display_name = "ann", "Ann Lee"  # the name as it was, a new display name
        listener = lambda *args: sent.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(s.get_bind(), "before_cursor_execute", listener)
        try:
            write_changes(s, user)
            user.username = "ann"
            write_changes(s, user)  # nothing changed since: no statement, and nothing left for the flush
            assert not s.dirty
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", listener)
    assert len(sent) == 1 and "display_name" in sent[0] and "username" not in sent[0]
    assert _name_in_db(engine, "ann") == "Ann Lee"
