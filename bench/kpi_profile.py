"""Profile the KPI page (Engine.kpi) section by section on read_scale's data set, built once and kept.

    .venv/bin/python -m bench.kpi_profile --db sqlite --tasks 1000000 --open 100000 --keep /tmp/kpi_1m.db
    .venv/bin/python -m bench.kpi_profile --db postgres --keep bench_kpi_keep ...   # a kept PostgreSQL database

The first run loads the data (bench/inbox_latency.py) into the kept database; later runs reuse it (`--keep`
names a SQLite file or a PostgreSQL database that the run does not drop), so the page can be timed and
profiled again after each change without loading a million rows each time. Prints, for everything and for the
last 30 days, the wall time of each section and of the whole page. Remove the kept data yourself.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import inbox_latency, read_scale
from bench.common import PG_SERVER, deploy, machine
from engine import Engine
from engine.clock import ManualClock
from engine.kpi import report


def _url(kind: str, keep: str) -> tuple[str, bool]:
    """(url, whether the data are there already)."""
    if kind == "sqlite":
        return f"sqlite:///{keep}", Path(keep).exists()
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": keep}).first()
        if not found:
            conn.execute(text(f'CREATE DATABASE "{keep}"'))
    admin.dispose()
    return f"{PG_SERVER}/{keep}", bool(found)


def _sections(eng: Engine, filters: dict) -> dict[str, float]:
    """Seconds per section, each computed as report.build computes it."""
    from engine.kpi import definitions, measures
    from engine.kpi import filters as filter_rules
    timings: dict[str, float] = {}
    defs = definitions.load()
    with eng.db.read() as s:
        window = filter_rules.parse(s, filters, defs.timezone)
        now = eng.clock.now()

        def timed(name: str, fn):  # noqa: ANN001, ANN202
            start = time.perf_counter()
            value = fn()
            timings[name] = time.perf_counter() - start
            return value

        instances = timed("registered", lambda: measures.registered(s, window, defs.timezone))
        for measure in defs.measures:
            timed(f"times.{measure.key}", lambda m=measure: report.measure_times(s, defs, m, window, now))
        timed("resolution_rate", lambda: report._resolution_rate(s, defs, window, instances))
        timed("satisfaction", lambda: report._satisfaction(s, defs, window))
        timed("volume", lambda: report._volume(s, window, instances, now, defs.timezone))
        timed("outcomes", lambda: report._outcomes(instances))
        timed("sales", lambda: report._sales(s, defs, window, now))
        timed("operations", lambda: report.operations(s, window, now, defs.timezone))
        timed("appraisal", lambda: report.appraisal_figures(s, window, None))
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--keep", required=True, help="SQLite file or PostgreSQL database kept between runs")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--sections", action="store_true", help="also time each section")
    parser.add_argument("--no-everything", action="store_true", help="time the short ranges only")
    parser.add_argument("--days", type=int, nargs="+", default=[30],
                        help="the short ranges' days, ending the day before the clock (default 30; at 100,000 "
                             "instances the data span 35 days, so 3 days is the share of the data 30 days are at "
                             "1,000,000)")
    args = parser.parse_args(argv)
    url, ready = _url(args.db, args.keep)
    eng = Engine(url, clock=ManualClock(inbox_latency.now_after(args.open)))
    if not ready or os.environ.get("KPI_PROFILE_RELOAD"):
        eng.init()
        deploy(eng, "approval5.bpmn")
        start = time.perf_counter()
        inbox_latency.load(eng, args.tasks, args.open)
        print(f"loaded in {time.perf_counter() - start:.0f} s", flush=True)
    else:
        eng.init()  # migrations of the code being run (a no-op when the schema is current)
    _, day_to = read_scale._month(args.open)
    ranges = ([] if args.no_everything else [("everything", {})]) + [
        (f"{days} days", {"from": (date.fromisoformat(day_to) - timedelta(days=days - 1)).isoformat(), "to": day_to})
        for days in args.days]
    print(f"{args.db}: {machine()}", flush=True)
    for label, filters in ranges:
        times, cpu = [], []
        for _ in range(args.calls):
            start, start_cpu = time.perf_counter(), time.process_time()
            eng.kpi("auditor_0", filters)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(f"KPI {label}: wall {' '.join(f'{1000 * t:.0f}' for t in times)} ms, "
              f"cpu {' '.join(f'{1000 * t:.0f}' for t in cpu)} ms", flush=True)
        if args.sections:
            for name, seconds in _sections(eng, filters).items():
                print(f"  {name:<28} {1000 * seconds:8.1f} ms", flush=True)
    eng.db.dispose()


if __name__ == "__main__":
    main()
