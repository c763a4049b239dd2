"""Every shipped diagram names its elements in English too (docs/modelling.md, 17 "Names people read"): a
named task, event, gateway, sub-process, call activity or sequence flow carries
`<camunda:property name="name_en" value="…"/>` in its own extensionElements, or English pages show its
Chinese name. Lanes are roles (their English names come from processes/roles.yaml); participants and
message definitions are never shown to staff."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.definitions.labels import read_flows
from tests.conftest import ROOT

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DIAGRAMS = sorted((ROOT / "processes").glob("*.bpmn"))
# named, but never shown under that name: lanes show the role's name, the rest are not shown at all
NOT_SHOWN = {"definitions", "collaboration", "participant", "laneSet", "lane", "message", "signal", "error",
             "escalation", "dataStore", "itemDefinition"}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _name_en(node: etree._Element) -> str | None:
    """The name_en property in the element's own extensionElements (not a child element's)."""
    for ext in node:
        if _local(ext) != "extensionElements":
            continue
        for prop in ext.iter():
            if _local(prop) == "property" and prop.get("name") == "name_en":
                return (prop.get("value") or "").strip() or None
    return None


def missing_english(path: Path) -> list[str]:
    """'file:line element_type id (name)' for each named, shown element without an English name."""
    missing = []
    for node in etree.parse(str(path)).getroot().iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN_NS:
            continue
        if not (node.get("name") or "").strip() or _local(node) in NOT_SHOWN:
            continue
        if _name_en(node) is None:
            missing.append(f"{path.name}:{node.sourceline} {_local(node)} {node.get('id')} ({node.get('name')})")
    return missing


def test_the_shipped_diagrams_are_found():
    assert len(DIAGRAMS) >= 9


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_every_named_element_has_an_english_name(path: Path):
    missing = missing_english(path)
    assert not missing, "no name_en (English pages would show Chinese):\n" + "\n".join(missing)


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_the_engine_reads_the_english_flow_names(path: Path):
    """As history and the diagram page read them: a flow's English name is English, not the Chinese fallback."""
    flows = read_flows(path.read_text(encoding="utf-8"), path.name)
    chinese = [f"{path.name} {source} -> {target}: {text['en']}" for (source, target), text in flows.items()
               if CJK.search(text["en"])]
    assert not chinese, "\n".join(chinese)


def test_the_check_names_an_element_without_an_english_name(tmp_path: Path):
    """The check itself: a named gateway and flow without name_en are reported with file, line and id."""
    diagram = tmp_path / "bad.bpmn"
    diagram.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="http://camunda.org/schema/1.0/bpmn">\n'
        '  <bpmn:process id="p" name="流程">\n'
        '    <bpmn:extensionElements><camunda:properties><camunda:property name="name_en" value="Process" />'
        '</camunda:properties></bpmn:extensionElements>\n'
        '    <bpmn:lane id="sales_rep" name="销售代表" />\n'
        '    <bpmn:exclusiveGateway id="g" name="同意？" />\n'
        '    <bpmn:sequenceFlow id="f" name="同意" sourceRef="g" targetRef="g" />\n'
        '  </bpmn:process>\n'
        '</bpmn:definitions>\n', encoding="utf-8")
    assert missing_english(diagram) == ["bad.bpmn:6 exclusiveGateway g (同意？)", "bad.bpmn:7 sequenceFlow f (同意)"]
