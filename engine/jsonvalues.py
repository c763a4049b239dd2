"""What a JSON value from outside may hold, checked in one walk: nesting at most `MAX_DEPTH`
levels, finite numbers, text that is valid Unicode without NUL.

`parse` is the strict reader for request bodies (the REST API, the modeler's JSON calls); the
forms (engine/forms.py) and the audit trail (engine/audit/chain.py) use `flaws` on values that
were already parsed. The walk is iterative, so a value nested 100,000 deep costs a loop, not a
RecursionError (which used to surface as an internal error, HTTP 500).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64  # a form's table of rows is 3 deep; nothing a person submits comes near 64
SAFE_INTEGER = 2**53 - 1  # larger numbers are not all exact as a double (JavaScript's Number.MAX_SAFE_INTEGER)

DEEP, NON_FINITE, UNSAFE_NUMBER, SURROGATE, NUL = "deep", "non_finite", "unsafe_number", "surrogate", "nul"


class NotAcceptable(ValueError):
    """A body that is not JSON we accept: malformed, NaN/Infinity, too deep, not valid Unicode (HTTP 400)."""


@dataclass(frozen=True)
class Flaw:
    path: tuple[str | int, ...]  # where: keys and list indexes from the top
    kind: str  # DEEP, NON_FINITE, UNSAFE_NUMBER, SURROGATE or NUL


def _text_flaw(text: str) -> str | None:
    if "\x00" in text:
        return NUL
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800 alone is no character)
        return SURROGATE
    return None


def _number_flaw(value: object, safe_numbers: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE
    if safe_numbers and abs(value) > SAFE_INTEGER:
        return UNSAFE_NUMBER
    return None


def flaws(value: Any, max_depth: int = MAX_DEPTH, safe_numbers: bool = False) -> Iterator[Flaw]:
    """Every flaw of the value, depth first; a container deeper than `max_depth` is one DEEP flaw
    (its insides are not walked). With `safe_numbers`, numbers beyond ±(2**53 - 1) are flaws too."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict | list):
            if len(path) >= max_depth:
                yield Flaw(path, DEEP)
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in reversed(list(pairs)):
                if isinstance(key, str) and (kind := _text_flaw(key)):
                    yield Flaw((*path, key), kind)
                else:
                    stack.append(((*path, key), child))
        elif isinstance(item, str):
            if kind := _text_flaw(item):
                yield Flaw(path, kind)
        elif kind := _number_flaw(item, safe_numbers):
            yield Flaw(path, kind)


def first_flaw(value: Any, max_depth: int = MAX_DEPTH, safe_numbers: bool = False) -> Flaw | None:
    return next(flaws(value, max_depth, safe_numbers), None)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse(raw: bytes | str) -> Any:
    """The JSON value of `raw`. Raises NotAcceptable for anything but strict JSON (NaN, Infinity and
    -Infinity are not JSON), nesting deeper than MAX_DEPTH, or text that is not valid Unicode.
    A number too large for a double (1e400) parses as infinity: callers find it with `flaws` and
    name its field (a finite-number rule of the data, not a syntax error)."""
    return read(raw)[0]


def read(raw: bytes | str) -> tuple[Any, list[Flaw]]:
    """`parse`, with the flaws it lets through (non-finite numbers, NUL characters) found in the same walk,
    in the order `flaws` gives them: a request body is walked once, not once here and once by its reader."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise NotAcceptable(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        raise NotAcceptable(f"not valid JSON: {exc}") from None
    rest = []
    for flaw in flaws(value):
        if flaw.kind == DEEP:
            raise NotAcceptable(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        if flaw.kind == SURROGATE:
            raise NotAcceptable("not valid Unicode: a text holds a lone surrogate")
        rest.append(flaw)
    return value, rest


def where(path: tuple[str | int, ...]) -> str:
    """A path as people write it: data.items[2].qty"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the value)"
