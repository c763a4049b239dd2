"""Which values may leave diagram code, and how values cross to a sandbox process and back.

Only JSON values may stay in an instance's data: a script that leaves a date, a set, infinity or a
number a browser cannot hold exactly fails its step with a message naming the variable. (A datetime
left in the data once broke every timer pass: the state could not be saved.) Tuples become lists,
as JSON would make them anyway, so the running instance and its replay see the same data.

Between the server and a sandbox process values travel as JSON; an expression's result may also be
a date, a datetime or a duration (timer expressions), tagged with a key no stored data can hold.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from engine import jsonvalues
from engine.sandbox import limits


class OutputRefused(Exception):
    """A value that cannot be stored; `name` is the variable that holds it."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"variable {name!r} {reason}")
        self.name, self.reason = name, reason


_KIND_NAMES = {set: "a set", frozenset: "a set", datetime: "a date and time", date: "a date", timedelta: "a duration",
               bytes: "bytes", complex: "a complex number", range: "a range"}


def storable(name: str, value: Any) -> Any:
    """The value as it will be stored (tuples as lists), or OutputRefused saying why it cannot be.
    Python's kinds are checked here; what any JSON value may hold is engine/jsonvalues.py's rule.
    A value of more than MAX_NODES parts is refused before it is copied (a list holding itself
    twice, ten levels deep, is a thousand leaves)."""
    result = _json_kinds(name, value, 0, [0])
    flaw = jsonvalues.first_flaw(result, limits.MAX_JSON_DEPTH, safe_numbers=True)
    if flaw is not None:
        inside = f" (at {jsonvalues.where(flaw.path)})" if flaw.path else ""
        raise OutputRefused(name, _FLAWS[flaw.kind] + inside)
    if len(_TEXT.encode(result)) > limits.MAX_OUTPUT:
        raise OutputRefused(name, f"holds more than {limits.MAX_OUTPUT:,} characters of data")
    return result


_TEXT = json.JSONEncoder(ensure_ascii=False)  # json.dumps(value, ensure_ascii=False)'s encoder, kept
_FLAWS = {jsonvalues.DEEP: f"is nested more than {limits.MAX_JSON_DEPTH} levels deep",
          jsonvalues.NON_FINITE: "holds an infinite or undefined number (inf/nan), which cannot be stored",
          jsonvalues.UNSAFE_NUMBER: "holds a number beyond ±(2^53 - 1), which cannot be stored exactly",
          jsonvalues.NUL: "holds a NUL character, which cannot be stored",
          jsonvalues.SURROGATE: "holds text that is not valid Unicode (a lone surrogate)"}


MAX_NODES = 200_000


def _json_kinds(name: str, value: Any, depth: int, seen: list[int]) -> Any:
    if depth > limits.MAX_JSON_DEPTH:
        raise OutputRefused(name, _FLAWS[jsonvalues.DEEP])
    seen[0] += 1
    if seen[0] > MAX_NODES:
        raise OutputRefused(name, f"holds more than {MAX_NODES:,} values")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_kinds(name, v, depth + 1, seen) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise OutputRefused(name, "holds a mapping whose keys are not all texts, which cannot be stored")
        return {k: _json_kinds(name, v, depth + 1, seen) for k, v in value.items()}
    kind = _KIND_NAMES.get(type(value), type(value).__name__)
    hint = " (store dates as text, e.g. now().isoformat())" if isinstance(value, (date, timedelta)) else ""
    raise OutputRefused(name, f"holds {kind}, which cannot be stored{hint}")


# -- across the pipe ------------------------------------------------------------------------------
_TAGS = {"\x00datetime": datetime.fromisoformat, "\x00date": date.fromisoformat,
         "\x00timedelta": lambda s: timedelta(seconds=float(s))}


def to_wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"\x00datetime": value.isoformat()}
    if isinstance(value, date):
        return {"\x00date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"\x00timedelta": repr(value.total_seconds())}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [from_wire(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, text), = value.items()
            if key in _TAGS:
                return _TAGS[key](text)
        return {k: from_wire(v) for k, v in value.items()}
    return value


def dumps(message: dict) -> bytes:
    return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8") + b"\n"
