"""What changed between two versions of a process: diagram elements by id and name, forms by key."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.definitions.model import BPMN, FLOW_NODES
from engine.definitions.xmlsafe import UnsafeXml, parse_xml

# what a person sees on the diagram and can add, remove or rename
DIAGRAM_ELEMENTS = (*FLOW_NODES, "sequenceFlow", "lane", "transaction", "adHocSubProcess", "dataObjectReference",
                    "dataStoreReference", "textAnnotation")


@dataclass(frozen=True)
class VersionContent:
    """One version as the diff reads it: its process key, BPMN files and forms."""

    version: int
    key: str
    bpmn: list[tuple[str, str]]  # (file name, text)
    forms: dict[str, dict]  # form key -> definition


def process_elements(key: str, bpmn: list[tuple[str, str]]) -> dict[str, str]:
    """Element id -> name (empty when it has none) of the process `key`, from whichever BPMN file defines it."""
    for name, text in bpmn:
        try:
            root = parse_xml(text.encode("utf-8"), name).getroot()
        except UnsafeXml:
            continue
        proc = next((p for p in root.iter(f"{{{BPMN}}}process") if p.get("id") == key), None)
        if proc is not None:
            return {node.get("id"): node.get("name") or "" for node in _diagram_nodes(proc) if node.get("id")}
    return {}


def _diagram_nodes(proc: etree._Element) -> list[etree._Element]:
    return list(proc.iter(*(f"{{{BPMN}}}{tag}" for tag in DIAGRAM_ELEMENTS)))


def element_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, list]:
    renamed = [{"id": ident, "from": old[ident], "to": new[ident]}
               for ident in sorted(old.keys() & new.keys()) if old[ident] != new[ident]]
    return {"added": sorted(new.keys() - old.keys()), "removed": sorted(old.keys() - new.keys()), "renamed": renamed}


def form_changes(old: dict[str, dict], new: dict[str, dict]) -> dict[str, list[str]]:
    return {"forms_added": sorted(new.keys() - old.keys()),
            "forms_removed": sorted(old.keys() - new.keys()),
            "forms_changed": sorted(k for k in old.keys() & new.keys() if old[k] != new[k])}


def version_diff(previous: VersionContent | None, current: VersionContent) -> dict:
    """The change from `previous` to `current`; the first version is compared with nothing (all added).
    `names` are the names people know the added and removed elements by, and `form_titles` the titles of
    the forms, so that pages need show no ids."""
    old_elements = process_elements(previous.key, previous.bpmn) if previous else {}
    new_elements = process_elements(current.key, current.bpmn)
    old_forms = previous.forms if previous else {}
    changes = element_changes(old_elements, new_elements)
    named = {**old_elements, **new_elements}
    return {"against": previous.version if previous else None, **changes,
            "names": {i: named[i] for i in (*changes["added"], *changes["removed"]) if named.get(i)},
            **form_changes(old_forms, current.forms),
            "form_titles": {k: f["title"] for k, f in {**old_forms, **current.forms}.items()
                            if isinstance(f, dict) and f.get("title")}}
