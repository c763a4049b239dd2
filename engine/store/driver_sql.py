"""A Core statement compiled once per database dialect and run as the driver's own SQL.

Each `Session.execute` of a Core statement, even one built once, computes the statement's cache key,
finds its compiled form, and builds and converts its parameters through SQLAlchemy's generic paths:
on the command path (bench/command_cost.py) that came to 50-100 µs per statement around 10-60 µs in
SQLite, several times per command. A `DriverStatement` does that work once per dialect and then sends
the compiled text with the values converted by the same type processors (UTC times, ...) on a cursor of
the session's own connection (its transaction). `Connection.exec_driver_sql` still cost ~20 µs a statement
over the driver's (its execution context and cursor result), six times per command, so the cursor is the
driver's: the engine's `before_cursor_execute` and `after_cursor_execute` listeners are called as SQLAlchemy
calls them (statement counts, the tests' write counter), a driver error is raised as SQLAlchemy raises it
(`OperationalError`, `IntegrityError`, a lost connection invalidated), and an engine that logs its SQL (echo)
goes through `exec_driver_sql`.

A SELECT's rows come back through `rows`: each column converted by its type's result processor (as a Core
result would convert it), as a named tuple whose names are the ones a Core `Row` has. The Session's execution
path for a Core SELECT (its compile-state lookup, cache key, parameters, result metadata) cost 60-90 µs over
SQLite's own time; the command path's reads (the lock of a completion, the version of a start, the view's
two) go this way. As with `Session.execute` of a Core statement, nothing is flushed first.

Only for statements whose compiled text does not depend on the values: no expanding IN, no literal
rendering (checked when compiled).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.util import is_exit_exception


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    # (parameter name in the values, name in the SQL, type processor or None, default when not given)
    params: tuple[tuple[str, str, Callable[[Any], Any] | None, Any], ...]
    # a SELECT's columns: (key, type); their result processors and row class are made on the first read
    columns: tuple[tuple[str, Any], ...] = ()
    reading: list = field(default_factory=list)  # [(row class, processors by position or None)] once known


_REQUIRED = object()


class DriverStatement:
    """`statement` (for an INSERT without values: with `columns` as its parameters), compiled on first use
    for each dialect."""

    def __init__(self, statement: Executable, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, where: Session | Connection, values: dict | list[dict]) -> None:
        """Run with one set of values, or with several (the driver's executemany)."""
        conn = where.connection() if isinstance(where, Session) else where
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        if isinstance(values, list):
            _run(conn, compiled.sql, [_bound(compiled, v) for v in values], True).close()
        else:
            _run(conn, compiled.sql, _bound(compiled, values), False).close()

    def rows(self, where: Session | Connection, values: dict) -> list[tuple]:
        """A SELECT's rows (or an INSERT's RETURNING), each column converted by its type (a named tuple per row:
        `row.name` as on a Row)."""
        conn = where.connection() if isinstance(where, Session) else where
        compiled = self._compiled.get(conn.dialect.name) or self._compile(conn.dialect)
        cursor = _run(conn, compiled.sql, _bound(compiled, values), False)
        try:
            found = cursor.fetchall()
            if not compiled.reading:
                compiled.reading.append(_reading(compiled, cursor.description, conn.dialect))
        finally:
            cursor.close()
        make, processors = compiled.reading[0]
        if processors is None:
            return [make(row) for row in found]
        return [make([p(v) if p is not None else v for p, v in zip(processors, row, strict=True)]) for row in found]

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
        columns = tuple((c[0], c[3]) for c in getattr(compiled, "_result_columns", ()) or ())
        done = _Compiled(compiled.string, compiled.positional, tuple(params), columns)
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


def _run(conn: Connection, sql: str, params: tuple | dict | list, many: bool) -> Any:  # the driver's cursor
    """The driver's cursor after running `sql`, as `Connection._exec_single_context` runs it less its execution
    context: the cursor events when the engine has listeners, a driver error (or an interruption) handed to
    the connection's own handling, which wraps it and invalidates a lost connection."""
    if conn._echo:  # the engine logs its statements: SQLAlchemy's path, which logs them
        return conn.exec_driver_sql(sql, params).cursor
    cursor = conn.connection.dbapi_connection.cursor()
    events = conn._has_events or conn.engine._has_events
    if events:
        for listener in conn.dispatch.before_cursor_execute:
            sql, params = listener(conn, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except BaseException as exc:
        if isinstance(exc, conn.dialect.loaded_dbapi.Error) or is_exit_exception(exc):
            conn._handle_dbapi_exception(exc, sql, params, cursor, None)  # private; SQLAlchemy is pinned
        cursor.close()
        raise
    if events:
        for listener in conn.dispatch.after_cursor_execute:
            listener(conn, cursor, sql, params, None, many)
    return cursor


def _reading(compiled: _Compiled, description: Sequence, dialect: Dialect) -> tuple[Callable, list | None]:
    """(the row class, each column's result processor, or None when no column has one), from the compiled
    SELECT's columns and the driver's description of them (a processor may depend on the driver's type)."""
    if not compiled.columns or len(compiled.columns) != len(description):
        raise ValueError("rows are read from a SELECT whose compiled columns match what the driver returns")
    processors = [type_._cached_result_processor(dialect, d[1]) for (_key, type_), d in
                  zip(compiled.columns, description, strict=True)]
    row = namedtuple("Row", [key for key, _type in compiled.columns], rename=True)._make
    return row, processors if any(p is not None for p in processors) else None


class Placeholders:
    """The values of a statement written as the driver's own SQL text (one whose shape depends on its values, such as
    the KPI page's reads): each value called with gets a name and returns its placeholder in the driver's style
    (`:p0` for sqlite3, `%(p0)s` for psycopg); `values` is what `fetch` sends with the text. A text() statement
    instead cost SQLAlchemy a regular-expression parse of its parameters and a Row per result row (phase 1 of the
    page's ranks: ~1.5 us a row, 20,000 rows a measure for 30 days at a million instances)."""

    def __init__(self, dialect: Dialect) -> None:
        self.style = "%({})s" if dialect.name == "postgresql" else ":{}"
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return self.style.format(name)

    def each(self, values: Sequence) -> str:
        """Placeholders of the values, separated by commas (an IN list)."""
        return ", ".join(self(v) for v in values)


def fetch(where: Session | Connection, sql: str, values: dict) -> list[tuple]:
    """The rows of the driver's own SQL (`Placeholders`), as the driver returns them (no type conversion)."""
    conn = where.connection() if isinstance(where, Session) else where
    cursor = _run(conn, sql, values, False)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()
