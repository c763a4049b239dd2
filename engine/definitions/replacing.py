"""A deploy that would replace a process rather than edit it: refused unless the deployer confirms it.

A process id is all that ties a diagram to a deployed process, so a diagram drawn elsewhere (bpmn.io's
`Process_1`, a copied file whose id was not changed) would silently become the next version of an
unrelated process, and every new instance would start on it. The rule (docs/modelling.md, "Replacing a
process by another diagram"): compared with the version in force, a diagram replaces the process when

- it keeps the ids of fewer than half of the elements (lanes aside) of the smaller of the two diagrams (an
  edit, in our editor or another modeler, keeps the ids of what it does not redraw), or
- both its process name and the name of the file that defines it differ (a copy given a new name).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.audit.chain import DEPLOYMENTS, append
from engine.clock import iso
from engine.definitions.compiler import CompiledProcess
from engine.definitions.current import current_version
from engine.definitions.diff import VersionContent, process_elements, version_diff
from engine.definitions.model import BPMN
from engine.definitions.versions import content
from engine.definitions.xmlsafe import UnsafeXml, parse_xml
from engine.errors import Conflict

BPMN_PROCESS, BPMN_LANE = f"{{{BPMN}}}process", f"{{{BPMN}}}lane"


@dataclass(frozen=True)
class Replacement:
    """A process the bundle would replace: the version in force and what the deploy would change in it."""

    key: str
    name: str
    version: int
    deployed_by: str
    deployed_at: str  # "YYYY-MM-DD HH:MM"
    new_name: str
    diff: dict  # diff.version_diff against the version in force

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "version": self.version, "deployed_by": self.deployed_by,
                "deployed_at": self.deployed_at, "new_name": self.new_name, "diff": self.diff}


class ReplacesProcess(Conflict):
    """The bundle would replace deployed processes the deployer did not confirm; `reason` is {zh, en}."""

    code = "replaces_process"

    def __init__(self, replaced: list[Replacement]) -> None:
        self.replaced = replaced
        self.reason = {"en": "; ".join(_english(r) for r in replaced), "zh": "；".join(_chinese(r) for r in replaced)}
        super().__init__(self.reason["en"])


def _english(r: Replacement) -> str:
    return (f"the diagram of process id {r.key} (“{r.new_name}”) is not an edit of the deployed process "
            f"“{r.name}” (version {r.version}, deployed by {r.deployed_by} at {r.deployed_at}): deploying it would "
            f"replace that process for every new case. If that is intended, confirm it: salesflow deploy "
            f"--replace-process {r.key}, \"replace\": [\"{r.key}\"] in POST /api/v1/deployments, or tick "
            f"“replace” on the modeler's deploy card; otherwise give the diagram a process id of its own")


def _chinese(r: Replacement) -> str:
    return (f"流程标识 {r.key} 的图（“{r.new_name}”）不是已部署流程“{r.name}”（第 {r.version} 版，"
            f"{r.deployed_by} 于 {r.deployed_at} 部署）的修改：部署后所有新案卷都将改用此图。如确要替换，"
            f"请确认：salesflow deploy --replace-process {r.key}，或在 POST /api/v1/deployments 中加 "
            f"\"replace\": [\"{r.key}\"]，或在建模器的部署栏勾选“替换”；否则请给此图另取流程标识")


def refuse_unconfirmed(session: Session, compiled: list[CompiledProcess], confirmed: Collection[str], actor: str,
                       at: datetime) -> None:
    """Raise ReplacesProcess for the processes of the bundle that would replace one not in `confirmed`; the
    confirmed replacements are recorded in the deployments chain (who decided that a process is replaced)."""
    replaced = [r for cp in compiled if (r := replacement(session, cp)) is not None]
    refused = [r for r in replaced if r.key not in confirmed]
    if refused:
        raise ReplacesProcess(refused)
    for r in replaced:
        append(session, DEPLOYMENTS, iso(at), actor, "replacement_confirmed", None,
               {"process_key": r.key, "version": r.version, "name": r.name, "new_name": r.new_name})


def replacement(session: Session, cp: CompiledProcess) -> Replacement | None:
    """What deploying `cp` would replace; None when it is a new process or an edit of the one in force."""
    current = current_version(session, cp.key)
    if current is None or current.sha256 == cp.sha256:
        return None
    old = content(session, current)
    new = _content(cp, current.version + 1)
    if not is_replacement(old, new, current.name, cp.name):
        return None
    return Replacement(cp.key, current.name, current.version, current.deployed_by,
                       current.deployed_at.strftime("%Y-%m-%d %H:%M"), cp.name, version_diff(old, new))


def is_replacement(old: VersionContent, new: VersionContent, old_name: str, new_name: str) -> bool:
    (old_file, old_ids), (new_file, new_ids) = _drawn(old), _drawn(new)
    smaller = min(len(old_ids), len(new_ids))
    if smaller and 2 * len(old_ids & new_ids) < smaller:
        return True
    return old_name != new_name and None not in (old_file, new_file) and old_file != new_file


def _content(cp: CompiledProcess, version: int) -> VersionContent:
    # the forms as stored and read back (engine/definitions/deploy.py), so that an untouched form compares equal
    forms = {key: json.loads(json.dumps(form.to_dict(), ensure_ascii=False)) for key, form in cp.forms.items()}
    bpmn = [(f.name.rsplit("/", 1)[-1], f.text) for f in cp.files if f.kind == "bpmn"]
    return VersionContent(version, cp.key, bpmn, forms)


def _drawn(version: VersionContent) -> tuple[str | None, set[str]]:
    """The file defining the process and the ids of its diagram elements. Lanes do not count: their ids are
    the roles of the catalogue, shared by every diagram of ours."""
    for name, text in version.bpmn:
        try:
            root = parse_xml(text.encode("utf-8"), name).getroot()
        except UnsafeXml:
            continue
        proc = next((p for p in root.iter(BPMN_PROCESS) if p.get("id") == version.key), None)
        if proc is not None:
            lanes = {lane.get("id") for lane in proc.iter(BPMN_LANE)}
            return name, set(process_elements(version.key, [(name, text)])) - lanes
    return None, set()
