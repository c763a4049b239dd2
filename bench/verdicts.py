"""Each target's verdict, as a benchmark prints it, and the one table `make bench` ends with.

A benchmark asks `verdict(...)` for the word it prints beside a target ("met" or "MISSED"). When
SALESFLOW_BENCH_VERDICTS names a file (`make bench` sets it), the verdict is also appended to that
file as one JSON line, so the targets of one run, measured by several commands, are summed up at its
end by `python -m bench.verdicts FILE`, and a target no command reported shows as not measured.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from bench.common import print_table

ENV = "SALESFLOW_BENCH_VERDICTS"
# The targets of issue 17 (and issue 7's throughput ratio), in the order the summary lists them.
TARGETS = {
    "17.1": "REST instances/s vs raw SpiffWorkflow (bench.rest_vs_raw)",
    "17.2": "engine command cost and statements (bench.command_cost)",
    "17.3": "REST completions with 4 gunicorn workers on PostgreSQL (bench.rest_latency)",
    "17.4": "bounded instance cost, task 500 vs task 10 (bench.cost_growth)",
    "17.5": "history page of a 500-task instance after the first view (bench.cost_growth)",
    "17.6": "reads at ten times the size (bench.inbox_latency, bench.read_scale)",
    "7.1": "engine throughput vs raw SpiffWorkflow (bench.engine_throughput)",
}


def verdict(target: str, what: str, figure: str, met: bool) -> str:
    """'met' or 'MISSED' for a figure held to a target ("17.2" and so on: TARGETS), recorded for the
    run's summary when SALESFLOW_BENCH_VERDICTS is set."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    word = "met" if met else "MISSED"
    path = os.environ.get(ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"target": target, "what": what, "figure": figure, "verdict": word},
                                 ensure_ascii=False) + "\n")
    return word


def summary(path: Path) -> list[list[str]]:
    """The summary's rows: every recorded verdict under its target, then the targets nobody measured."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    recorded = [json.loads(line) for line in lines if line.strip()]
    rows = []
    for target, title in TARGETS.items():
        mine = [r for r in recorded if r["target"] == target]
        rows += [[target, title if i == 0 else "", r["what"], r["figure"], r["verdict"]] for i, r in enumerate(mine)]
        if not mine:
            rows.append([target, title, "-", "-", "not measured"])
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.verdicts FILE (the file SALESFLOW_BENCH_VERDICTS named)", file=sys.stderr)
        return 2
    rows = summary(Path(args[0]))
    print_table("targets of this run (issue 17; issue 7's throughput ratio)",
                ["target", "what", "measured", "figure", "verdict"], rows)
    met = sum(r[4] == "met" for r in rows)
    print(f"{met} of {len(rows)} figures met their target", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
