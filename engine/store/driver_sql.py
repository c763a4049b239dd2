"""A Core statement compiled once per database dialect and run as the driver's own SQL.

Each `Session.execute` of a Core statement, even one built once, computes the statement's cache key,
finds its compiled form, and builds and converts its parameters through SQLAlchemy's generic paths:
on the command path (bench/command_cost.py) that came to 50-100 µs per statement around 10-60 µs in
SQLite, several times per command. A `DriverStatement` does that work once per dialect and then sends
the compiled text with the values converted by the same type processors (UTC times, ...) through
`Connection.exec_driver_sql`: the same connection and transaction as the session's, and the same
engine events (statement counts, logging) as any statement.

Only for statements whose compiled text does not depend on the values: no expanding IN, no literal
rendering (checked when compiled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # (parameter name in the values, name in the SQL, type processor or None, default when not given)
    params: tuple[tuple[str, str, Callable[[Any], Any] | None, Any], ...]


_REQUIRED = object()


class DriverStatement:
    """`statement` (for an INSERT without values: with `columns` as its parameters), compiled on first use
    for each dialect."""

    def __init__(self, statement: Executable, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, where: Session | Connection, values: dict | list[dict]) -> CursorResult:
        """Run with one set of values, or with several (the driver's executemany)."""
        conn = where.connection() if isinstance(where, Session) else where
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        if isinstance(values, list):
            return conn.exec_driver_sql(compiled.sql, [_bound(compiled, v) for v in values])
        return conn.exec_driver_sql(compiled.sql, _bound(compiled, values))

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement whose text depends on its values cannot be run as the driver's SQL")
        defaults = compiled.construct_params(_check=False)
        names = compiled.positiontup if compiled.positional else list(defaults)
        escaped = compiled.escaped_bind_names or {}
        processors = compiled._bind_processors  # private, as writes.py's: SQLAlchemy is pinned (pyproject.toml)
        params = []
        for name in names:
            required = compiled.binds[name].required  # as SQLAlchemy: a value not given is an error
            params.append((name, escaped.get(name, name), processors.get(name),
                           _REQUIRED if required else defaults[name]))
        done = _Compiled(compiled.string, compiled.positional, tuple(params))
        self._compiled[dialect.name] = done
        return done


def _bound(compiled: _Compiled, values: dict) -> tuple | dict:
    """The values in the driver's form: converted, in the order (qmark) or under the names (pyformat) of the SQL."""
    out = []
    for name, _sql_name, process, default in compiled.params:
        value = values[name] if default is _REQUIRED else values.get(name, default)
        out.append(process(value) if process is not None else value)  # None too, as SQLAlchemy does
    if compiled.positional:
        return tuple(out)
    return {p[1]: v for p, v in zip(compiled.params, out, strict=True)}
