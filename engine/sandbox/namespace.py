"""What diagram code can name: a short list of builtins, the guards, and the engine's helpers.

"Now" is a value given to each run (the command's frozen instant), never a clock: `now()` returns
it, and no attribute of a date leads back to the machine's clock or time zone (guards.py). No `id()`
(it leaks addresses) and no `hash()` (it differs between processes, so replay could not agree).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence

from engine import workdays
from engine.config import COMPANY_TZ
from engine.sandbox.guards import Guards

_TZ = ZoneInfo(COMPANY_TZ)
_PLAIN_BUILTINS = {
    "None": None, "True": True, "False": False, "abs": abs, "bool": bool, "callable": callable, "chr": chr,
    "divmod": divmod, "float": float, "hex": hex, "int": int, "isinstance": isinstance, "len": len, "oct": oct,
    "ord": ord, "repr": repr, "str": str, "slice": slice, "tuple": tuple, "list": list, "dict": dict, "set": set,
    "frozenset": frozenset, "min": min, "max": max, "any": any, "all": all, "sorted": sorted,
    "enumerate": enumerate, "zip": zip, "reversed": reversed,
    "ArithmeticError": ArithmeticError, "AssertionError": AssertionError, "IndexError": IndexError,
    "KeyError": KeyError, "LookupError": LookupError, "TypeError": TypeError, "ValueError": ValueError,
    "ZeroDivisionError": ZeroDivisionError,
}
HELPERS = ("now", "today", "local_datetime", "days_between", "first_of_next_month", "working_days_after")


def local_datetime(date_iso: str, time: str = "00:00", days: int = 0) -> str:
    """ISO datetime in company time: `local_datetime(visit_date, "09:00", days=-1)`."""
    day = date.fromisoformat(str(date_iso)[:10]) + timedelta(days=days)
    hours, minutes = (int(part) for part in time.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=_TZ).isoformat()


def days_between(first_iso: str, second_iso: str) -> int:
    return (date.fromisoformat(str(second_iso)[:10]) - date.fromisoformat(str(first_iso)[:10])).days


def helpers(now: datetime) -> dict[str, Any]:
    """The engine's helpers, reading `now` (UTC) instead of a clock."""
    def first_of_next_month() -> str:
        """ISO date of the first day of next month, in company time (for monthly timer starts)."""
        today = now.astimezone(_TZ).date()
        return date(today.year + today.month // 12, today.month % 12 + 1, 1).isoformat()

    def working_days_after(days: int, start: str | None = None) -> str:
        """ISO datetime `days` working days after `start` (ISO datetime; default: now), company time,
        skipping weekends and the company's holidays (processes/calendar.yaml)."""
        begin = now if start is None else datetime.fromisoformat(str(start))
        if begin.tzinfo is None:
            begin = begin.replace(tzinfo=_TZ)
        return workdays.add_working_days(begin, days).isoformat()

    return {"now": lambda: now, "today": lambda: now.astimezone(_TZ).date().isoformat(),
            "local_datetime": local_datetime, "days_between": days_between,
            "first_of_next_month": first_of_next_month, "working_days_after": working_days_after}


def build(guards: Guards, now: datetime) -> dict[str, Any]:
    """The globals of one run."""
    builtins = dict(_PLAIN_BUILTINS)
    builtins.update(range=guards.range, sum=guards.sum, round=guards.round, pow=guards.pow)
    return {"__builtins__": builtins, "__name__": "diagram", "__metaclass__": type,
            "_getitem_": default_guarded_getitem, "_getiter_": default_guarded_getiter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": full_write_guard, **guards.names(), **helpers(now)}


def global_names() -> frozenset[str]:
    """Every name a diagram can use without the data defining it (builtins and helpers)."""
    return frozenset(_PLAIN_BUILTINS) | {"range", "sum", "round", "pow"} | frozenset(HELPERS)
