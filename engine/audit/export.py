"""Exporting a chain as JSON (verifiable offline) or CSV (one row per event)."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.verify import row_dict
from engine.store.models import AuditChain, AuditEvent

FORMAT = "salesflow-audit/1"


def chain_events(session: Session, chain: str) -> list[dict]:
    rows = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.position))
    return [row_dict(r) for r in rows]


def to_json(session: Session, chain: str) -> str:
    head = session.get(AuditChain, chain)
    doc = {"format": FORMAT, "chain": chain,
           "head": {"length": head.length, "head": head.head} if head else None,
           "hash": "sha256(prev_hash + canonical_json({chain, position, at, actor, kind, task, payload}))",
           "events": chain_events(session, chain)}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_csv(session: Session, chain: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["position", "at", "actor", "kind", "task", "payload", "prev_hash", "hash"])
    for ev in chain_events(session, chain):
        writer.writerow([ev["position"], ev["at"], ev["actor"], ev["kind"], ev["task"] or "", ev["payload"],
                         ev["prev_hash"], ev["hash"]])
    return out.getvalue()
