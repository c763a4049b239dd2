"""Deploying compiled processes as new immutable versions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit.chain import DEPLOYMENTS, append
from engine.clock import iso
from engine.definitions.compiler import CompiledProcess
from engine.store.models import AuditChain, DefinitionFile, Form, ProcessVersion


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    status: str  # "deployed" | "unchanged"
    sha256: str


def _lock_deployments(session: Session) -> None:
    """Deploys of one key must not race for the same version number: serialise them on the chain head."""
    head = session.scalar(select(AuditChain).where(AuditChain.chain == DEPLOYMENTS).with_for_update())
    if head is None:
        session.add(AuditChain(chain=DEPLOYMENTS, length=0, head="0" * 64))
        session.flush()


def deploy(session: Session, compiled: list[CompiledProcess], actor: str, at, note: str = "") -> list[Deployed]:  # noqa: ANN001
    _lock_deployments(session)
    results = []
    for cp in compiled:
        latest = session.scalar(select(ProcessVersion).where(ProcessVersion.key == cp.key)
                                .order_by(ProcessVersion.version.desc()).limit(1))
        if latest is not None and latest.sha256 == cp.sha256:
            results.append(Deployed(cp.key, latest.version, "unchanged", cp.sha256))
            continue
        version = (latest.version + 1) if latest else 1
        pv = ProcessVersion(key=cp.key, version=version, name=cp.name, sha256=cp.sha256, spec_json=cp.spec_json,
                            model_json=cp.model_json, serializer_version=cp.serializer_version,
                            deployed_by=actor, deployed_at=at, note=note)
        session.add(pv)
        session.flush()
        for f in cp.files:
            session.add(DefinitionFile(process_version_id=pv.id, name=f.name.rsplit("/", 1)[-1], kind=f.kind,
                                       sha256=f.sha256, content=f.text))
        for form in cp.forms.values():
            session.add(Form(process_version_id=pv.id, form_key=form.key,
                             definition=json.dumps(form.to_dict(), ensure_ascii=False)))
        append(session, DEPLOYMENTS, iso(at), actor, "deployed", None,
               {"process_key": cp.key, "version": version, "sha256": cp.sha256, "note": note,
                "files": sorted(f"{f.kind}:{f.name.rsplit('/', 1)[-1]}:{f.sha256}" for f in cp.files)})
        results.append(Deployed(cp.key, version, "deployed", cp.sha256))
    return results
