"""Counting the SQL statements the engine's commands send to the database (issue 17's target 2).

    counter = StatementCounter.attach(eng.db)
    counter.reset(); eng.complete(...); n = counter.take()   # Count(statements=5, begins=1)

Every statement the driver executes through SQLAlchemy is counted (`before_cursor_execute` on the
Database's writer and reader engines). Transaction starts are counted apart, from the `begin`
event: SQLite's `BEGIN [IMMEDIATE]` is a statement we send ourselves (engine/store/db.py), while
psycopg sends PostgreSQL's BEGIN implicitly, so counting the event gives both databases the same
figure. The COMMIT at the end of each transaction is the driver's `commit()` and is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine as SqlEngine

from engine.store.db import Database


@dataclass(frozen=True)
class Count:
    statements: int
    begins: int

    def __str__(self) -> str:
        begins = "BEGIN" if self.begins == 1 else f"{self.begins} BEGIN"
        return f"{self.statements} statements + {begins}"


class StatementCounter:
    """Counts statements and transaction starts on every SQLAlchemy engine of one Database."""

    def __init__(self) -> None:
        self.statements = 0
        self.begins = 0
        self.texts: list[str] = []  # the statements since the last reset, to show what a command sends
        self._engines: list[SqlEngine] = []

    @classmethod
    def attach(cls, db: Database) -> StatementCounter:
        counter = cls()
        for sql_engine in {id(e): e for e in (db._writer, db._reader)}.values():  # one engine on PostgreSQL
            event.listen(sql_engine, "before_cursor_execute", counter._statement)
            event.listen(sql_engine, "begin", counter._begin)
            counter._engines.append(sql_engine)
        return counter

    def detach(self) -> None:
        for sql_engine in self._engines:
            event.remove(sql_engine, "before_cursor_execute", self._statement)
            event.remove(sql_engine, "begin", self._begin)
        self._engines = []

    def reset(self) -> None:
        self.statements = self.begins = 0
        self.texts = []

    def take(self) -> Count:
        """The count since the last reset; resets."""
        count = Count(self.statements, self.begins)
        self.reset()
        return count

    def _statement(self, _conn, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        if statement.lstrip()[:5].upper() == "BEGIN":  # SQLite's, counted by _begin
            return
        self.statements += 1
        self.texts.append(" ".join(statement.split())[:120])

    def _begin(self, _conn) -> None:  # noqa: ANN001
        self.begins += 1
