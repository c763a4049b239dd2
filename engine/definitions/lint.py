"""The engine's lint: definitions that compile but would misbehave when they run.

Each check is one small function over the parsed bundle and returns Findings. Errors
(a condition, script or DMN input reading a name nothing sets, an element no path reaches, a timer whose
value is not ISO 8601) make `compile_bundle` refuse the bundle; warnings (a gateway
that stops the instance when no condition holds) only go out through `Engine.lint`.
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from engine import form_prefill, outcomes
from engine.definitions.checks import owner_id
from engine.definitions.documentation import missing_languages
from engine.definitions.findings import ERROR, WARNING, Finding, Text
from engine.definitions.model import (
    BPMN,
    CAMUNDA,
    CUSTOMER_OWNER,
    DMN_NAMESPACES,
    INITIATOR,
    Element,
    ProcessModel,
    start_events,
)
from engine.definitions.one_deadline import one_deadline
from engine.definitions.timer_values import timer_values
from engine.errors import Problem
from engine.forms import FormDef
from engine.scripting import global_names

_SCOPES = ("subProcess", "transaction", "adHocSubProcess")
# data SpiffWorkflow itself puts in a task's data: data objects, a multi-instance's items
_DATA_ITEMS = ("dataObject", "inputDataItem", "outputDataItem", "dataInput", "dataOutput")
_THROWS = (f"{{{BPMN}}}intermediateThrowEvent", f"{{{BPMN}}}endEvent")


def _owner(node: etree._Element) -> str | None:
    """The id of the nearest element, the node itself or an ancestor, that has one."""
    return owner_id(node)[0]


# What a diagram expression may name without any data: the sandbox's helpers and builtins, not all of
# Python's (a script calling print() or getattr() passes every check but fails when the instance gets there).
KNOWN_GLOBALS = global_names()
_PYTHON_ONLY = frozenset(dir(builtins)) - KNOWN_GLOBALS


def _at_element(model: ProcessModel, el: Element, message: str, zh: str, severity: str = ERROR) -> Finding:
    """A finding on one element of the model, in both languages."""
    return Finding(Problem(model.file, message, el.id, el.line, zh), severity)


@dataclass
class Sources:
    """What the lint reads: the compiler's parsed bundle."""

    bpmn: dict[str, etree._ElementTree]  # file name -> tree
    dmn: dict[str, etree._ElementTree]
    models: dict[str, ProcessModel]
    forms: dict[str, FormDef]
    broken_forms: set[str] = field(default_factory=set)


def lint(src: Sources) -> list[Finding]:
    findings: list[Finding] = []
    outputs, sent, inputs = decision_outputs(src.dmn), _payloads_sent(src), decision_inputs(src.dmn)
    own = {key: _own_names(src, key, outputs, sent) for key in src.models}
    for key, model in src.models.items():
        proc = _process_node(src, model)
        if proc is None:
            continue
        findings += unset_read_names(model, _readers(model, proc, inputs), _reachable_names(src, key, own))
        findings += unset_prefill_names(src, key, outputs, sent)
        findings += unreachable_elements(model, proc)
        findings += nobody_may_start(src, model)
        findings += end_event_outcomes(model, proc)
        findings += gateways_without_default(model, proc)
        findings += process_summaries(model, proc)
    for name, tree in src.bpmn.items():
        findings += timer_values(tree, name)
        findings += one_deadline(tree, name)
    return list(dict.fromkeys(findings))  # a decision two processes call is reported once


# -- the data a process can hold ------------------------------------------------
@dataclass
class _Names:
    names: set[str] = field(default_factory=set)
    unknown: bool = False  # something sets data we cannot see (a missing form, decision or process)
    payload_from: set[str] = field(default_factory=set)  # start messages no process in the bundle sends
    free_start: bool = False  # started by hand with data no start form describes (through the API)


def _process_node(src: Sources, model: ProcessModel) -> etree._Element | None:
    tree = src.bpmn.get(model.file)
    if tree is None:
        return None
    return next((p for p in tree.getroot().iter(f"{{{BPMN}}}process") if p.get("id") == model.id), None)


def decision_outputs(dmn: dict[str, etree._ElementTree]) -> dict[str, set[str]]:
    """Decision id -> the top-level data names its outputs set."""
    result: dict[str, set[str]] = {}
    for tree in dmn.values():
        for ns in DMN_NAMESPACES:
            for decision in tree.getroot().iter(f"{{{ns}}}decision"):
                names = {(o.get("name") or "").split(".")[0] for o in decision.iter(f"{{{ns}}}output")}
                result[decision.get("id")] = {n for n in names if n}
    return result


def _form_names(form: FormDef) -> set[str]:
    props = set((form.schema.get("properties") or {}).keys())
    return props | {f.get("name") for f in form.fields if isinstance(f, dict) and f.get("name")}


def _script_tree(script: str) -> ast.AST | None:
    """The script's syntax tree; None when it does not parse (the compile check reports that)."""
    try:
        return ast.parse(script, mode="exec")
    except SyntaxError:
        return None


def assigned_names(script: str) -> set[str]:
    """The names a script assigns (x = ..., for x in ..., def x, x += ...)."""
    tree = _script_tree(script)
    if tree is None:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def _payload_keys(expression: str) -> set[str] | None:
    """The keys of a message payload written as a dict literal; None when they cannot be read."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Dict) or any(not isinstance(k, ast.Constant) or not isinstance(k.value, str)
                                              for k in node.keys):
        return None
    return {k.value for k in node.keys}


def _messages(tree: etree._ElementTree) -> dict[str, str]:
    return {m.get("id"): m.get("name") or m.get("id") for m in tree.getroot().iter(f"{{{BPMN}}}message")}


def _payloads_sent(src: Sources) -> dict[str, list[set[str] | None]]:
    """Message name -> the payload keys of every throw of it in the bundle."""
    sent: dict[str, list[set[str] | None]] = {}
    for tree in src.bpmn.values():
        messages = _messages(tree)
        for definition in tree.getroot().iter(f"{{{BPMN}}}messageEventDefinition"):
            if definition.getparent().tag in _THROWS:
                expression = definition.get(f"{{{CAMUNDA}}}expression") or ""
                name = messages.get(definition.get("messageRef") or "")
                sent.setdefault(name, []).append(_payload_keys(expression))
    return sent


def _message_names(src: Sources, key: str, proc: etree._Element, sent: dict[str, list[set[str] | None]],
                   found: _Names) -> None:
    """A message caught at the start is the data; caught later it lands under its resultVariable or name."""
    model = src.models[key]
    messages = _messages(src.bpmn[model.file])
    starts = {el.id for el in start_events(model)}
    for definition in proc.iter(f"{{{BPMN}}}messageEventDefinition"):
        if definition.getparent().tag in _THROWS:
            continue
        name = messages.get(definition.get("messageRef") or "") or definition.getparent().get("name")
        if definition.getparent().get("id") not in starts:
            found.names.add(definition.get(f"{{{CAMUNDA}}}resultVariable") or name)
            continue
        payloads = sent.get(name, [])
        if not payloads or None in payloads:
            found.payload_from.add(name)
        for keys in payloads:
            found.names |= keys or set()


def _own_names(src: Sources, key: str, outputs: dict[str, set[str]], sent: dict[str, list[set[str] | None]]
               ) -> _Names:
    """The names this process itself can set: forms, decisions, scripts, messages, loop variables."""
    model, found = src.models[key], _Names()
    proc = _process_node(src, model)
    starts = start_events(model)
    found.free_start = len(starts) == 1 and starts[0].event is None and not starts[0].form_key
    for el in model.elements.values():
        if el.form_key:
            if el.form_key in src.forms:
                found.names |= _form_names(src.forms[el.form_key])
            else:
                found.unknown = True
        if el.decision_ref:
            found.unknown |= el.decision_ref not in outputs
            found.names |= outputs.get(el.decision_ref, set())
    if proc is None:
        found.unknown = True
        return found
    for script in proc.iter(f"{{{BPMN}}}script"):
        found.names |= assigned_names(script.text or "")
    found.names |= set(model.inherit)  # copied from the case the process is started under
    for node in proc.iter(*(f"{{{BPMN}}}{tag}" for tag in _DATA_ITEMS)):
        found.names |= {n for n in (node.get("id"), node.get("name")) if n}
    for node in proc.iter(etree.Element):
        for attr in ("resultVariable", "elementVariable"):
            if node.get(f"{{{CAMUNDA}}}{attr}"):
                found.names.add(node.get(f"{{{CAMUNDA}}}{attr}"))
    _message_names(src, key, proc, sent, found)
    return found


def _callers(src: Sources, key: str) -> set[str]:
    return {k for k, m in src.models.items()
            if any(el.type == "callActivity" and el.called == key for el in m.elements.values())}


def _call_neighbours(src: Sources, key: str) -> set[str]:
    """Processes this one calls or is called by: a call activity copies all data in and back out."""
    called = {el.called for el in src.models[key].elements.values() if el.type == "callActivity" and el.called}
    return called | _callers(src, key)


def _reachable_names(src: Sources, key: str, own: dict[str, _Names]) -> _Names:
    """Own names plus those of every process linked to this one by call activities."""
    result, seen, todo = _Names(), set(), [key]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current not in own:  # a called process that is not in the bundle
            result.unknown = True
            continue
        result.names |= own[current].names
        result.unknown |= own[current].unknown
        if current == key:
            result.payload_from |= own[current].payload_from
            # a process that is called gets its data from its caller, whose names are counted here
            result.free_start = own[current].free_start and not _callers(src, key)
        todo += sorted(_call_neighbours(src, current))
    return result


def read_names(expression: str) -> set[str]:
    """The data names an expression reads: not the helpers, builtins, or names it binds itself."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return set()
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound - KNOWN_GLOBALS


# -- the checks ------------------------------------------------------------------
@dataclass(frozen=True)
class _Reader:
    """Code that reads data when it runs: a condition, a script, a DMN input expression."""

    file: str
    element: str | None
    line: int | None
    what: Text  # ("the condition", "条件"), in both languages
    reads: frozenset[str]


def script_reads(script: str) -> set[str]:
    """The data names a script reads before, or without, setting them itself."""
    tree = _script_tree(script)
    if tree is None:
        return set()
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    return loaded - bound - assigned_names(script) - KNOWN_GLOBALS


def _readers(model: ProcessModel, proc: etree._Element, dmn_inputs: dict[str, list[_Reader]]) -> list[_Reader]:
    found = []
    for flow in proc.iter(f"{{{BPMN}}}sequenceFlow"):
        condition = flow.find(f"{{{BPMN}}}conditionExpression")
        if condition is not None:
            found.append(_Reader(model.file, flow.get("id"), condition.sourceline, ("the condition", "条件"),
                                 frozenset(read_names(condition.text or ""))))
    for script in proc.iter(f"{{{BPMN}}}script"):
        found.append(_Reader(model.file, _owner(script), script.sourceline, ("the script", "脚本"),
                             frozenset(script_reads(script.text or ""))))
    for el in model.elements.values():
        found += dmn_inputs.get(el.decision_ref or "", [])
    return found


def decision_inputs(dmn: dict[str, etree._ElementTree]) -> dict[str, list[_Reader]]:
    """Decision id -> its input expressions, each with the names it reads from the task's data."""
    result: dict[str, list[_Reader]] = {}
    for name, tree in dmn.items():
        for ns in DMN_NAMESPACES:
            for decision in tree.getroot().iter(f"{{{ns}}}decision"):
                what = (f"the input of decision {decision.get('id')}", f"决策 {decision.get('id')} 的输入")
                for node in decision.iter(f"{{{ns}}}inputExpression"):
                    text = node.find(f"{{{ns}}}text")
                    reads = read_names(text.text or "") if text is not None else set()
                    result.setdefault(decision.get("id"), []).append(
                        _Reader(name, _owner(node), node.sourceline, what, frozenset(reads)))
    return result


_NOT_SET = ("which no start form, task form, decision output, script, message or called process sets",
            "但没有任何开始表单、任务表单、决策输出、脚本、消息或被调用的流程设置它")


def _unset_text(reader: _Reader, name: str) -> Text:
    if name in _PYTHON_ONLY:  # unless some form sets data of that name, it is the builtin the author meant
        offered = ", ".join(sorted(n for n in KNOWN_GLOBALS if n[0].islower()))
        return (f"{reader.what[0]} uses {name}, a Python builtin that diagram code does not have (it has: {offered})",
                f"{reader.what[1]}使用了 {name}：这是 Python 内置函数，图中的代码不能使用（可用的有：{offered}）")
    en, zh = f"{reader.what[0]} reads {name}, {_NOT_SET[0]}", f"{reader.what[1]}读取了数据 {name}，{_NOT_SET[1]}"
    if name in sys.stdlib_module_names:
        # the usual slip of a script written for plain Python: `datetime.now()`, `math.ceil(x)`
        en += (f" ({name} is a Python module: a diagram cannot import modules; use now(), today() and the "
               f"other helpers of docs/modelling.md)")
        zh += f"（{name} 是 Python 模块：图中不能导入模块；请用 now()、today() 等 docs/modelling.md 中的辅助函数）"
    return en, zh


def unset_read_names(model: ProcessModel, readers: list[_Reader], names: _Names) -> list[Finding]:
    """A condition, script or DMN input that reads a name no form, decision, script, message or called
    process sets: it would fail (or take the wrong branch) only when the instance gets there."""
    if names.unknown:
        return []  # a missing form or decision is reported on its own; guessing here would only add noise
    findings = []
    for reader in readers:
        for name in sorted(reader.reads - names.names):
            message, zh = _unset_text(reader, name)
            severity = ERROR
            if names.payload_from:
                senders = ", ".join(sorted(names.payload_from))
                message += (f" (unless the message {senders} that starts the process "
                            f"carries it; no process in the bundle sends it)")
                zh += f"（除非启动本流程的消息 {senders} 带有它；本次的文件中没有流程发送该消息）"
                severity = WARNING
            elif names.free_start and name not in sys.stdlib_module_names:
                message += " (unless the process is started with it: its start event has no form)"
                zh += "（除非发起流程时带有它：开始事件没有表单）"
                severity = WARNING
            findings.append(Finding(Problem(reader.file, message, reader.element, reader.line, zh), severity))
    return findings


def unset_prefill_names(src: Sources, key: str, outputs: dict[str, set[str]],
                        sent: dict[str, list[set[str] | None]]) -> list[Finding]:
    """A form field prefilled (x-prefill) from a name nothing but that form itself sets, or on the start form
    (which has no earlier data)."""
    model, findings = src.models[key], []
    starts = {el.id for el in start_events(model)}
    own: dict[str, _Names] | None = None  # every process's own names, computed once (the lint's costliest part)
    for el in model.elements.values():
        form = src.forms.get(el.form_key or "")
        wanted = form_prefill.sources(form.schema) if form else {}
        if not wanted:
            continue
        if el.id in starts:
            message = (f"the start form {form.key} prefills {', '.join(sorted(wanted))}: "
                       f"a start form has no earlier data")
            zh = f"开始表单 {form.key} 预填了 {'、'.join(sorted(wanted))}：开始表单之前没有任何数据"
            findings.append(_at_element(model, el, message, zh))
            continue
        blank = FormDef(form.key, form.title, {}, [], {})  # what the others set, without this form's own fields
        others = Sources(src.bpmn, src.dmn, src.models, {**src.forms, form.key: blank}, src.broken_forms)
        own = own or {k: _own_names(src, k, outputs, sent) for k in src.models}
        users = {k for k, m in src.models.items() if any(e.form_key == form.key for e in m.elements.values())}
        names = _reachable_names(others, key, {**own, **{k: _own_names(others, k, outputs, sent) for k in users}})
        if names.unknown or names.payload_from:
            continue
        for field_name, source in sorted(wanted.items()):
            if source not in names.names:
                message = (f"form {form.key}: {field_name} is prefilled from {source}, which no start form, other "
                           f"task form, decision output, script, message or called process sets")
                zh = (f"表单 {form.key}：{field_name} 预填自 {source}，但没有任何开始表单、其他任务表单、决策输出、"
                      f"脚本、消息或被调用的流程设置它")
                findings.append(_at_element(model, el, message, zh))
    return findings


def _flows(proc: etree._Element) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for flow in proc.iter(f"{{{BPMN}}}sequenceFlow"):
        out.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    return out


def _links(proc: etree._Element) -> dict[str, list[str]]:
    """Link throw event id -> the link catch events of the same name in the same scope."""
    def link_events(tag: str) -> Iterator[tuple[etree._Element, str]]:
        for node in proc.iter(f"{{{BPMN}}}{tag}"):
            link = node.find(f"{{{BPMN}}}linkEventDefinition")
            if link is not None:
                yield node, link.get("name") or node.get("name") or ""

    catches = [(_owner(node.getparent()), name, node.get("id")) for node, name in link_events("intermediateCatchEvent")]
    return {node.get("id"): [c for scope, name2, c in catches if scope == _owner(node.getparent()) and name2 == name]
            for node, name in link_events("intermediateThrowEvent")}


def _scope_entries(model: ProcessModel, proc: etree._Element) -> dict[str | None, list[str]]:
    """Scope id (None: the process) -> what runs when the scope starts: start events, event subprocesses."""
    event_subs = {n.get("id") for n in proc.iter(f"{{{BPMN}}}subProcess") if n.get("triggeredByEvent") == "true"}
    entries: dict[str | None, list[str]] = {}
    for el in model.elements.values():
        if el.type == "startEvent" or el.id in event_subs:
            entries.setdefault(el.scope, []).append(el.id)
    return entries


def reachable(model: ProcessModel, proc: etree._Element, side_branches: bool = True) -> set[str]:
    """Every element a path from the start event reaches; without `side_branches`, the paths after
    non-interrupting boundary events (reminders, escalations) do not count."""
    flows, links, entries = _flows(proc), _links(proc), _scope_entries(model, proc)
    boundaries: dict[str, list[str]] = {}
    for el in model.elements.values():
        if el.attached_to and (side_branches or el.cancel_activity):
            boundaries.setdefault(el.attached_to, []).append(el.id)
    seen: set[str] = set()
    todo = [el.id for el in start_events(model)] + [e for e in entries.get(None, []) if e in model.elements]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += flows.get(current, []) + boundaries.get(current, []) + links.get(current, [])
        if model.elements.get(current) and model.elements[current].type in _SCOPES:
            todo += entries.get(current, [])
    return seen


def unreachable_elements(model: ProcessModel, proc: etree._Element) -> list[Finding]:
    """An element no path from the start event reaches (a boundary event counts as reached with its host)."""
    if len(start_events(model)) != 1:
        return []  # the compiler reports the start events themselves
    seen = reachable(model, proc)
    findings = []
    for el in model.elements.values():
        if el.id in seen or (el.scope and el.scope not in seen) or (el.attached_to and el.attached_to not in seen):
            continue  # only the first element of an unreachable part is reported
        message = f"no path from the start event reaches {el.name}: connect it with a sequence flow or remove it"
        zh = f"从开始事件出发没有路径到达「{el.name}」：用顺序流连接它，或删除它"
        findings.append(_at_element(model, el, message, zh))
    return findings


def nobody_may_start(src: Sources, model: ProcessModel) -> list[Finding]:
    """A process started by hand that no role may start: Camunda Modeler draws processes without lanes or
    starter groups, which would deploy and then refuse everyone. A process only ever called runs as part of
    its caller, and a timer or message start needs no starter (engine/runtime/access.py)."""
    starts = start_events(model)
    if len(starts) != 1 or starts[0].event is not None or model.starters:
        return []
    if starts[0].lane and starts[0].lane not in (INITIATOR, CUSTOMER_OWNER):
        return []
    if _callers(src, model.id):
        return []
    where = f"its start event is in the {starts[0].lane} lane" if starts[0].lane else "its start event is in no lane"
    where_zh = f"开始事件在 {starts[0].lane} 泳道中" if starts[0].lane else "开始事件不在任何泳道中"
    message = (f"nobody may start process {model.id}: it names no starter role and {where}; add "
               f"camunda:candidateStarterGroups=\"<role id>\" to the process, or put the start event in a lane "
               f"whose id is a role (roles: processes/roles.yaml)")
    zh = (f"无人能发起流程 {model.id}：流程没有指定发起角色，且{where_zh}；请在流程上添加 "
          f"camunda:candidateStarterGroups=\"<角色 id>\"，或把开始事件放进以角色 id 命名的泳道"
          f"（角色见 processes/roles.yaml）")
    return [Finding(Problem(model.file, message, model.id, model.line, zh), ERROR)]


def end_event_outcomes(model: ProcessModel, proc: etree._Element) -> list[Finding]:
    """Every end event on a case's path declares how the case ends there (processes/outcomes.yaml); one
    that only closes a reminder branch need not, but what it declares must be known too."""
    known = outcomes.declarable()
    choices = ", ".join(sorted(known))
    on_case_path = reachable(model, proc, side_branches=False)
    findings = []
    for el in model.elements.values():
        if el.type != "endEvent" or el.scope is not None:
            continue
        if el.outcome is None and el.id in on_case_path:
            findings.append(_at_element(
                model, el, f"the end event {el.name} ends the case but declares no outcome: add the Camunda "
                           f"property outcome with one of {choices}",
                f"结束事件「{el.name}」结束了案件，却没有声明结果：添加 Camunda 属性 outcome，取值为 {choices} 之一"))
        elif el.outcome is not None and el.outcome not in known:
            findings.append(_at_element(
                model, el, f"the end event {el.name} declares the unknown outcome {el.outcome!r}: use one of "
                           f"{choices} (processes/outcomes.yaml)",
                f"结束事件「{el.name}」声明了未知的结果 {el.outcome!r}：请使用 {choices} 之一"
                f"（processes/outcomes.yaml）"))
    return findings


def gateways_without_default(model: ProcessModel, proc: etree._Element) -> list[Finding]:
    """An exclusive or inclusive gateway whose outgoing flows all carry conditions and none is the default."""
    conditional: dict[str, list[bool]] = {}
    for flow in proc.iter(f"{{{BPMN}}}sequenceFlow"):
        has = flow.find(f"{{{BPMN}}}conditionExpression") is not None
        conditional.setdefault(flow.get("sourceRef"), []).append(has)
    findings = []
    for node in proc.iter(f"{{{BPMN}}}exclusiveGateway", f"{{{BPMN}}}inclusiveGateway"):
        outgoing = conditional.get(node.get("id"), [])
        if node.get("default") or not outgoing or not all(outgoing):
            continue
        label = node.get("name") or node.get("id")
        message = (f"gateway {label} has conditional flows and no default flow: "
                   f"when no condition holds the instance stops with an error")
        zh = f"网关「{label}」的出口都带条件，却没有默认流：没有条件成立时，实例会出错停下"
        findings.append(Finding(Problem(model.file, message, node.get("id"), node.sourceline, zh), WARNING))
    return findings


def process_summaries(model: ProcessModel, proc: etree._Element) -> list[Finding]:
    """The start page shows each process's summary in the reader's language, from the documentation's
    opening `zh: …` and `en: …` lines (docs/modelling.md); a missing one leaves the reader without it."""
    missing = missing_languages(model.documentation)
    if not missing:
        return []
    names = {"zh": ("Chinese", "中文"), "en": ("English", "英文")}
    en = " and ".join(names[lang][0] for lang in missing)
    zh = "和".join(names[lang][1] for lang in missing)
    message = (f"the process has no {en} summary: begin its documentation with one line per language, "
               f"\"zh: …\" and \"en: …\", then a blank line")
    text = f"流程缺少{zh}摘要：在流程的文档开头每种语言写一行，“zh: …”和“en: …”，然后空一行"
    doc = proc.find(f"{{{BPMN}}}documentation")
    line = doc.sourceline if doc is not None else model.line
    return [Finding(Problem(model.file, message, model.id, line, text), WARNING)]
