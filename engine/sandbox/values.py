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
import math
from datetime import date, datetime, timedelta
from typing import Any

from engine.sandbox import limits


class OutputRefused(Exception):  # noqa: N818
    """A value that cannot be stored; `name` is the variable that holds it."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"variable {name!r} {reason}")
        self.name, self.reason = name, reason


_KIND_NAMES = {set: "a set", frozenset: "a set", datetime: "a date and time", date: "a date", timedelta: "a duration",
               bytes: "bytes", complex: "a complex number", range: "a range"}


def storable(name: str, value: Any) -> Any:
    """The value as it will be stored (tuples as lists), or OutputRefused saying why it cannot be."""
    result = _storable(name, value, 0)
    if len(json.dumps(result, ensure_ascii=False)) > limits.MAX_OUTPUT:
        raise OutputRefused(name, f"holds more than {limits.MAX_OUTPUT:,} characters of data")
    return result


def _storable(name: str, value: Any, depth: int) -> Any:  # noqa: PLR0911 - one return per JSON kind
    if depth > limits.MAX_JSON_DEPTH:
        raise OutputRefused(name, f"is nested more than {limits.MAX_JSON_DEPTH} levels deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > limits.MAX_SAFE_INTEGER:
            raise OutputRefused(name, "holds a whole number beyond ±2^53, which cannot be stored exactly")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputRefused(name, "holds an infinite or undefined number (inf/nan), which cannot be stored")
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise OutputRefused(name, "holds a NUL character, which cannot be stored")
        return value
    if isinstance(value, (list, tuple)):
        return [_storable(name, v, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise OutputRefused(name, "holds a mapping whose keys are not all texts, which cannot be stored")
        return {k: _storable(name, v, depth + 1) for k, v in value.items()}
    kind = _KIND_NAMES.get(type(value), type(value).__name__)
    hint = " (store dates as text, e.g. now().isoformat())" if isinstance(value, (date, timedelta)) else ""
    raise OutputRefused(name, f"holds {kind}, which cannot be stored{hint}")


def is_stored_kind(value: Any) -> bool:
    """Whether a script may leave this behind at all (functions a script defines are dropped, not refused)."""
    return not callable(value)


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
