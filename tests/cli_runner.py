"""Run the `salesflow` command line in the test process, as the installed script would run it.

A real subprocess costs a Python start and every import (about a second of CPU) per call, and the CLI
tests make hundreds of calls. In the test process the same `main()` runs with its own argv, environment,
stdin, stdout and stderr, and its exit code comes back as a subprocess's would: the tests read a
`CompletedProcess` either way. `INSTALLED` is the console script itself, for the few tests that prove the
installed command (tests/test_cli__commands.py, the worker in tests/test_notify__worker.py)."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path
from subprocess import CompletedProcess

from click.testing import CliRunner

from salesflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
# the console script beside the interpreter running the tests (.venv/bin/salesflow under `make test`)
INSTALLED = Path(sys.executable).with_name("salesflow")


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> CompletedProcess:
    """`salesflow *args` with exactly `env` as its SALESFLOW_* settings, in the repository folder."""
    settings: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SALESFLOW_")}
    settings.update({k: v for k, v in env.items() if k.startswith("SALESFLOW_")})
    runner = CliRunner()
    code, argv = 0, sys.argv
    with runner.isolation(input=stdin, env=settings) as (out, err, _), contextlib.chdir(ROOT):
        sys.argv = ["salesflow", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # what the real process would die of: a traceback on stderr, exit 1
            sys.stderr.write(traceback.format_exc())
            code = 1
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return CompletedProcess(["salesflow", *args], code, stdout, stderr)
