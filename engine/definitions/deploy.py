"""Deploying compiled processes as new immutable versions: active at once, or drafts awaiting approval."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.chain import DEPLOYMENTS, append
from engine.clock import iso
from engine.definitions.compiler import CompiledProcess
from engine.definitions.current import ACTIVE, DRAFT, current_version, newest_number
from engine.store.models import AuditChain, DefinitionFile, Form, ProcessVersion


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    status: str  # "deployed" | "unchanged" | "draft" (awaiting approval, engine/runtime/rule_changes.py)
    sha256: str
    request_id: int | None = None  # the rule change request (a rule_change instance) it belongs to


def lock_deployments(session: Session) -> None:
    """Deploys of one key must not race for the same version number: serialise them on the chain head."""
    head = session.scalar(select(AuditChain).where(AuditChain.chain == DEPLOYMENTS).with_for_update())
    if head is None:
        session.add(AuditChain(chain=DEPLOYMENTS, length=0, head="0" * 64))
        session.flush()


def changed(session: Session, compiled: list[CompiledProcess]) -> list[CompiledProcess]:
    """The processes whose content differs from the version new instances start on."""
    result = []
    for cp in compiled:
        current = current_version(session, cp.key)
        if current is None or current.sha256 != cp.sha256:
            result.append(cp)
    return result


def deploy(session: Session, compiled: list[CompiledProcess], actor: str, at: datetime, note: str = "",
           status: str = ACTIVE, emergency_reason: str | None = None) -> list[tuple[Deployed, ProcessVersion | None]]:
    """Store each changed process as a new version in `status` (active, or a draft); the unchanged ones are
    reported with the version in force. Each stored version is recorded in the deployments chain."""
    lock_deployments(session)
    results: list[tuple[Deployed, ProcessVersion | None]] = []
    for cp in compiled:
        current = current_version(session, cp.key)
        if current is not None and current.sha256 == cp.sha256:
            results.append((Deployed(cp.key, current.version, "unchanged", cp.sha256), None))
            continue
        pv = _store(session, cp, newest_number(session, cp.key) + 1, actor, at, note, status, emergency_reason)
        payload = {"process_key": cp.key, "version": pv.version, "sha256": cp.sha256, "note": note,
                   "files": sorted(f"{f.kind}:{f.name.rsplit('/', 1)[-1]}:{f.sha256}" for f in cp.files)}
        if status == DRAFT:
            payload["status"] = DRAFT
        if emergency_reason:
            payload["emergency"] = emergency_reason
        append(session, DEPLOYMENTS, iso(at), actor, "deployed" if status == ACTIVE else "drafted", None, payload)
        results.append((Deployed(cp.key, pv.version, "deployed" if status == ACTIVE else DRAFT, cp.sha256), pv))
    return results


def _store(session: Session, cp: CompiledProcess, version: int, actor: str, at: datetime, note: str, status: str,
           emergency_reason: str | None) -> ProcessVersion:
    pv = ProcessVersion(key=cp.key, version=version, name=cp.name, sha256=cp.sha256, spec_json=cp.spec_json,
                        model_json=cp.model_json, serializer_version=cp.serializer_version,
                        deployed_by=actor, deployed_at=at, note=note, status=status,
                        emergency_reason=emergency_reason)
    if status == ACTIVE:  # deployed at once: whoever deployed it decided it
        pv.decided_by, pv.decided_at = actor, at
    session.add(pv)
    session.flush()
    for f in cp.files:
        session.add(DefinitionFile(process_version_id=pv.id, name=f.name.rsplit("/", 1)[-1], kind=f.kind,
                                   sha256=f.sha256, content=f.text))
    for form in cp.forms.values():
        session.add(Form(process_version_id=pv.id, form_key=form.key,
                         definition=json.dumps(form.to_dict(), ensure_ascii=False)))
    return pv
