"""The server's side of the sandbox processes: start them, send them work, stop them when they overrun.

A run that needs a sandbox takes an idle process from a small pool (or starts one, about 0.1 s) and
gives it back when it answered. A process that does not answer within WALL_SECONDS is killed, and
one the OS ended (SIGXCPU past its CPU backstop) is replaced: either way the server thread only ever
waits on a pipe, never on the work, so one instance's script cannot stall another's request.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from engine.sandbox import limits
from engine.sandbox.guards import LimitExceeded

_ROOT = Path(__file__).resolve().parents[2]
# Import only engine.sandbox in the sandbox process: a stand-in `engine` package keeps engine/__init__
# (the database layer, SpiffWorkflow) out of it — less to start, and less for diagram code to reach.
_BOOT = ("import sys, types; engine = types.ModuleType('engine'); engine.__path__ = [sys.argv[1]]; "
         "sys.modules['engine'] = engine; from engine.sandbox.child import main; main()")
_MAX_ANSWER = 4 * limits.MAX_OUTPUT + 65536
_IDLE_KEPT = 4


class SandboxProcess:
    def __init__(self) -> None:
        env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(  # our own interpreter and bootstrap
            [sys.executable, "-s", "-B", "-c", _BOOT, str(_ROOT / "engine")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=str(_ROOT), close_fds=True)
        self.pending = b""

    def call(self, request: bytes) -> dict[str, Any]:
        try:
            self.proc.stdin.write(request)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._ended() from None
        return json.loads(self._answer(time.monotonic() + limits.WALL_SECONDS))

    def _answer(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise LimitExceeded(f"the code did not finish within {limits.WALL_SECONDS:g} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise self._ended()
            self.pending += chunk
            if len(self.pending) > _MAX_ANSWER:
                self.kill()
                raise LimitExceeded("the code's result is too large")
        line, _, self.pending = self.pending.partition(b"\n")
        return line

    def _ended(self) -> LimitExceeded:
        code = self.kill()
        if code in (-signal.SIGXCPU, -signal.SIGKILL):
            return LimitExceeded(f"the code used more than {limits.CPU_SECONDS:g} s of CPU time")
        return LimitExceeded(f"the sandbox process stopped unexpectedly (exit status {code})")

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()

    def alive(self) -> bool:
        return self.proc.poll() is None


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[SandboxProcess] = []
        self._pid = os.getpid()

    def run(self, line: bytes) -> dict[str, Any]:
        process = self._take()
        try:
            answer = process.call(line)
        except BaseException:
            process.kill()
            raise
        if answer.get("restart"):
            process.kill()
        else:
            self._give_back(process)
        return answer

    def _take(self) -> SandboxProcess:
        with self._lock:
            if self._pid != os.getpid():  # forked (gunicorn --preload): the parent's processes are not ours
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                process = self._idle.pop()
                if process.alive():
                    return process
        return SandboxProcess()

    def _give_back(self, process: SandboxProcess) -> None:
        with self._lock:
            if len(self._idle) < _IDLE_KEPT and self._pid == os.getpid():
                self._idle.append(process)
                return
        process.kill()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.kill()


POOL = _Pool()
atexit.register(POOL.close)


def run(request: bytes) -> dict[str, Any]:
    """Send one run (a line of values.dumps) to a sandbox process; its answer (child.py), or
    LimitExceeded when it overran."""
    return POOL.run(request)
