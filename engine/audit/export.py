"""Exporting a chain as JSON (verifiable offline) or CSV (one row per event), and bundles of
chains (a search result): one JSON document holding each chain's own document, or one CSV with
an instance_id column first. docs/audit.md describes both formats and how to verify them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.verify import row_dict
from engine.store.models import AuditChain, AuditEvent

FORMAT = "salesflow-audit/1"
BUNDLE_FORMAT = "salesflow-audit-bundle/1"
HASH_RULE = "sha256(prev_hash + canonical_json({chain, position, at, actor, kind, task, payload}))"
COLUMNS = ["position", "at", "actor", "kind", "task", "payload", "prev_hash", "hash"]
CHUNK = 200  # chains read per query: bounded IN lists on every database


def chain_events(session: Session, chain: str, upto: int | None = None) -> list[dict]:
    query = select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.position)
    if upto is not None:
        query = query.where(AuditEvent.position <= upto)
    return [row_dict(r) for r in session.scalars(query)]


def _heads(session: Session, chains: list[str]) -> dict[str, dict]:
    rows = session.execute(select(AuditChain.chain, AuditChain.length, AuditChain.head)
                           .where(AuditChain.chain.in_(chains)))
    return {chain: {"length": length, "head": head} for chain, length, head in rows}


def _settled(session: Session, chain: str, head: dict | None, events: list[dict]) -> tuple[dict | None, list[dict]]:
    """The head is read before the events. Events past it were either appended since (PostgreSQL
    reads each statement's own snapshot): then the chain is taken as of its newer head; or they
    are rows the head never recorded: then they stay, so the file fails verification as the
    database does."""
    if head is None or not events or events[-1]["position"] <= head["length"]:
        return head, events
    fresh = _heads(session, [chain]).get(chain)
    if fresh and fresh["length"] >= events[-1]["position"]:
        return fresh, chain_events(session, chain, fresh["length"])
    return head, events


def _document(chain: str, head: dict | None, events: list[dict]) -> dict:
    return {"format": FORMAT, "chain": chain, "head": head, "hash": HASH_RULE, "events": events}


def chain_document(session: Session, chain: str) -> dict:
    head = _heads(session, [chain]).get(chain)
    return _document(chain, *_settled(session, chain, head, chain_events(session, chain)))


def to_json(session: Session, chain: str) -> str:
    return json.dumps(chain_document(session, chain), ensure_ascii=False, indent=2)


def _row(ev: dict) -> list:
    return [ev["position"], ev["at"], ev["actor"], ev["kind"], ev["task"] or "", ev["payload"], ev["prev_hash"],
            ev["hash"]]


def to_csv(session: Session, chain: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for ev in chain_document(session, chain)["events"]:
        writer.writerow(_row(ev))
    return out.getvalue()


# -- bundles: many chains at once ---------------------------------------------------------------


def chain_documents(session: Session, chains: list[str]) -> Iterator[dict]:
    """Each chain's document, in the order given, reading the chains a chunk at a time."""
    for start in range(0, len(chains), CHUNK):
        part = chains[start:start + CHUNK]
        heads = _heads(session, part)
        events: dict[str, list[dict]] = {c: [] for c in part}
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain.in_(part))
                               .order_by(AuditEvent.chain, AuditEvent.position))
        for row in rows:
            events[row.chain].append(row_dict(row))
        for chain in part:
            yield _document(chain, *_settled(session, chain, heads.get(chain), events[chain]))


def bundle_json(session: Session, chains: list[str], filters: dict, exported_at: str, exported_by: str,
                summaries: dict[str, dict] | None = None) -> str:
    """{format, filters, exported_at, exported_by, count, instances: [chain documents]}; with `summaries`
    ({chain: {id, process_key, status, outcome}}), each document carries its instance's under "instance"
    (outside the hashed events: what the instance is now, for reading the file, not for proving it)."""
    documents = list(chain_documents(session, chains))
    for document in documents:
        if summaries and document["chain"] in summaries:
            document["instance"] = summaries[document["chain"]]
    doc = {"format": BUNDLE_FORMAT, "filters": filters, "exported_at": exported_at, "exported_by": exported_by,
           "count": len(chains), "instances": documents}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def bundle_csv(session: Session, chains: Iterable[tuple[int, str]], summaries: dict[str, dict] | None = None
               ) -> str:
    """One row per event of every (instance id, chain) given: the instance id, its status and outcome
    now (from `summaries`, {chain: {status, outcome}}), then the event."""
    pairs = list(chains)
    ids = {chain: iid for iid, chain in pairs}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["instance_id", "instance_status", "instance_outcome", *COLUMNS])
    for doc in chain_documents(session, [chain for _, chain in pairs]):
        now = (summaries or {}).get(doc["chain"], {})
        for ev in doc["events"]:
            writer.writerow([ids[doc["chain"]], now.get("status") or "", now.get("outcome") or "", *_row(ev)])
    return out.getvalue()
