"""Benchmark 4: does a task cost more the longer an instance runs?

One instance of bench/processes/loop.bpmn: the requester completes the same user task again and
again (an exclusive gateway loops back to it) until they answer more = false. We time the complete
of the 10th and of the Nth (default 500th) task; single timings on a shared machine are noisy, so
the ratio uses the median of the nine tasks around each (10 ± 4, N ± 4), in wall-clock time and in
this process's CPU time (time.process_time: what a loaded machine disturbs least; it leaves out the
PostgreSQL server's own time). The same loop runs in raw SpiffWorkflow in memory for comparison, and
cProfile shows where our time goes around task N. The engine cuts the finished part of a long
instance's task tree (engine/process/pruning.py); the table gives the saved tree's size at the end.

    .venv/bin/python -m bench.cost_growth --db both --tasks 500

Target: task N costs at most 2× task 10.

The same instance's history page is then opened as the web page does (`Engine.replay(states=True)`):
the first view replays every event through SpiffWorkflow; later views verify the chain and take the
replay from the engine's cache (engine/replay_cache.py). Target: a later view opens in < 1 s. The
table also gives what the cached entry costs in memory.

SpiffWorkflow 3.2 walks its task tree at most 1,000 levels deep (TaskIterator's `max_depth`), and
each round of this loop adds three levels (merge gateway, task, gateway): past ~333 rounds of a
whole tree the open task is out of sight and the workflow reports itself completed. The engine's
cut tree stays far shallower, but the benchmark still raises that limit, as the engine itself does
(engine/process/limits.py; `--spiff-max-depth`, default the engine's 100000) for both the engine and
raw SpiffWorkflow, and says so; `--spiff-max-depth 0` sets SpiffWorkflow's own limit, 1000, to show
raw SpiffWorkflow's premature end.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
from collections import defaultdict
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskIterator, TaskState
from sqlalchemy import func, select

from bench.common import PASSWORD, PROCESSES, add_db_argument, db_choices, deploy, engine_on, machine, print_table
from bench.verdicts import verdict
from engine import Engine
from engine.audit.chain import instance_chain
from engine.process import limits
from engine.process.spiff_logging import as_shipped
from engine.store.models import AuditChain, Instance, Task

KEY = "bench_loop"
BPMN = "loop.bpmn"
EARLY = 10
SPIFF_OWN_DEPTH = 1000  # TaskIterator's default in SpiffWorkflow 3.2
HALF_WINDOW = 4
LATER_VIEWS = 5  # the views after the first: their median is the figure against the target
VIEW_TARGET_S = 1.0
PROFILED = 3  # tasks after the late window run under cProfile (profiling would distort the timed ones)
START_DATA = {"customer_name": "长期客户", "amount_yuan": 1}


def set_spiff_max_depth(depth: int) -> int:
    """Set the default depth limit of SpiffWorkflow's task iterators; returns the previous one."""
    previous = TaskIterator.__init__.__defaults__[1]
    for cls in (TaskIterator, BpmnTaskIterator):
        defaults = list(cls.__init__.__defaults__)
        defaults[1] = depth  # (end_at_spec, max_depth, ...)
        cls.__init__.__defaults__ = tuple(defaults)
    return previous


def _ready_task_id(eng: Engine, instance_id: int, n: int) -> str:
    with eng.db.read() as s:
        task_id = s.scalar(select(Task.id).where(Task.instance_id == instance_id, Task.status == "ready"))
        if task_id is None:
            status = s.scalar(select(Instance.status).where(Instance.id == instance_id))
            raise AssertionError(f"before task {n} the instance is {status} with no open task: SpiffWorkflow lost "
                                 "sight of it (its task tree is deeper than TaskIterator's max_depth)")
        return task_id


def _window(times: list[float], at: int) -> list[float]:
    """The timings of tasks at-4 .. at+4 (1-based task numbers)."""
    return times[at - 1 - HALF_WINDOW: at + HALF_WINDOW]


def run_engine(kind: str, late: int, profile_top: int) -> dict:
    total = _total(late)
    with engine_on(kind, "cost_growth") as eng:
        deploy(eng, BPMN)
        eng.add_user("rep", ["sales_rep"], PASSWORD)
        iid = eng.start("rep", KEY, START_DATA)
        times: list[float] = []
        cpu: list[float] = []
        profiler = cProfile.Profile()
        profiled = range(late + HALF_WINDOW + 1, late + HALF_WINDOW + 1 + PROFILED)
        for n in range(1, total + 1):
            task_id = _ready_task_id(eng, iid, n)
            data = {"more": n < total, "note": f"第{n}次跟进"}
            profiling = profile_top and n in profiled
            if profiling:
                profiler.enable()
            start, start_cpu = time.perf_counter(), time.process_time()
            eng.complete("rep", task_id, data)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            if profiling:
                profiler.disable()
        with eng.db.read() as s:
            status, state_len, state = s.execute(select(Instance.status, func.length(Instance.state_json),
                                                        Instance.state_json).where(Instance.id == iid)).one()
        if status != "completed":
            raise AssertionError(f"the loop instance ended {status}")
        result = _summary(kind, times, late, cpu)
        result["state_kb"] = state_len / 1024
        result["tree"] = len(json.loads(state)["tasks"])
        result["history"] = time_history(eng, iid)
        result["profile"] = profiler if profile_top else None
        return result


def time_history(eng: Engine, iid: int) -> dict:
    """The history page's replay of the instance: the first view, then the median of the later ones."""
    views = []
    for _ in range(1 + LATER_VIEWS):
        start = time.perf_counter()
        result = eng.replay(iid, actor="rep", states=True)
        views.append(time.perf_counter() - start)
        if not result.verified:
            raise AssertionError(f"the loop instance does not replay: {result.first_mismatch}")
    with eng.db.read() as s:
        head = s.get(AuditChain, instance_chain(iid))
    entry = eng.replays.entry_bytes((iid, head.length, head.head))
    return {"events": result.steps, "first": views[0], "later": statistics.median(views[1:]),
            "entry_kb": entry / 1024 if entry is not None else None}


def run_raw(late: int) -> dict:
    with as_shipped():  # the yardstick is SpiffWorkflow as shipped, not as the engine tunes it
        return _run_raw(late)


def _run_raw(late: int) -> dict:
    parser = CamundaParser()
    parser.add_bpmn_file(str(PROCESSES / BPMN))
    wf = BpmnWorkflow(parser.get_spec(KEY), parser.get_subprocess_specs(KEY))
    wf.task_tree.data.update(START_DATA)
    wf.do_engine_steps()
    total = _total(late)
    times, cpu = [], []
    for n in range(1, total + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) != 1:
            raise AssertionError(f"raw SpiffWorkflow: {len(ready)} ready tasks before task {n} "
                                 f"(completed: {wf.is_completed()}); its task tree is deeper than max_depth")
        task = ready[0]
        task.set_data(more=n < total, note=f"第{n}次跟进")
        task.run()
        wf.do_engine_steps()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if not wf.is_completed():
        raise AssertionError("the raw loop did not end")
    result = _summary("raw SpiffWorkflow", times, late, cpu)
    result["state_kb"] = None
    result["tree"] = len(wf.tasks)
    return result


def _total(late: int) -> int:
    """Tasks in the run: the late window, the profiled ones, and a last one that ends the instance."""
    return late + HALF_WINDOW + PROFILED + 1


def _summary(label: str, times: list[float], late: int, cpu: list[float]) -> dict:
    early_med = statistics.median(_window(times, EARLY))
    late_med = statistics.median(_window(times, late))
    early_cpu, late_cpu = statistics.median(_window(cpu, EARLY)), statistics.median(_window(cpu, late))
    return {"label": label, "early": times[EARLY - 1], "late": times[late - 1], "early_med": early_med,
            "late_med": late_med, "ratio": late_med / early_med, "early_cpu": early_cpu, "late_cpu": late_cpu,
            "cpu_ratio": late_cpu / early_cpu}


REPO = str(Path(__file__).resolve().parent.parent)  # this checkout, wherever it is


# where the time goes: each function's own time, grouped by the part of the stack it belongs to
AREAS = (
    ("SpiffWorkflow serializer", ("SpiffWorkflow/bpmn/serializer", "SpiffWorkflow/serializer")),
    ("SpiffWorkflow run (tree walks, engine steps)", ("SpiffWorkflow/",)),
    ("engine.process.observe (snapshot/derive/digest/data)", ("engine/process/observe",)),
    ("other engine code", (f"{REPO}/engine/", "engine/")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("database driver (sqlite3/psycopg)", ("sqlite3", "psycopg")),
    ("json", ("json/", "_json")),
    ("RestrictedPython / scripting", ("RestrictedPython",)),
)


def breakdown(profiler: cProfile.Profile) -> list[tuple[str, float]]:
    stats = pstats.Stats(profiler)
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{name}"
        area = next((a for a, needles in AREAS if any(n in where for n in needles)), "other (Python, uuid, ...)")
        totals[area] += tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])


def print_profile(kind: str, profiler: cProfile.Profile, late: int, top: int) -> None:
    calls = PROFILED
    parts = breakdown(profiler)
    whole = sum(t for _a, t in parts)
    print_table(f"{kind}: where a complete's time goes just after task {late} (own time, {calls} completes, ms each)",
                ["area", "ms per complete", "share"],
                [[a, 1000 * t / calls, f"{100 * t / whole:.0f}%"] for a, t in parts])
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])  # by cumulative time
    shown = []
    for (filename, line, name), (_cc, ncalls, _tt, cumtime, _callers) in rows:
        if f"{REPO}/" not in filename and "SpiffWorkflow" not in filename:
            continue
        where = filename.split("site-packages/")[-1].replace(f"{REPO}/", "")
        shown.append([f"{where}:{line}({name})", ncalls // calls, 1000 * cumtime / calls])
        if len(shown) == top:
            break
    print_table(f"{kind}: top {top} engine/SpiffWorkflow functions by cumulative time per complete",
                ["function", "calls", "ms"], shown)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser)
    parser.add_argument("--tasks", type=int, default=500, help="the late task number N (default 500)")
    parser.add_argument("--profile-top", type=int, default=15, help="profile rows to print (0: no profile)")
    parser.add_argument("--spiff-max-depth", type=int, default=limits.MAX_DEPTH,
                        help="SpiffWorkflow TaskIterator depth limit for this run (default: the engine's, "
                             f"{limits.MAX_DEPTH}; 0: SpiffWorkflow's own, {SPIFF_OWN_DEPTH}, to see long loops "
                             "end early)")
    args = parser.parse_args(argv)
    if args.tasks < EARLY + 2 * HALF_WINDOW + 1:
        parser.error(f"--tasks must be at least {EARLY + 2 * HALF_WINDOW + 1}")
    previous = set_spiff_max_depth(args.spiff_max_depth or SPIFF_OWN_DEPTH)
    try:
        return _run(args)
    finally:
        set_spiff_max_depth(previous)


def _run(args: argparse.Namespace) -> list[dict]:
    depth = args.spiff_max_depth or f"{SPIFF_OWN_DEPTH} (its own)"
    print(f"cost growth: one {KEY} instance, task {EARLY} vs task {args.tasks}; SpiffWorkflow max_depth {depth}; "
          f"{machine()}\n")
    results = [run_engine(kind, args.tasks, args.profile_top) for kind in db_choices(args.db)]
    results.append(run_raw(args.tasks))
    n = args.tasks
    print_table(f"ms to complete one task (median of 9 around each; target: task {n} <= 2x task {EARLY})",
                ["engine", f"task {EARLY}", f"task {n}", f"median {EARLY}±4", f"median {n}±4", "ratio",
                 f"CPU {EARLY}±4", f"CPU {n}±4", "CPU ratio", "state KB at end", "tasks in tree", "target"],
                [[r["label"], 1000 * r["early"], 1000 * r["late"], 1000 * r["early_med"], 1000 * r["late_med"],
                  f"{r['ratio']:.2f}", 1000 * r["early_cpu"], 1000 * r["late_cpu"], f"{r['cpu_ratio']:.2f}",
                  f"{r['state_kb']:.0f}" if r["state_kb"] is not None else "-", r["tree"],
                  _verdict(r, n)] for r in results])
    viewed = [r for r in results if "history" in r]
    print_table(f"history page of the {n}-task instance: Engine.replay(states=True), s (later: median of "
                f"{LATER_VIEWS}; target: later view < {VIEW_TARGET_S:g} s)",
                ["engine", "events", "first view", "later view", "cache entry KB", "target"],
                [[r["label"], r["history"]["events"], r["history"]["first"], r["history"]["later"],
                  f"{r['history']['entry_kb']:.0f}" if r["history"]["entry_kb"] is not None else "not kept",
                  verdict("17.5", f"{r['label']}: later history view < {VIEW_TARGET_S:g} s",
                          f"{r['history']['later']:.3f} s", r["history"]["later"] < VIEW_TARGET_S)] for r in viewed])
    for r in results:
        if r.get("profile") is not None:
            print_profile(r["label"], r["profile"], n, args.profile_top)
    return results


def _verdict(result: dict, n: int) -> str:
    if result["label"] == "raw SpiffWorkflow":  # the comparison, not held to the target
        return "(reference)"
    return verdict("17.4", f"{result['label']}: task {n} <= 2x task {EARLY} (wall and CPU)",
                   f"{result['ratio']:.2f}x wall, {result['cpu_ratio']:.2f}x CPU",
                   result["ratio"] <= 2 and result["cpu_ratio"] <= 2)


if __name__ == "__main__":
    main()
