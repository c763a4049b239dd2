#!/usr/bin/env python3
"""Verify exported salesflow audit trails offline, with nothing but the Python standard library.

    python3 verify_trail.py trail.json [bundle.json ...]

Each file is one chain ("format": "salesflow-audit/1", from `salesflow audit export` or an
instance's export link) or a bundle of chains ("format": "salesflow-audit-bundle/1", from the
search page's export). Every chain is checked exactly as docs/audit.md describes:

1. events in order of position 1, 2, 3, ... with no gap;
2. prev_hash of event 1 is 64 zeros, of every later event the hash of the event before;
3. hash = SHA-256 (hex) of the UTF-8 bytes of prev_hash followed by the canonical JSON of
   {chain, position, at, actor, kind, task, payload} (payload: the parsed JSON of the event's
   payload text; canonical: keys sorted, "," and ":" separators, non-ASCII written as is);
4. the number of events and the last hash equal the file's head.

Prints one line per chain and a summary; exits 0 when every chain verifies, 1 when one does
not (the line names the first event that fails), 2 when a file cannot be read.
This script deliberately imports nothing from salesflow: it is the independent check.
"""

from __future__ import annotations

import hashlib
import json
import sys

GENESIS = "0" * 64
CHAIN_FORMAT = "salesflow-audit/1"
BUNDLE_FORMAT = "salesflow-audit-bundle/1"
FIELDS = ("position", "at", "actor", "kind", "task", "payload", "prev_hash", "hash")


class Broken(Exception):
    """The first thing wrong with a chain."""


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _name(n: int, ev: dict) -> str:
    kind = ev.get("kind", "?") if isinstance(ev, dict) else "?"
    task = ev.get("task") if isinstance(ev, dict) else None
    return f"event {n} ({kind}{', task ' + str(task) if task else ''})"


def verify_chain(doc: dict) -> int:
    """The number of events when the chain verifies; raises Broken naming the first bad event."""
    chain, events, head = doc.get("chain"), doc.get("events"), doc.get("head")
    if not isinstance(chain, str) or not isinstance(events, list):
        raise Broken("not a chain document: it needs a chain name and a list of events")
    prev = GENESIS
    for n, ev in enumerate(events, start=1):
        if not isinstance(ev, dict) or any(f not in ev for f in FIELDS):
            raise Broken(f"{_name(n, ev)}: an event needs the fields {', '.join(FIELDS)}")
        if ev["position"] != n:
            raise Broken(f"{_name(n, ev)}: position {ev['position']} where {n} belongs "
                         "(an event is missing or out of order)")
        if ev["prev_hash"] != prev:
            raise Broken(f"{_name(n, ev)}: prev_hash is not the hash of the event before")
        try:
            payload = json.loads(ev["payload"])
        except (TypeError, ValueError):
            raise Broken(f"{_name(n, ev)}: the payload is not JSON text") from None
        body = {"chain": chain, "position": ev["position"], "at": ev["at"], "actor": ev["actor"],
                "kind": ev["kind"], "task": ev["task"], "payload": payload}
        if hashlib.sha256((prev + canonical(body)).encode("utf-8")).hexdigest() != ev["hash"]:
            raise Broken(f"{_name(n, ev)}: hash mismatch, the event was altered")
        prev = ev["hash"]
    if not isinstance(head, dict):
        raise Broken("the file holds no chain head (length and last hash)")
    if head.get("length") != len(events) or head.get("head") != prev:
        raise Broken(f"the head records {head.get('length')} events, the file holds {len(events)} with a "
                     "different last hash: events were removed or added at the end")
    return len(events)


def chains_of(doc: object) -> list[dict]:
    """The chain documents a file holds (one, or a bundle's)."""
    if not isinstance(doc, dict):
        raise ValueError("the file is not a JSON object")
    if doc.get("format") == CHAIN_FORMAT:
        return [doc]
    if doc.get("format") == BUNDLE_FORMAT:
        chains = doc.get("instances")
        if not isinstance(chains, list):
            raise ValueError("the bundle has no list of instances")
        if doc.get("count") != len(chains):
            raise ValueError(f"the bundle says it holds {doc.get('count')} chains but holds {len(chains)}")
        return chains
    raise ValueError(f"unknown format {doc.get('format')!r} (expected {CHAIN_FORMAT} or {BUNDLE_FORMAT})")


def verify_file(path: str, out=sys.stdout) -> tuple[int, int, int]:  # noqa: ANN001 - a text stream
    """(chains, broken chains, events) for one file; raises OSError/ValueError when it cannot be read."""
    with open(path, encoding="utf-8") as handle:
        doc = json.load(handle)
    chains, broken, events = 0, 0, 0
    for chain_doc in chains_of(doc):
        chains += 1
        name = chain_doc.get("chain", "?") if isinstance(chain_doc, dict) else "?"
        try:
            count = verify_chain(chain_doc if isinstance(chain_doc, dict) else {})
        except Broken as why:
            broken += 1
            print(f"{path}: {name}: BROKEN: {why}", file=out)
            continue
        events += count
        print(f"{path}: {name}: verified ({count} events)", file=out)
    return chains, broken, events


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    chains = broken = events = 0
    for path in argv:
        try:
            c, b, e = verify_file(path)
        except (OSError, ValueError) as exc:
            print(f"{path}: cannot be read: {exc}", file=sys.stderr)
            return 2
        chains, broken, events = chains + c, broken + b, events + e
    if broken:
        print(f"NOT verified: {broken} of {chains} chains are broken")
        return 1
    print(f"verified: {chains} chains, {events} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
