"""Benchmark 5: `audit verify` over many instances, and replay time against the original run.

A few instances of bench/processes/approval5.bpmn run through the engine (start and five tasks),
with their commands timed. To reach 10,000 instances without an hour of set-up, their finished
instance rows and audit chains are then copied under new instance ids, each chain re-hashed for
its new name, so every copy is a real chain that verifies and replays. Then, as `salesflow audit
verify` does (Engine.audit_chains, then Engine.check_trail per chain):

- chain only (`--no-replay`): every chain, timed in full;
- with replay: a sample of chains (replaying all of them takes long) and the total extrapolated;
- one instance's Engine.replay(id) against the time its original commands took.

    .venv/bin/python -m bench.audit_speed --db both --instances 10000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from sqlalchemy import func, insert, select

from bench.common import PASSWORD, add_db_argument, db_choices, deploy, engine_on, machine, print_table
from bench.engine_throughput import BPMN, KEY, PEOPLE, STEP_DATA, WORKER, _ready_task
from engine import Engine
from engine.audit.chain import event_body, event_hash, instance_chain
from engine.audit.verify import GENESIS
from engine.replay_cache import ReplayCache
from engine.store.models import AuditChain, AuditEvent, Instance

BATCH = 2000


def run_seed(eng: Engine, count: int) -> list[tuple[int, float]]:
    """(instance id, seconds its commands took) for `count` instances run through the engine."""
    runs = []
    for i in range(count):
        start = time.perf_counter()
        iid = eng.start("rep", KEY, {"customer_name": f"客户{i}", "amount_yuan": 1000 + i}, business_key=f"A-{i}")
        commands = time.perf_counter() - start
        while (task := _ready_task(eng, iid)) is not None:
            start = time.perf_counter()
            eng.complete(WORKER[task[1]], task[0], {**STEP_DATA, "comment": f"第{i}单"})
            commands += time.perf_counter() - start
        runs.append((iid, commands))
    return runs


def replicate(eng: Engine, seeds: list[int], total: int) -> None:
    """Copy the seed instances (round robin) until there are `total` instances in all."""
    inst_cols = [c.name for c in Instance.__table__.columns if c.name != "id"]
    with eng.db.read() as s:
        originals = {iid: s.execute(select(*[Instance.__table__.c[n] for n in inst_cols])
                                    .where(Instance.id == iid)).one()._asdict() for iid in seeds}
        trails = {iid: [dict(r._asdict()) for r in s.execute(
            select(AuditEvent.position, AuditEvent.at, AuditEvent.actor, AuditEvent.kind, AuditEvent.task,
                   AuditEvent.payload).where(AuditEvent.chain == instance_chain(iid)).order_by(AuditEvent.position))]
            for iid in seeds}
        next_id = s.scalar(select(func.max(Instance.id))) + 1
    instances, events, heads = [], [], []
    for k in range(total - len(seeds)):
        src = seeds[k % len(seeds)]
        iid = next_id + k
        instances.append({"id": iid, **originals[src]})
        chain, prev = instance_chain(iid), GENESIS
        for ev in trails[src]:
            body = event_body(chain, ev["position"], ev["at"], ev["actor"], ev["kind"], ev["task"],
                              json.loads(ev["payload"]))
            digest = event_hash(prev, body)
            events.append({**ev, "chain": chain, "instance_id": iid, "prev_hash": prev, "hash": digest})
            prev = digest
        heads.append({"chain": chain, "length": len(trails[src]), "head": prev})
        if len(instances) >= BATCH:
            _flush(eng, instances, events, heads)
    _flush(eng, instances, events, heads)


def _flush(eng: Engine, instances: list, events: list, heads: list) -> None:
    if instances:
        with eng.db.write() as s:
            s.execute(insert(Instance.__table__), instances)
            s.execute(insert(AuditEvent.__table__), events)
            s.execute(insert(AuditChain.__table__), heads)
    instances.clear()
    events.clear()
    heads.clear()


def measure(kind: str, total: int, seed: int, sample: int) -> dict:
    with engine_on(kind, "audit_speed") as eng:
        eng.replays = ReplayCache(0)  # a seed instance the sample replayed must be timed replaying, not looked up
        deploy(eng, BPMN)
        for name, roles in PEOPLE.items():
            eng.add_user(name, roles, PASSWORD)
        runs = run_seed(eng, seed)
        replicate(eng, [iid for iid, _t in runs], total)

        start = time.perf_counter()
        chains = eng.audit_chains()
        listed = time.perf_counter() - start
        instance_chains = [c for c in chains if c.startswith("instance:")]
        if len(instance_chains) != total:
            raise AssertionError(f"{len(instance_chains)} instance chains, expected {total}")

        start = time.perf_counter()
        checked = [eng.check_trail(c, replay=False) for c in chains]
        chain_only = time.perf_counter() - start + listed
        events = sum(c.events for c in checked)
        if not all(c.ok for c in checked):
            raise AssertionError(f"chains that do not verify: {[c.describe() for c in checked if not c.ok][:3]}")

        picked = random.Random(7).sample(instance_chains, min(sample, len(instance_chains)))
        start = time.perf_counter()
        replayed = [eng.check_trail(c, replay=True) for c in picked]
        per_replay = (time.perf_counter() - start) / len(picked)
        if not all(r.ok and r.replayed for r in replayed):
            raise AssertionError(f"replays that differ: {[r.describe() for r in replayed if not r.ok][:3]}")

        ratios, replay_times, originals = [], [], []
        for iid, original in runs:
            start = time.perf_counter()
            result = eng.replay(iid)
            took = time.perf_counter() - start
            if not result.verified:
                raise AssertionError(f"instance {iid} does not replay: {result.first_mismatch}")
            ratios.append(took / original)
            replay_times.append(took)
            originals.append(original)
        return {"db": kind, "instances": total, "chains": len(chains), "events": events, "chain_only": chain_only,
                "sample": len(picked), "per_replay": per_replay,
                "replay_all": listed + per_replay * len(instance_chains) + chain_only * (1 - len(
                    instance_chains) / len(chains)),
                "original_ms": 1000 * statistics.median(originals), "replay_ms": 1000 * statistics.median(replay_times),
                "replay_ratio": statistics.median(ratios), "seed": len(runs)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_db_argument(parser)
    parser.add_argument("--instances", type=int, default=10_000, help="instances to verify (default 10000)")
    parser.add_argument("--seed", type=int, default=20, help="instances run through the engine (default 20)")
    parser.add_argument("--sample", type=int, default=200, help="chains replayed to extrapolate (default 200)")
    args = parser.parse_args(argv)
    if not 0 < args.seed <= args.instances:
        parser.error("--seed must be between 1 and --instances")
    print(f"audit verify: {args.instances} instances of {KEY} ({args.seed} run through the engine, "
          f"the rest copied with re-hashed chains); {machine()}\n")
    results = [measure(kind, args.instances, args.seed, args.sample) for kind in db_choices(args.db)]
    print_table("audit verify (chains of every instance plus the deployments chain)",
                ["db", "chains", "events", "chain-only s", "chains/s", "replay s/chain",
                 f"with replay s (est., sample {args.sample})"],
                [[r["db"], r["chains"], r["events"], r["chain_only"], r["chains"] / r["chain_only"],
                  r["per_replay"], r["replay_all"]] for r in results])
    print_table("one instance: Engine.replay(id) against its original commands (median of the seeded instances)",
                ["db", "instances", "original ms", "replay ms", "replay / original"],
                [[r["db"], r["seed"], r["original_ms"], r["replay_ms"], f"{r['replay_ratio']:.3f}"]
                 for r in results])
    return results


if __name__ == "__main__":
    main()
