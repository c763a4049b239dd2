"""Shared helpers for the benchmarks: a throw-away database, a table printer, percentiles, timing.

A benchmark never touches the shared databases: SQLite runs in a temporary file, PostgreSQL in a
fresh database `bench_<name>_<pid>` on 127.0.0.1:5432 (user postgres) that is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

# Users are set up by the thousand; the production hash (scrypt) would dominate the setup time.
os.environ.setdefault("SALESFLOW_PASSWORD_HASH", "pbkdf2:sha256:1000")

from sqlalchemy import create_engine, text

from engine import Engine
from engine.clock import Clock

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = Path(__file__).resolve().parent / "processes"
FORMS = PROCESSES / "forms"
PG_SERVER = os.environ.get("SALESFLOW_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PASSWORD = "tulip-harbor-42"  # meets the password policy (engine/accounts/passwords.py)


def db_choices(value: str) -> list[str]:
    return ["sqlite", "postgres"] if value == "both" else [value]


def add_db_argument(parser: argparse.ArgumentParser, default: str = "both") -> None:
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default=default,
                        help=f"database(s) to measure (default {default})")


@contextlib.contextmanager
def database(kind: str, name: str) -> Iterator[str]:
    """A URL of an empty database that disappears afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"bench_{name}_")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind}")
    db_name = f"bench_{name}_{os.getpid()}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        yield f"{PG_SERVER}/{db_name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def engine_on(kind: str, name: str, clock: Clock | None = None) -> Iterator[Engine]:
    """An initialised engine (schema, role catalogue) on a fresh database of this kind."""
    with database(kind, name) as url:
        eng = Engine(url, clock=clock)
        try:
            eng.init()
            yield eng
        finally:
            eng.db.dispose()


def deploy(eng: Engine, bpmn: str) -> None:
    """Deploy one of bench/processes/*.bpmn with the forms it uses."""
    eng.deploy("system", [PROCESSES / bpmn, FORMS], note="benchmark")


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Stopwatch:
    """Adds up the time spent inside `with watch:` blocks."""

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.total += time.perf_counter() - self._start
        self.count += 1


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Print an aligned text table (numbers right-aligned) and return it."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    out = [title, line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]]
    text_out = "\n".join(out)
    print(text_out + "\n", flush=True)
    return text_out


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "", 1).replace("-", "", 1).replace("×", "").isdigit()


def machine() -> str:
    """One line naming the machine, for the figures' context."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {load:.2f}")
