"""The one restricted environment for every expression in a diagram.

Conditions, script tasks, timer expressions and DMN cells all go through it.
Code is compiled by RestrictedPython (no imports, no names or attributes that
start with `_`, guarded item and attribute access), so dunder traversal such as
`().__class__.__base__.__subclasses__()` does not compile. "Now" comes only from
the engine's clock, which makes replay exact. SpiffWorkflow does not serialize
the script engine: `attach()` must run after every load.
"""

from __future__ import annotations

import ast
import operator
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from RestrictedPython import compile_restricted, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine import clock
from engine.config import COMPANY_TZ

_TZ = ZoneInfo(COMPANY_TZ)
_FILENAME = "<diagram>"
MAX_STEPS = 200_000  # lines one expression or script may execute; RestrictedPython has no CPU limit
MAX_RANGE = 100_000
_INPLACE = {"+=": operator.add, "-=": operator.sub, "*=": operator.mul, "/=": operator.truediv}


def _now() -> datetime:
    return clock.now()


def _today() -> str:
    return clock.now().astimezone(_TZ).date().isoformat()


def first_of_next_month() -> str:
    """ISO date of the first day of next month, in company time (for monthly timer starts)."""
    today = clock.now().astimezone(_TZ).date()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1).isoformat()


def local_datetime(date_iso: str, time: str = "00:00", days: int = 0) -> str:
    """ISO datetime in company time: `local_datetime(visit_date, "09:00", days=-1)`."""
    day = date.fromisoformat(str(date_iso)[:10]) + timedelta(days=days)
    hours, minutes = (int(part) for part in time.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=_TZ).isoformat()


def days_between(first_iso: str, second_iso: str) -> int:
    return (date.fromisoformat(str(second_iso)[:10]) - date.fromisoformat(str(first_iso)[:10])).days


def _range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ValueError(f"range() of more than {MAX_RANGE} items is not allowed in a diagram")
    return result


def _limited(fn, *args):  # noqa: ANN001, ANN002, ANN202
    """Run fn with a budget of executed lines in diagram code, so `while True: pass`
    in a script fails the step instead of holding the instance lock forever."""
    steps = 0

    def local(frame, event, arg):  # noqa: ANN001, ANN202
        nonlocal steps
        if event == "line":
            steps += 1
            if steps > MAX_STEPS:
                raise TimeoutError(f"the script ran more than {MAX_STEPS} steps")
        return local

    def on_call(frame, event, arg):  # noqa: ANN001, ANN202
        return local if frame.f_code.co_filename == _FILENAME else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)


def _inplacevar(op: str, x, y):  # noqa: ANN001, ANN202
    if op not in _INPLACE:
        raise PermissionError(f"operator {op} is not allowed")
    return _INPLACE[op](x, y)


def _globals() -> dict:
    builtins = dict(safe_builtins)
    builtins.update(sum=sum, min=min, max=max, any=any, all=all, sorted=sorted, list=list, dict=dict,
                    set=set, enumerate=enumerate, zip=zip, round=round, abs=abs, len=len, range=_range)
    return {
        "__builtins__": builtins,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "now": _now,
        "today": _today,
        "local_datetime": local_datetime,
        "days_between": days_between,
        "first_of_next_month": first_of_next_month,
    }


def global_names() -> frozenset[str]:
    """Every name a diagram expression can use without the data defining it (helpers, builtins)."""
    env = _globals()
    return frozenset(env) | frozenset(env["__builtins__"])


def compile_expression(source: str, mode: str = "eval"):  # noqa: ANN201 - a code object
    """Compile under the sandbox's rules; raises PermissionError naming what is not allowed."""
    _refuse_imports(source, mode)
    try:
        return compile_restricted(source, _FILENAME, mode)
    except SyntaxError as exc:
        # RestrictedPython reports its refusals as a tuple of messages with no line number,
        # which SpiffWorkflow's error formatter cannot handle: turn it into one clear message.
        msg = "; ".join(exc.msg) if isinstance(exc.msg, tuple) else str(exc.msg or exc)
        raise PermissionError(msg) from None


def _refuse_imports(source: str, mode: str) -> None:
    # RestrictedPython compiles `import x` and only fails when it runs; a diagram must be
    # refused when it is deployed, so imports are rejected here, at compile time.
    try:
        tree = ast.parse(source, _FILENAME, mode)
    except SyntaxError:
        return  # compile_restricted reports it with its own message
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise PermissionError(f"line {node.lineno}: imports are not allowed in a diagram")


class RestrictedEnvironment(TaskDataEnvironment):
    def __init__(self) -> None:
        super().__init__(_globals())

    def evaluate(self, expression, context, external_context=None):  # noqa: ANN001, ANN201
        code = compile_expression(expression, "eval")
        return _limited(super().evaluate, code, context, external_context)

    def execute(self, script, context, external_context=None):  # noqa: ANN001, ANN201
        code = compile_expression(script, "exec")
        return _limited(super().execute, code, context, external_context)


def script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment())


_ENGINE = script_engine()


def attach(workflow) -> None:  # noqa: ANN001 - a BpmnWorkflow
    """Give a (re)loaded workflow the restricted engine; it is never serialized."""
    workflow.script_engine = _ENGINE  # sub-workflows read their top workflow's engine
