"""The sandbox process: runs diagram code that the server process does not run itself.

It reads one request per line on stdin and answers one line on stdout (JSON, values.to_wire).
The OS holds it to MEMORY_MB more address space than it needed to start and, as a backstop for
work inside one C call, to CPU_BACKSTOP_SECONDS beyond each run's budget (SIGXCPU ends it); the
server kills it when it does not answer within WALL_SECONDS. It imports nothing of the engine but
this package (see host.py's bootstrap), and runs with a fixed hash seed so that set order, and so
replay, is the same in every process.

Request: {"op": "eval"|"exec", "source", "variables", "now"}.
Answer:  {"ok": true, "value"} | {"ok": true, "set", "deleted"}
       | {"ok": false, "kind": "limit"|"output"|"error", "message", "line"?, "variable"?, "restart"?}
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import traceback
from datetime import datetime
from typing import Any

from engine.sandbox import limits, runner
from engine.sandbox.guards import LimitExceeded
from engine.sandbox.policy import FILENAME, CodeRefused, compile_code
from engine.sandbox.values import OutputRefused, dumps, from_wire, to_wire


def main() -> None:
    _limit_memory()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - nothing may write into the answer stream
    while True:
        line = stdin.readline()
        if not line:
            return  # the server went away
        answer = handle(line)
        stdout.write(_encode(answer))
        stdout.flush()
        if answer.get("restart"):
            return  # after running out of memory, a fresh process is cheaper than a fragmented one


def handle(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
        compiled = compile_code(request["source"], "eval" if request["op"] == "eval" else "exec")
        variables, now = from_wire(request["variables"]), datetime.fromisoformat(request["now"])
        _limit_cpu()
        if request["op"] == "eval":
            return {"ok": True, "value": to_wire(runner.evaluate(compiled, variables, now))}
        done = runner.execute(compiled, variables, now)
        return {"ok": True, "set": done.set, "deleted": done.deleted}
    except LimitExceeded as exc:
        return {"ok": False, "kind": "limit", "message": str(exc)}
    except MemoryError:
        return {"ok": False, "kind": "limit", "restart": True,
                "message": f"the code needed more than {limits.MEMORY_MB} MB of memory"}
    except OutputRefused as exc:
        return {"ok": False, "kind": "output", "message": exc.reason, "variable": exc.name}
    except CodeRefused as exc:
        return {"ok": False, "kind": "error", "message": str(exc)}
    except RecursionError:
        return {"ok": False, "kind": "error", "message": "the code called itself too deeply", "line": _line()}
    except Exception as exc:  # the code's own error: reported to the person who modelled it
        return {"ok": False, "kind": "error", "message": f"{type(exc).__name__}: {exc}", "line": _line()}


def _line() -> int | None:
    """The line of diagram code the current exception came from."""
    frames = [f for f in traceback.extract_tb(sys.exc_info()[2]) if f.filename == FILENAME]
    return frames[-1].lineno if frames else None


def _encode(answer: dict[str, Any]) -> bytes:
    try:
        return dumps(answer)
    except (TypeError, ValueError, OverflowError) as exc:  # an expression's value JSON cannot carry
        kind = "an infinite or undefined number" if isinstance(exc, ValueError) else "a value"
        return dumps({"ok": False, "kind": "output", "message": f"the expression's result is {kind} "
                      f"that cannot be passed on ({str(exc)[:200]})"})


def _limit_memory() -> None:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    start = pages * os.sysconf("SC_PAGE_SIZE")
    budget = start + limits.MEMORY_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))


def _limit_cpu() -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    allowed = math.ceil(usage.ru_utime + usage.ru_stime + limits.CPU_SECONDS) + limits.CPU_BACKSTOP_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (allowed, resource.RLIM_INFINITY))


if __name__ == "__main__":
    main()
