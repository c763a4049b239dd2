"""Our own reading of a BPMN document: what SpiffWorkflow's parser drops.

Lanes by id (lane id = role id), camunda:formKey on user tasks and the start
event, camunda:dueDate, camunda:candidateStarterGroups, the `sod` property
(separation of duties), and element names for people. Stored per version as
`model_json` and consulted at run time by element id.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from lxml import etree

from engine.lru import Lru

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}
# lanes that name no role: the user who started the instance, and the owner of its customer
INITIATOR = "initiator"
CUSTOMER_OWNER = "customer_owner"
# DMN 1.3, 1.2 and 1.1: SpiffWorkflow runs all three, so all three are checked and versioned alike
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
FLOW_NODES = ("userTask", "task", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "startEvent",
              "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "callActivity",
              "subProcess", "sendTask", "receiveTask")


@dataclass
class Element:
    id: str
    type: str
    name: str
    line: int | None
    lane: str | None = None
    form_key: str | None = None
    due: str | None = None
    sod: list[str] = field(default_factory=list)
    attached_to: str | None = None
    cancel_activity: bool = True
    decision_ref: str | None = None
    called: str | None = None
    scope: str | None = None  # the embedded subprocess it sits in; None at the top level
    event: str | None = None  # "message" | "timer" | "signal" ... for events with a definition
    name_en: str | None = None  # the English name (camunda property name_en)
    message: str | None = None  # the message name, for message events
    outcome: str | None = None  # end events: how the case ends here (camunda property outcome)


@dataclass
class ProcessModel:
    id: str
    name: str
    file: str
    executable: bool
    starters: list[str]
    documentation: str
    lanes: dict[str, str]
    elements: dict[str, Element]
    line: int | None = None
    lane_lines: dict[str, int] = field(default_factory=dict)
    name_en: str | None = None
    # who may end an instance early (camunda properties on the process): the roles that may cancel it
    # (none declared: administrators), and whether its requester may withdraw it before anyone else
    # decided on it ("until_decided", the default) or not at all ("never")
    cancel_roles: list[str] = field(default_factory=list)
    withdraw: str = "until_decided"
    # a process started by hand under an existing case (engine/runtime/under_case.py): "<process key> <flag>"
    # names the case's process and the data name that must be true there; `inherit` lists the names copied
    # from that case's data into the start data
    start_under: str = ""
    inherit: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ProcessModel:
        elements = {k: Element(**v) for k, v in data["elements"].items()}
        return cls(**{**data, "elements": elements})


# parsed models by their stored text: a deployed version's model_json never changes, and pages read it on every
# request (the process list, the start page); keyed by the text, so two databases' versions never mix
_STORED: Lru[dict[str, ProcessModel]] = Lru(256)


def stored_models(model_json: str) -> dict[str, ProcessModel]:
    """Every process model of a version's stored `model_json`, by key, parsed once per process. Shared between
    callers: read them, never change them."""
    return _STORED.get(model_json, lambda: {key: ProcessModel.from_dict(data)
                                            for key, data in json.loads(model_json).items()})


def stored_model(model_json: str, key: str) -> ProcessModel:
    """The model of process `key` in a version's stored `model_json` (see stored_models)."""
    return stored_models(model_json)[key]


_LINE_BREAK = re.compile(r"\s*\n\s*")
_SPACES = re.compile(r"\s+")
_WIDE = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")  # CJK and full-width characters: written without spaces


def one_line(name: str | None) -> str | None:
    """A name as people read it on one line: modelers wrap long names with line breaks, which would break
    every list they are shown in. A break between two CJK characters disappears, any other becomes a space."""
    if name is None:
        return None

    def joined(match: re.Match) -> str:
        before, after = name[match.start() - 1: match.start()], name[match.end(): match.end() + 1]
        return "" if _WIDE.match(before) and _WIDE.match(after) else " "

    return _SPACES.sub(" ", _LINE_BREAK.sub(joined, name)).strip()


_FORM_PREFIXES = ("embedded:app:", "embedded:deployment:", "camunda-forms:app:", "camunda-forms:deployment:",
                  "app:", "deployment:")
_FORM_SUFFIXES = (".html", ".htm", ".form", ".yaml", ".yml", ".json")


def form_key_of(raw: str | None) -> str | None:
    """The form key a camunda:formKey names. Camunda Modeler writes where its own engine finds the form
    (`embedded:app:forms/offer.html`); here a form is forms/<key>.yaml, so the key is that file's bare name."""
    if raw is None:
        return None
    key = raw.strip()
    prefix = next((p for p in _FORM_PREFIXES if key.startswith(p)), None)
    if prefix is None:
        return key
    key = key.removeprefix(prefix).rsplit("/", 1)[-1]
    suffix = next((s for s in _FORM_SUFFIXES if key.endswith(s)), "")
    return key.removesuffix(suffix) if suffix else key


def _properties(node: etree._Element) -> dict[str, str]:
    props = node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    return {p.get("name"): p.get("value") or "" for p in props}


def _event(node: etree._Element, messages: dict[str, str]) -> tuple[str | None, str | None]:
    for child in node:
        local = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if local.endswith("EventDefinition"):
            kind = local.removesuffix("EventDefinition")
            return kind, messages.get(child.get("messageRef") or "") if kind == "message" else None
    return None, None


def _element(node: etree._Element, lanes_by_node: dict[str, str], messages: dict[str, str]) -> Element:
    tag = etree.QName(node).localname
    ident = node.get("id")
    props = _properties(node)
    event, message = _event(node, messages)
    return Element(
        id=ident, type=tag, name=one_line(node.get("name")) or ident, line=node.sourceline,
        lane=lanes_by_node.get(ident),
        form_key=form_key_of(node.get(f"{{{CAMUNDA}}}formKey")),
        due=node.get(f"{{{CAMUNDA}}}dueDate"),
        sod=props.get("sod", "").split(),
        attached_to=node.get("attachedToRef"),
        cancel_activity=node.get("cancelActivity", "true") != "false",
        decision_ref=node.get(f"{{{CAMUNDA}}}decisionRef"),
        called=node.get("calledElement"),
        event=event,
        message=message,
        scope=_scope(node),
        name_en=one_line(props.get("name_en")) or None,
        outcome=props.get("outcome") or None,
    )


def _scope(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and etree.QName(parent).localname not in ("process", "subProcess", "transaction"):
        parent = parent.getparent()
    return parent.get("id") if parent is not None and etree.QName(parent).localname != "process" else None


def read_processes(tree: etree._ElementTree, filename: str) -> list[ProcessModel]:
    root = tree.getroot()
    messages = {m.get("id"): m.get("name") or m.get("id") for m in root.findall("bpmn:message", NS)}
    models = []
    for proc in root.findall("bpmn:process", NS):
        lanes: dict[str, str] = {}
        lane_lines: dict[str, int] = {}
        lanes_by_node: dict[str, str] = {}
        for lane in proc.iter(f"{{{BPMN}}}lane"):
            lanes[lane.get("id")] = one_line(lane.get("name")) or lane.get("id")
            lane_lines[lane.get("id")] = lane.sourceline
            for ref in lane.findall("bpmn:flowNodeRef", NS):
                lanes_by_node[(ref.text or "").strip()] = lane.get("id")
        elements = {}
        for node in proc.iter(*(f"{{{BPMN}}}{t}" for t in FLOW_NODES)):
            el = _element(node, lanes_by_node, messages)
            if el.lane is None and el.scope in elements:
                # Camunda Modeler lists a sub-process in its lane, not what is inside it; the sub-process
                # comes first in document order, so its own lane (perhaps inherited too) is already known
                el.lane = elements[el.scope].lane
            elements[el.id] = el
        doc = proc.find("bpmn:documentation", NS)
        props = _properties(proc)
        starters = (proc.get(f"{{{CAMUNDA}}}candidateStarterGroups") or "").replace(",", " ").split()
        models.append(ProcessModel(
            id=proc.get("id"), name=one_line(proc.get("name")) or proc.get("id"), file=filename,
            executable=proc.get("isExecutable") == "true", starters=starters,
            documentation=(doc.text or "").strip() if doc is not None else "",
            lanes=lanes, elements=elements, line=proc.sourceline, lane_lines=lane_lines,
            name_en=one_line(props.get("name_en")) or None, cancel_roles=props.get("cancel_roles", "").split(),
            withdraw=props.get("withdraw") or "until_decided",
            start_under=" ".join(props.get("start_under", "").split()), inherit=props.get("inherit", "").split()))
    return models


def start_events(model: ProcessModel) -> list[Element]:
    return [el for el in model.elements.values() if el.type == "startEvent" and el.scope is None]


def start_event(model: ProcessModel) -> Element | None:
    """The process's start event (validation ensures there is exactly one at the top level)."""
    starts = start_events(model)
    return starts[0] if starts else None
