"""Guards the compiled diagram code calls instead of Python's operators and attribute access.

Python does the work of `10**(10**7)` or `'x' * 10**9` in one C call that no line counter and no
signal can interrupt, so the size of what an operator would make is checked before it runs.
Attribute access is an allow-list per type: only methods whose cost is linear in their input, and
none that reads the real clock (`now().now()`) or the machine's time zone.

Two sets of caps: `FULL` in a sandbox process (past them the run fails), and `INLINE` for the fast
path in the server process (past them `NeedsIsolation` sends the run to a sandbox process).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.sandbox import limits


class LimitExceeded(BaseException):  # it is a stop, not an error of the code
    """A sandbox limit was reached. A BaseException, and `try` does not compile in a diagram: the
    code that hit the limit can never catch it."""


class NeedsIsolation(BaseException):
    """The fast path met a value too large for it: run the code again in a sandbox process."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SEQUENCES = (str, list, tuple)
_STR_METHODS = _words("""capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit
    islower isnumeric isspace istitle isupper join lower lstrip partition removeprefix removesuffix replace
    rfind rindex rpartition rsplit rstrip split splitlines startswith strip swapcase title upper""")
_DATE_ATTRS = _words("""year month day weekday isoweekday isocalendar isoformat strftime toordinal replace
    ctime""")
_DATETIME_ATTRS = _DATE_ATTRS | _words("hour minute second microsecond date time utcoffset")
ALLOWED_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    list: _words("append clear copy count extend index insert pop remove reverse sort"),
    tuple: _words("count index"),
    dict: _words("clear copy get items keys pop popitem setdefault update values"),
    set: _words("""add clear copy difference discard intersection isdisjoint issubset issuperset pop remove
        symmetric_difference union update"""),
    frozenset: _words("copy difference intersection isdisjoint issubset issuperset union"),
    int: _words("bit_length denominator numerator real imag"),
    bool: frozenset(),
    float: _words("is_integer real imag"),
    date: _DATE_ATTRS,
    datetime: _DATETIME_ATTRS,
    time: _words("hour minute second microsecond isoformat strftime"),
    timedelta: _words("days seconds microseconds total_seconds"),
    range: _words("start stop step count index"),
}
# methods that cannot grow what they are given, for the fast path (no mutation either)
INLINE_METHODS = (_STR_METHODS - {"join", "replace"}) | _words("get keys values items count index") \
    | (_DATETIME_ATTRS - {"replace"}) | frozenset({"total_seconds"})


@dataclass(frozen=True)
class Caps:
    text: int
    items: int
    int_bits: int
    inline: bool  # the fast path: past a cap, run again in a sandbox process instead of failing


FULL = Caps(limits.MAX_TEXT, limits.MAX_ITEMS, limits.MAX_INT_BITS, inline=False)
INLINE = Caps(limits.INLINE_TEXT, limits.INLINE_ITEMS, limits.INLINE_INT_BITS, inline=True)


class Guards:
    """The operator and attribute guards for one set of caps, as the names the compiled code calls."""

    def __init__(self, caps: Caps) -> None:
        self.caps = caps

    def over(self, what: str) -> BaseException:
        if self.caps.inline:
            return NeedsIsolation(what)
        return LimitExceeded(what)

    # -- sizes --------------------------------------------------------------------------------
    def _int(self, value: int) -> int:
        if value.bit_length() > self.caps.int_bits:
            raise self.over(f"a whole number of more than {limits.MAX_INT_BITS:,} bits is not allowed")
        return value

    def _length(self, kind: type, length: int) -> None:
        cap, noun = (self.caps.text, "characters") if kind is str else (self.caps.items, "items")
        if length > cap:
            limit = limits.MAX_TEXT if kind is str else limits.MAX_ITEMS
            raise self.over(f"a {kind.__name__} of more than {limit:,} {noun} is not allowed")

    @staticmethod
    def _is_int(value: Any) -> bool:
        return isinstance(value, int)

    # -- operators ----------------------------------------------------------------------------
    def add(self, a: Any, b: Any) -> Any:
        if self._is_int(a) and self._is_int(b):
            return self._int(a + b)
        if isinstance(a, _SEQUENCES) and type(a) is type(b):
            self._length(type(a), len(a) + len(b))
        return a + b

    def sub(self, a: Any, b: Any) -> Any:
        if self._is_int(a) and self._is_int(b):
            return self._int(a - b)
        return a - b

    def mul(self, a: Any, b: Any) -> Any:
        if self._is_int(a) and self._is_int(b):
            if a.bit_length() + b.bit_length() > self.caps.int_bits + 1:
                raise self.over(f"a whole number of more than {limits.MAX_INT_BITS:,} bits is not allowed")
            return a * b
        seq, times = (a, b) if isinstance(a, _SEQUENCES) else (b, a)
        if isinstance(seq, _SEQUENCES) and self._is_int(times):
            self._length(type(seq), len(seq) * max(times, 0))
            if self.caps.inline and not isinstance(seq, str) and any(isinstance(x, _CONTAINERS) for x in seq):
                raise NeedsIsolation("repeating a container shares it")  # ((x,)*2,)*2 doubles the leaves
        return a * b

    def pow(self, a: Any, b: Any, mod: Any = None) -> Any:
        if mod is not None:
            if self._is_int(mod):
                self._int(mod)
            return pow(a, b, mod)
        if self._is_int(a) and self._is_int(b) and b > 0 and abs(a) > 1 \
                and (a.bit_length() - 1) * b > self.caps.int_bits:
            raise self.over(f"a whole number of more than {limits.MAX_INT_BITS:,} bits is not allowed")
        return a**b

    def lshift(self, a: Any, b: Any) -> Any:
        if self._is_int(a) and self._is_int(b) and a and b > 0 and a.bit_length() + b > self.caps.int_bits:
            raise self.over(f"a whole number of more than {limits.MAX_INT_BITS:,} bits is not allowed")
        return a << b

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str) and self.caps.inline:
            raise NeedsIsolation("text formatting with %")  # its size depends on the values: not a fast path
        if isinstance(a, str):
            _data_only(b)
        return a % b

    def inplace(self, op: str, a: Any, b: Any) -> Any:
        if op not in _INPLACE:
            raise PermissionError(f"operator {op} is not allowed")
        return _INPLACE[op](self, a, b)

    # -- builtins that could do unbounded work in one call ----------------------------------------
    def range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > limits.MAX_ITEMS:
            raise LimitExceeded(f"range() of more than {limits.MAX_ITEMS:,} items is not allowed")
        return result

    def sum(self, values: Any, start: Any = 0) -> Any:
        if not isinstance(start, (int, float)):
            raise TypeError("sum() adds numbers; join texts with ''.join(...) and lists with a loop")
        total = sum(values, start)
        return self._int(total) if self._is_int(total) else total

    def round(self, number: Any, ndigits: Any = None) -> Any:
        if ndigits is not None and self._is_int(ndigits) and abs(ndigits) > limits.MAX_ROUND_DIGITS:
            raise LimitExceeded(f"round() to more than {limits.MAX_ROUND_DIGITS} digits is not allowed")
        return round(number, ndigits)

    def format_field(self, value: Any, conversion: int, spec: str) -> str:
        """One `{value!r:spec}` field of an f-string."""
        if self.caps.inline and (not _scalar(value) or len(spec) > 4):  # a width of 1,000 or more
            raise NeedsIsolation("an f-string field")
        _data_only(value)
        if isinstance(value, (date, time)) and spec:
            return _strftime(value, spec)
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("s"):
            value = str(value)
        elif conversion == ord("a"):
            value = ascii(value)
        return format(value, spec)

    def join_text(self, *parts: str) -> str:
        """An f-string's fields and text, joined once their total length is known to be allowed."""
        self._length(str, sum(len(p) for p in parts))
        return "".join(parts)

    def str_of(self, *args: Any) -> str:
        """str(x) of data only: a function or an iterator would show its memory address."""
        if len(args) == 1:
            if self.caps.inline and not _scalar(args[0]):
                raise NeedsIsolation("text of a collection")
            _data_only(args[0])
        return str(*args)

    def repr_of(self, value: Any) -> str:
        if self.caps.inline and not _scalar(value):
            raise NeedsIsolation("text of a collection")
        _data_only(value)
        return repr(value)

    # -- attributes ---------------------------------------------------------------------------
    def getattr(self, obj: Any, name: str, default: Any = None) -> Any:
        allowed = ALLOWED_ATTRIBUTES.get(type(obj), frozenset())
        if not isinstance(name, str) or name not in allowed:
            raise AttributeError(f"'{type(obj).__name__}' has no attribute {name!r} a diagram may use")
        if type(obj) is str and name in ("join", "replace"):
            return getattr(self, f"_str_{name}")(obj)
        if type(obj) is list and name == "extend":
            return self._list_extend(obj)
        if name == "strftime":
            return lambda fmt: _strftime(obj, fmt)
        return getattr(obj, name)

    def _str_join(self, sep: str):  # noqa: ANN202 - a bound method's stand-in
        def join(parts: Any) -> str:
            parts = list(parts)
            if all(isinstance(p, str) for p in parts):
                self._length(str, sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0))
            return sep.join(parts)
        return join

    def _str_replace(self, text: str):  # noqa: ANN202
        def replace(old: str, new: str, count: int = -1) -> str:
            if isinstance(old, str) and isinstance(new, str):
                hits = (len(text) + 1) if old == "" else text.count(old)
                hits = hits if count < 0 else min(hits, count)
                self._length(str, len(text) + hits * (len(new) - len(old)))
            return text.replace(old, new, count)
        return replace

    def _list_extend(self, items: list):  # noqa: ANN202
        def extend(more: Any) -> None:
            more = list(more)
            self._length(list, len(items) + len(more))
            items.extend(more)
        return extend

    def names(self) -> dict[str, Any]:
        """What RestrictedPython's compiled code and our policy's rewrites call."""
        return {"_add_": self.add, "_sub_": self.sub, "_mul_": self.mul, "_pow_": self.pow,
                "_lshift_": self.lshift, "_mod_": self.mod, "_inplacevar_": self.inplace,
                "_fmt_": self.format_field, "_fstr_": self.join_text, "_str_": self.str_of,
                "_repr_": self.repr_of, "_getattr_": self.getattr}


_CONTAINERS = (list, tuple, dict, set, frozenset)
_DATA = (type(None), bool, int, float, str, date, time, timedelta)
# strftime directives that read neither the machine's time zone (%s) nor its locale (%c %x %X)
_DIRECTIVES = re.compile(r"%([aAbBdHIjmMpSUwWyYzZfGuV%])")
MAX_DATA_NODES = 100_000


def _data_only(value: Any) -> None:
    """Refuse text made of anything but data (nested lists, tuples, dicts and sets of plain values)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_DATA_NODES:
            raise LimitExceeded(f"a value of more than {MAX_DATA_NODES:,} parts cannot be made text")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif not isinstance(item, _DATA):
            raise TypeError(f"a {type(item).__name__} cannot be made text in a diagram (only data can)")


def _strftime(value: date | time, fmt: Any) -> str:
    """strftime with the directives that give the same text on every machine (%Y-%m-%d %H:%M ...)."""
    if not isinstance(fmt, str) or len(fmt) > 200:
        raise ValueError("a date format is a text of at most 200 characters")
    rest = _DIRECTIVES.sub("", fmt)
    if "%" in rest:
        raise ValueError("date formats may use %Y %m %d %H %M %S %f %j %a %A %b %B %p %I %U %W %w %y %z %Z "
                         "%G %u %V and %%, not machine-dependent ones such as %s, %c, %x or %X")
    return value.strftime(fmt)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, date, time, timedelta))


_INPLACE = {"+=": Guards.add, "-=": Guards.sub, "*=": Guards.mul, "**=": Guards.pow, "<<=": Guards.lshift,
            "%=": Guards.mod, "/=": lambda _g, a, b: a / b, "//=": lambda _g, a, b: a // b,
            ">>=": lambda _g, a, b: a >> b, "|=": lambda _g, a, b: a | b, "&=": lambda _g, a, b: a & b,
            "^=": lambda _g, a, b: a ^ b}
