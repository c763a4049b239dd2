"""What people read instead of ids: a deployed version's element and flow names and its data labels.

Built only from what the version stores (our model of its diagrams, its BPMN and DMN files, its
forms), so each version keeps its own names (history tells an event with the names of the version it
ran on) and no page labels anything per process. A data name that no form asks for and no DMN output
labels (a script's working value, a routing code) gets no label here, and pages leave it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from engine.definitions.model import ProcessModel, one_line, start_event
from engine.definitions.xmlsafe import parse_xml

Text = dict[str, str]

# an element without a name is shown as its kind, in words (never its id)
TYPE_WORDS: dict[str, Text] = {
    "exclusiveGateway": {"zh": "排他网关", "en": "exclusive gateway"},
    "parallelGateway": {"zh": "并行网关", "en": "parallel gateway"},
    "inclusiveGateway": {"zh": "包容网关", "en": "inclusive gateway"},
    "eventBasedGateway": {"zh": "事件网关", "en": "event-based gateway"},
    "startEvent": {"zh": "开始事件", "en": "start event"},
    "endEvent": {"zh": "结束事件", "en": "end event"},
    "intermediateCatchEvent": {"zh": "中间事件", "en": "intermediate event"},
    "intermediateThrowEvent": {"zh": "中间抛出事件", "en": "intermediate throw event"},
    "boundaryEvent": {"zh": "边界事件", "en": "boundary event"},
    "userTask": {"zh": "人工任务", "en": "user task"},
    "manualTask": {"zh": "手工任务", "en": "manual task"},
    "task": {"zh": "任务", "en": "task"},
    "scriptTask": {"zh": "脚本任务", "en": "script task"},
    "serviceTask": {"zh": "服务任务", "en": "service task"},
    "businessRuleTask": {"zh": "业务规则任务", "en": "business rule task"},
    "sendTask": {"zh": "发送任务", "en": "send task"},
    "receiveTask": {"zh": "接收任务", "en": "receive task"},
    "callActivity": {"zh": "调用活动", "en": "call activity"},
    "subProcess": {"zh": "子流程", "en": "sub-process"},
}
EVENT_WORDS: dict[str, Text] = {
    "timer": {"zh": "定时", "en": "timer"}, "message": {"zh": "消息", "en": "message"},
    "signal": {"zh": "信号", "en": "signal"}, "error": {"zh": "错误", "en": "error"},
    "escalation": {"zh": "升级", "en": "escalation"}, "terminate": {"zh": "终止", "en": "terminate"},
    "conditional": {"zh": "条件", "en": "conditional"},
}
UNKNOWN: Text = {"zh": "流程步骤", "en": "process step"}


def type_words(element_type: str, event: str | None = None) -> Text:
    """An unnamed element's kind in words: {"zh": "定时边界事件", "en": "timer boundary event"}."""
    words = TYPE_WORDS.get(element_type, UNKNOWN)
    kind = EVENT_WORDS.get(event or "")
    if kind is None:
        return dict(words)
    return {"zh": kind["zh"] + words["zh"], "en": f"{kind['en']} {words['en']}"}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _property(node: etree._Element, name: str) -> str | None:
    """A camunda:property (any namespace) under the node's extensionElements, e.g. name_en."""
    for child in node:
        if _local(child) != "extensionElements":
            continue
        for prop in child.iter():
            if _local(prop) == "property" and prop.get("name") == name:
                return prop.get("value") or None
    return None


def read_flows(content: str, filename: str) -> dict[tuple[str, str], Text]:
    """{(source id, target id): name} of every named sequence flow of a BPMN file."""
    flows: dict[tuple[str, str], Text] = {}
    for node in parse_xml(content.encode(), filename).getroot().iter():
        if _local(node) != "sequenceFlow" or not (node.get("name") or "").strip():
            continue
        zh = one_line(node.get("name"))
        flows[(node.get("sourceRef") or "", node.get("targetRef") or "")] = {
            "zh": zh, "en": one_line(_property(node, "name_en")) or zh}
    return flows


def read_outputs(content: str, filename: str) -> dict[str, dict]:
    """{output name: {label, type}} of a DMN file's decision tables. A label ends with the output's
    name by our convention ("审批路线 sample_route", for the owner); people read it without that."""
    outputs: dict[str, dict] = {}
    for node in parse_xml(content.encode(), filename).getroot().iter():
        name = node.get("name") if _local(node) == "output" else None
        if not name:
            continue
        words = (one_line(node.get("label")) or "").split(" ")
        if words and words[-1] == name:
            words = words[:-1]
        zh = " ".join(words)
        if zh:
            outputs[name] = {"label": {"zh": zh, "en": one_line(_property(node, "label_en")) or zh},
                             "type": node.get("typeRef") or "string"}
    return outputs


@dataclass
class VersionLabels:
    """One version's names for people. `fields` is every labelled data name, in the order people meet
    them (the start form, the task forms in diagram order, then DMN outputs), each a ui entry
    {name, label, options?, columns?, coded?}; `coded` marks a value that is shown only by its label."""

    elements: dict[str, Text] = field(default_factory=dict)
    flows: dict[tuple[str, str], Text] = field(default_factory=dict)
    forms: dict[str, dict[str, dict]] = field(default_factory=dict)  # form key -> {field: ui}, in form order
    form_of: dict[str, str] = field(default_factory=dict)  # element id -> its form key
    start_form: str | None = None
    fields: dict[str, dict] = field(default_factory=dict)

    def element(self, element_id: str | None) -> Text | None:
        return self.elements.get(element_id or "")

    def flow(self, source: str | None, target: str | None) -> Text | None:
        return self.flows.get((source or "", target or ""))

    def form_fields(self, element_id: str | None) -> dict[str, dict]:
        """{field: ui} of the form the element (a user task, or the start event) shows."""
        return self.forms.get(self.form_of.get(element_id or "", ""), {})


def form_fields(form: dict) -> dict[str, dict]:
    """{field: ui entry} of a stored form, in the order of its schema's properties, labelled fields only."""
    ui = {f["name"]: f for f in form.get("fields") or [] if isinstance(f, dict) and f.get("name") and f.get("label")}
    props = (form.get("schema") or {}).get("properties") or {}
    ordered = [name for name in props if name in ui] + [name for name in ui if name not in props]
    return {name: ui[name] for name in ordered}


def element_names(models: Iterable[ProcessModel]) -> dict[str, Text]:
    """{element id: its name, or its kind in words when it has none} for the elements of `models`."""
    return _element_names(models)


def _element_names(models: Iterable[ProcessModel]) -> dict[str, Text]:
    names: dict[str, Text] = {}
    for model in models:
        for el in model.elements.values():
            named = el.name and el.name != el.id  # the model falls back to the id for an unnamed element
            names[el.id] = ({"zh": el.name, "en": el.name_en or el.name} if named
                            else type_words(el.type, el.event))
    return names


def _value_labels(forms: dict[str, dict[str, dict]], roles: dict[str, Text]) -> dict[str, Text]:
    """Labels for a DMN output's codes: a role's name, or the option label every form gives the value."""
    seen: dict[str, list[Text]] = {}
    for fields in forms.values():
        for ui in fields.values():
            for value, text in (ui.get("options") or {}).items():
                seen.setdefault(str(value), []).append(text)
    labels = {value: texts[0] for value, texts in seen.items() if all(t == texts[0] for t in texts)}
    return {**labels, **roles}


def build(models: dict[str, ProcessModel], key: str, bpmn: dict[str, str], dmn: dict[str, str],
          forms: dict[str, dict], roles: dict[str, Text]) -> VersionLabels:
    """The version's labels from its models (by process id), BPMN and DMN files (name -> text),
    forms (key -> stored form) and the role catalogue (id -> {zh, en})."""
    result = VersionLabels(elements=_element_names(models.values()))
    for name, content in bpmn.items():
        result.flows.update(read_flows(content, name))
    result.forms = {form_key: form_fields(form) for form_key, form in forms.items()}
    main = models.get(key)
    start = start_event(main) if main else None
    result.start_form = start.form_key if start else None
    ordered_keys = [result.start_form] if result.start_form else []
    for model in ([main] if main else []) + [m for k, m in models.items() if k != key]:
        for el in model.elements.values():
            if el.form_key:
                result.form_of[el.id] = el.form_key
                ordered_keys.append(el.form_key)
    for form_key in [*ordered_keys, *sorted(result.forms)]:
        for name, ui in result.forms.get(form_key, {}).items():
            result.fields.setdefault(name, ui)
    codes = _value_labels(result.forms, roles)
    for content_name, content in dmn.items():
        for name, output in read_outputs(content, content_name).items():
            if name in result.fields:
                continue  # a form asks for it: the form's label and options
            ui: dict = {"name": name, "label": output["label"]}
            if output["type"] == "string":
                ui.update(options=codes, coded=True)
            result.fields[name] = ui
    return result
