"""Running compiled diagram code against a set of variables, in whichever process it runs.

`evaluate` returns the expression's value. `execute` returns what the script changed: the
variables it set (each checked by values.storable) and the ones it deleted, so the caller applies
them to the task's data only after the whole script succeeded — a failing script changes nothing.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from engine.sandbox import limits, namespace
from engine.sandbox.guards import FULL, INLINE, Guards, LimitExceeded
from engine.sandbox.policy import FILENAME, Compiled
from engine.sandbox.values import storable

T = TypeVar("T")
_FULL, _INLINE = Guards(FULL), Guards(INLINE)


@dataclass
class Changes:
    set: dict[str, Any] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)


def evaluate(compiled: Compiled, variables: Mapping[str, Any], now: datetime, inline: bool = False) -> Any:
    env = {**namespace.build(_INLINE if inline else _FULL, now), **used(compiled, variables)}
    run = (lambda: eval(compiled.code, env)) if inline else lambda: traced(eval, compiled.code, env)
    return run()


def execute(compiled: Compiled, variables: Mapping[str, Any], now: datetime, inline: bool = False) -> Changes:
    base = namespace.build(_INLINE if inline else _FULL, now)
    env = {**base, **used(compiled, variables)}
    if inline:
        exec(compiled.code, env)  # compiled by the sandbox's policy
    else:
        traced(exec, compiled.code, env)
    return changes(compiled.names, variables, env, base, inline)


def used(compiled: Compiled, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables the code names: it can reach no others."""
    return {name: variables[name] for name in compiled.names if name in variables}


def changes(names: frozenset[str], before: Mapping[str, Any], env: dict[str, Any], base: dict[str, Any],
            inline: bool) -> Changes:
    """What a script did to the variables it names (it cannot reach others); helpers and functions
    it defined are not data. On the fast path nothing can change a value in place, so a variable
    still holding the very object it was given is unchanged."""
    result = Changes()
    for name in sorted(names):
        if name in base or name not in env:
            if name in before and name not in env:
                result.deleted.append(name)
            continue
        value = env[name]
        if callable(value) or (inline and name in before and before[name] is value):
            continue
        stored = storable(name, value)
        if name not in before or _json(before[name]) != _json(stored):
            result.set[name] = stored
    return result


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def traced(fn: Callable[..., T], *args: Any) -> T:
    """Run fn counting the lines diagram code executes and the CPU it uses; past either limit the run
    stops with LimitExceeded. Lines are the deterministic bound (replay stops at the same line); CPU
    is read every CHECK_EVERY lines, so one line's work (bounded by the guards) is all it can overrun."""
    lines, started = 0, time.thread_time()

    def local(frame, event, arg):  # noqa: ANN001, ANN202
        nonlocal lines
        if event == "line":
            lines += 1
            if lines > limits.MAX_LINES:
                raise LimitExceeded(f"the code ran more than {limits.MAX_LINES:,} lines")
            if lines % limits.CHECK_EVERY == 0 and time.thread_time() - started > limits.CPU_SECONDS:
                raise LimitExceeded(f"the code used more than {limits.CPU_SECONDS:g} s of CPU time")
        return local

    def on_call(frame, event, arg):  # noqa: ANN001, ANN202
        return local if frame.f_code.co_filename == FILENAME else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)
