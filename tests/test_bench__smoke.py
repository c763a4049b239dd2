"""The benchmarks of bench/ still run: each at a tiny size, printing its table with positive figures.

Speed is never asserted here (bench/README.md states the targets and measured figures). The
benchmarks make their own throw-away databases: a temporary SQLite file, or, when the suite runs on
PostgreSQL, a fresh `bench_<name>_<pid>` database on the same server.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from SpiffWorkflow.util.task import TaskIterator
from sqlalchemy import select, text

from bench import (
    audit_speed,
    command_cost,
    cost_growth,
    engine_throughput,
    inbox_latency,
    read_scale,
    rest_vs_raw,
    sandbox_cost,
)
from bench.common import deploy, engine_on, percentile, print_table
from bench.statements import Count, StatementCounter
from engine.clock import ManualClock
from engine.process import limits
from engine.store.models import KpiCase
from tests.conftest import PG_URL

DB = "postgres" if PG_URL else "sqlite"


def test_engine_throughput_prints_ours_raw_and_the_ratio(capsys):
    [row] = engine_throughput.main(["--db", DB, "--instances", "3", "--claim"])
    out = capsys.readouterr().out
    assert "ratio = ours / raw" in out and f"\n{DB} " in out
    assert row["per_s"] > 0 and row["raw_per_s"] > 0 and row["ratio"] > 0
    assert row["complete_ms"] > 0 and row["claim_ms"] > 0


def test_inbox_latency_loads_rows_and_times_pages(capsys):
    rows = inbox_latency.main(["--db", DB, "--tasks", "3000", "--open", "600", "--calls", "3", "--full-calls", "1",
                               "--page", "10"])
    out = capsys.readouterr().out
    assert "loaded 3,000 tasks (600 open)" in out and "page p95" in out
    assert len(rows) == len(inbox_latency.PROBES)
    [counted] = re.findall(r"KPI rollups counted \([\d.]+ s\): ([\d,]+) completed tasks \(([\d,]+) loaded\), "
                           r"600 instances \(600 loaded\)", out)
    assert counted[0] == counted[1] != "0"  # every bulk-loaded row counted
    for r in rows:
        assert r["p95"] > 0 and r["full_p95"] > 0
        assert 0 < r["shown"] <= 10 and r["visible"] >= r["shown"]


def test_inbox_latency_spreads_the_kpi_end_tasks_as_service_times(capsys):
    """The loader's KPI cases are as real ones are spread: each its own hours, most within the measure's target,
    a tail past it, a resolution never before its case's first response, none done after the clock; drawn the same
    for the same seed."""
    draws = [inbox_latency.service_hours(random.Random("service 1")) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = random.Random("service 1")
    sample = [inbox_latency.service_hours(rng) for _ in range(5000)]
    assert all(0 < response <= resolution for response, resolution in sample)
    assert 0.01 < sum(response > 24 for response, _ in sample) / 5000 < 0.1
    assert 0.03 < sum(resolution > 48 for _, resolution in sample) / 5000 < 0.2
    with engine_on(DB, "spread", clock=ManualClock(inbox_latency.now_after(600))) as eng:
        deploy(eng, "approval5.bpmn")
        inbox_latency.load(eng, 6000, 600)  # 5 hours of registrations: the clock cuts the resolutions' tail
        with eng.db.read() as s:
            cases = s.execute(select(KpiCase.measure, KpiCase.instance_id, KpiCase.started_at, KpiCase.hours).where(
                KpiCase.unresolved.is_(False))).all()
    capsys.readouterr()
    hours = {measure: [h for m, _, _, h in cases if m == measure] for measure in ("first_response", "resolution")}
    for measure in ("first_response", "resolution"):
        assert len(hours[measure]) > 100 and len(set(hours[measure])) == len(hours[measure])
    assert 0.5 < sum(h <= 24 for h in hours["first_response"]) / len(hours["first_response"]) < 1
    now = inbox_latency.now_after(600)
    assert all(started + timedelta(hours=h) <= now for _, _, started, h in cases)
    done = {(m, iid): h for m, iid, _, h in cases}
    assert all(h >= done[("first_response", iid)] - 1e-6 for (m, iid), h in done.items()
               if m == "resolution" and ("first_response", iid) in done)


def test_read_scale_times_every_target_6_read_beside_its_target(capsys):
    rows = read_scale.main(["--db", DB, "--tasks", "3000", "--open", "600", "--calls", "2", "--page", "10"])
    out = capsys.readouterr().out
    assert "loaded 3,000 tasks (600 open), 600 instances" in out and "issue 17 target 6" in out
    reads = {r["what"] for r in rows}
    assert reads == {"Engine.inbox first page of 10", "Engine.inbox_counts", "search: a customer, rare",
                     "search: a customer, common", "search: 30 days", "search: SLA breached", "KPI page: everything",
                     "KPI page: 30 days"}
    for r in rows:
        assert r["p95"] > 0 and r["calls"] >= 1
        [line] = [x for x in out.splitlines() if x.startswith(DB) and r["what"] in x and r["who"] in x]
        assert line.endswith(("met", "MISSED"))
    found = {(r["what"], r["who"]): r["found"] for r in rows}
    assert found[("search: 30 days", "auditor")] > 0 and found[("search: SLA breached", "auditor")] > 0
    assert found[("search: a customer, common", "auditor")] > 0  # the loaded names are in the names table
    assert found[("KPI page: everything", "auditor")] == 600  # every instance is in the KPI figures
    assert found[("search: 30 days", "auditor")] >= found[("search: 30 days", "sales manager")]


def test_cost_growth_times_early_and_late_tasks_and_profiles(capsys):
    results = cost_growth.main(["--db", DB, "--tasks", "20", "--profile-top", "5"])
    out = capsys.readouterr().out
    assert "median 20±4" in out and "where a complete's time goes" in out and "raw SpiffWorkflow" in out
    assert "CPU ratio" in out and "tasks in tree" in out
    assert [r["label"] for r in results] == [DB, "raw SpiffWorkflow"]
    for r in results:
        assert r["early_med"] > 0 and r["late_med"] > 0 and r["ratio"] > 0 and r["cpu_ratio"] > 0
    assert results[0]["tree"] < results[1]["tree"]  # the engine cut its finished tasks (engine/process/pruning.py)
    assert TaskIterator.__init__.__defaults__[1] == limits.MAX_DEPTH  # the engine's depth limit is back


def test_audit_speed_verifies_and_replays_copied_chains(capsys):
    [row] = audit_speed.main(["--db", DB, "--instances", "12", "--seed", "2", "--sample", "3"])
    out = capsys.readouterr().out
    assert "chain-only s" in out and "replay / original" in out
    assert row["chains"] == 13  # twelve instances and the deployments chain
    assert row["chain_only"] > 0 and row["per_replay"] > 0 and row["replay_ratio"] > 0


def test_sandbox_cost_times_both_paths_and_both_script_engines(capsys):
    result = sandbox_cost.main(["--db", DB, "--instances", "2", "--repeat", "3"])
    out = capsys.readouterr().out
    assert "sandbox process" in out and "fast path" in out and "per command" in out
    assert [r[0] for r in result["per_run"]] == [c[0] for c in sandbox_cost.CASES]
    assert {(r[0], r[1]) for r in result["per_command"]} == {(DB, "start"), (DB, "complete")}
    assert all(r[2] > 0 and r[3] > 0 for r in result["per_command"])


def test_command_cost_times_and_counts_each_command_beside_its_targets(capsys):
    [result] = command_cost.main(["--db", DB, "--instances", "2", "--warmup", "1"])
    out = capsys.readouterr().out
    assert "issue 17 target 2" in out
    for label in ("Engine.start p50 <= 1.5 ms", "Engine.complete p50 <= 1.5 ms", "Engine.complete statements <= 6",
                  "Engine.instance p50 <= 0.5 ms"):
        [row] = [line for line in out.splitlines() if label in line]
        judged = DB == "sqlite" or "statements" in label  # the issue holds only SQLite's times to the target
        assert row.endswith(("met", "MISSED") if judged else "(the time target is SQLite's)"), row
    assert [result[c]["n"] for c in ("start", "complete", "view")] == [2, 4, 6]  # a view after every command
    for cmd in ("start", "complete", "view"):
        assert result[cmd]["p50"] > 0 and result[cmd]["statements"] > 0 and result[cmd]["begins"] >= 1


def test_statement_counter_counts_statements_with_begin_apart_until_detached():
    with engine_on(DB, "smoke_statements") as eng:
        counter = StatementCounter.attach(eng.db)
        with eng.db.read() as s:
            s.execute(text("SELECT 1"))
            s.execute(text("SELECT 2"))
        with eng.db.write() as s:
            s.execute(text("SELECT 3"))
        assert counter.take() == Count(statements=3, begins=2)
        assert str(Count(5, 1)) == "5 statements + BEGIN"
        counter.detach()
        with eng.db.read() as s:
            s.execute(text("SELECT 1"))
        assert counter.take() == Count(0, 0)


@pytest.mark.db_agnostic  # always SQLite: the yardstick is `salesflow serve` on its default
def test_rest_vs_raw_drives_a_served_salesflow_and_prints_the_ratio(capsys):
    result = rest_vs_raw.main(["--instances", "2", "--warmup", "1", "--rounds", "2", "--raw-seconds", "0.05"])
    out = capsys.readouterr().out
    assert "issue 17 target 1" in out and "REST (salesflow serve, SQLite)" in out
    assert "rounds (wall clock)" in out and len(result["ratios"]) == 2  # REST and raw interleaved
    assert result["server_cpu_ms_per_request"] > 0 and result["ratio"] == result["cpu_ratio"] > 0
    assert result["wall_ratio"] > 0 and result["best_ratio"] > 0
    [row] = [line for line in out.splitlines() if "REST / raw >= 0.064" in line]
    assert row.endswith(("met", "MISSED"))
    assert result["rest_per_s"] > 0 and result["raw_per_s"] > 0 and result["ratio"] > 0


@pytest.mark.db_agnostic
def test_percentile_interpolates_between_ranks():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert percentile([7], 95) == 7


@pytest.mark.db_agnostic
def test_table_aligns_numbers_right(capsys):
    print_table("t", ["name", "ms"], [["a", 1.5], ["bb", 12.25]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "t" and lines[1].startswith("name")
    assert lines[3].endswith("1.500") and lines[4].endswith("12.250")
