"""Run diagram code on the fast path when it may, else in a sandbox process; one answer either way."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

from engine.sandbox import host, runner
from engine.sandbox.guards import LimitExceeded, NeedsIsolation
from engine.sandbox.policy import Compiled, compile_code
from engine.sandbox.values import OutputRefused, dumps, from_wire, to_wire

T = TypeVar("T")


class CodeFailed(Exception):
    """The code raised an error of its own in the sandbox process (NameError, ZeroDivisionError, ...)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def evaluate(source: str, variables: Mapping[str, Any], now: datetime) -> Any:
    """The value of an expression; `variables` are the data and any names the caller adds."""
    return _run(compile_code(source, "eval"), variables, now, runner.evaluate,
                lambda answer: from_wire(answer["value"]))


def execute(source: str, variables: Mapping[str, Any], now: datetime) -> runner.Changes:
    """What a script changes in `variables` (they are not touched: the caller applies the changes)."""
    return _run(compile_code(source, "exec"), variables, now, runner.execute,
                lambda answer: runner.Changes(answer["set"], answer["deleted"]))


def _run(compiled: Compiled, variables: Mapping[str, Any], now: datetime,
         inline: Callable[..., T], from_answer: Callable[[dict[str, Any]], T]) -> T:
    """In this process when the policy allows and the code does not ask for more, else in a sandbox one."""
    if compiled.inline:
        with _own_errors():
            try:
                return inline(compiled, variables, now, inline=True)
            except NeedsIsolation:
                pass
    return from_answer(_isolated(compiled, variables, now))


@contextlib.contextmanager
def _own_errors() -> Iterator[None]:
    """The code's own errors on the fast path look as they do from a sandbox process."""
    try:
        yield
    except OutputRefused:
        raise
    except Exception as exc:
        raise CodeFailed(f"{type(exc).__name__}: {exc}") from None


def _isolated(compiled: Compiled, variables: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    try:
        request = {"op": compiled.mode, "source": compiled.source,
                   "variables": to_wire(runner.used(compiled, variables)), "now": now.isoformat()}
        line = dumps(request)
    except (TypeError, ValueError) as exc:
        raise CodeFailed(f"the data the code reads cannot be passed to the sandbox: {exc}") from None
    answer = host.run(line)
    if answer.get("ok"):
        return answer
    if answer.get("kind") == "limit":
        raise LimitExceeded(answer["message"])
    if answer.get("kind") == "output" and answer.get("variable"):
        raise OutputRefused(answer["variable"], answer["message"])
    raise CodeFailed(answer.get("message", "the code failed"), answer.get("line"))
