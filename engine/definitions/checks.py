"""The engine's own checks on a bundle, beyond what SpiffWorkflow's parser checks."""

from __future__ import annotations

import re

from lxml import etree

from engine.definitions.findings import Text
from engine.definitions.model import (
    BPMN,
    CUSTOMER_OWNER,
    DMN_NAMESPACES,
    INITIATOR,
    NS,
    ProcessModel,
    start_events,
)
from engine.errors import Problem
from engine.forms import FormDef
from engine.scripting import compile_expression

WITHDRAW = ("until_decided", "never")  # may the requester withdraw: until someone else decided, or never
HUMAN_TASKS = ("userTask", "manualTask", "task")


def model_problems(model: ProcessModel, roles: set[str], forms: dict[str, FormDef],
                   broken_forms: set[str] = frozenset()) -> list[Problem]:
    problems: list[Problem] = []

    def add(text: Text, element: str | None = None, line: int | None = None) -> None:
        problems.append(Problem(model.file, text[0], element, line, text[1]))

    if not model.executable:
        add((f"process {model.id} is not executable (set isExecutable=\"true\")",
             f"流程 {model.id} 不可执行（请设置 isExecutable=\"true\"）"), model.id, model.line)
    for lane_id in model.lanes:
        if lane_id not in (INITIATOR, CUSTOMER_OWNER) and lane_id not in roles:
            add((f"lane {lane_id} is not a known role (see processes/roles.yaml)",
                 f"泳道 {lane_id} 不是已知角色（见 processes/roles.yaml）"), lane_id, model.lane_lines.get(lane_id))
    for role in model.starters:
        if role not in roles:
            add((f"candidateStarterGroups names unknown role {role}",
                 f"candidateStarterGroups 中的角色 {role} 不存在"), model.id, model.line)
    for role in model.cancel_roles:
        if role not in roles and role != "admin":
            add((f"cancel_roles names unknown role {role}", f"cancel_roles 中的角色 {role} 不存在"),
                model.id, model.line)
    if model.withdraw not in WITHDRAW:
        add((f"withdraw must be one of {', '.join(WITHDRAW)}, not {model.withdraw!r}",
             f"withdraw 须为 {', '.join(WITHDRAW)} 之一，而不是 {model.withdraw!r}"), model.id, model.line)
    starts = start_events(model)
    problems += [Problem(model.file, en, model.id, model.line, zh)
                 for en, zh in _under_case_problems(model, starts, forms)]
    if len(starts) != 1:
        add((f"the process needs exactly one start event at its top level, it has {len(starts)}",
             f"流程的顶层须恰好有一个开始事件，现在有 {len(starts)} 个"), model.id, model.line)
    for el in starts:
        if el.event not in (None, "message", "timer"):
            add((f"a {el.event} start event is not supported (use none, message or timer)",
                 f"不支持 {el.event} 开始事件（请用空、消息或定时器开始事件）"), el.id, el.line)
        if el.event == "message" and not el.message:
            add(("the message start event names no bpmn:message", "消息开始事件没有指定 bpmn:message"),
                el.id, el.line)
    human_ids = {e.id for e in model.elements.values() if e.type in HUMAN_TASKS}
    for el in model.elements.values():
        if el.type in HUMAN_TASKS:
            if not el.lane:
                add(("user task is in no lane, so nobody could be offered it", "用户任务不在任何泳道中，无人能接到它"),
                    el.id, el.line)
            if not el.form_key:
                add(("user task has no form (camunda:formKey)", "用户任务没有表单（camunda:formKey）"), el.id, el.line)
        if el.form_key and el.form_key not in forms and el.form_key not in broken_forms:
            add((f"form {el.form_key} is not in the bundle (forms/{el.form_key}.yaml)",
                 f"表单 {el.form_key} 不在本次的文件中（forms/{el.form_key}.yaml）"), el.id, el.line)
        for token in el.sod:
            if token != INITIATOR and token not in human_ids:
                add((f"sod names {token}, which is neither 'initiator' nor a user task",
                     f"sod 中的 {token} 既不是 'initiator'，也不是用户任务"), el.id, el.line)
    return problems


def _under_case_problems(model: ProcessModel, starts: list, forms: dict[str, FormDef]) -> list[Text]:
    """`start_under` is "<process key> <data name>"; `inherit` needs it, and names no field of the start form
    (a typed value must never stand in for one taken from the case, such as the contract's price)."""
    if not model.start_under:
        return [("inherit needs start_under (the case the names are taken from)",
                 "inherit 需要 start_under（从哪个案件取这些数据）")] if model.inherit else []
    found: list[Text] = []
    parts = model.start_under.split()
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        found.append((f"start_under must be a process key and a data name (\"insale contract_effective\"), "
                      f"not {model.start_under!r}",
                      f"start_under 须为流程键和数据名（\"insale contract_effective\"），而不是 {model.start_under!r}"))
    if any(el.event is not None for el in starts):
        found.append(("start_under needs a plain start event: the process is started by hand under a case",
                      "start_under 需要空开始事件：该流程是在某个案件下手工发起的"))
    form = forms.get(starts[0].form_key) if len(starts) == 1 and starts[0].form_key else None
    typed = set((form.schema.get("properties") or {}) if form is not None else ())
    for name in model.inherit:
        if not name.isidentifier():
            found.append((f"inherit names {name!r}, which is not a data name", f"inherit 中的 {name!r} 不是数据名"))
        elif name in typed:
            found.append((f"inherit names {name}, which the start form asks for too",
                          f"inherit 中的 {name} 开始表单也要求填写"))
    return found


def owner_id(node: etree._Element) -> tuple[str | None, int | None]:
    """The nearest ancestor with an id: the element a person would look for."""
    current = node
    while current is not None and current.get("id") is None:
        current = current.getparent()
    return (current.get("id"), node.sourceline) if current is not None else (None, node.sourceline)


_WHAT_ZH = {"condition": "条件", "timer expression": "定时器表达式", "script": "脚本"}
_BARE_ISO = re.compile(r"(R\d*/)?P[0-9YMWDTHS.]+|\d{4}-\d\d-\d\dT[0-9:.]+Z?")  # Camunda's unquoted timers
_EXAMPLE = {"condition": "amount > 1000", "timer expression": '"PT2H"', "script": "total = price * quantity",
            "DMN inputEntry": '>= 1000, or ? >= 600 and ? < 700', "DMN outputEntry": '"approve"',
            "DMN inputExpression": "amount_yuan"}
# what other engines write where we read Python: (pattern, en, zh); told as such instead of a syntax error
_FOREIGN_LANGUAGES = (
    (re.compile(r"[\[\](]\s*[^\s.][^.]*\.\.[^.]*[\])\[]"), "a FEEL range", "FEEL 区间"),
    (re.compile(r".*\b(getDataObject|getDataInput|getDataOutput|getActivityProperty)\s*\("), "an XPath expression",
     "XPath 表达式"),
    (re.compile(r"[\d*?/,LW#-]+( +[\d*?/,LW#A-Z-]+){4,6}"), "a cron expression", "cron 表达式"),
)


def _foreign_language(text: str) -> tuple[str, str] | None:
    for pattern, en, zh in _FOREIGN_LANGUAGES:
        if pattern.match(text.strip()):
            return en, zh
    return None


def _check(problems: list[Problem], filename: str, node: etree._Element, text: str, mode: str, what: str,
           shown: str | None = None) -> None:
    """A problem unless `text` compiles as Python in `mode`; `shown` is the text as the modeler wrote it."""
    what_zh = _WHAT_ZH.get(what, what)
    if not text.strip() or text.strip().startswith(("${", "#{")):
        # the two ways diagrams from other modelers arrive: left empty, or in Camunda's JUEL
        element, line = owner_id(node)
        how = "is empty" if not text.strip() else f"is a JUEL expression ({text.strip()[:60]})"
        how_zh = "为空" if not text.strip() else f"是 JUEL 表达式（{text.strip()[:60]}）"
        example = _EXAMPLE.get(what, "")
        problems.append(Problem(filename, f"the {what} {how}: write it in Python, e.g. {example} "
                                "(see docs/modelling.md)", element, line,
                                f"{what_zh}{how_zh}：请用 Python 书写，例如 {example}（见 docs/modelling.md）"))
        return
    try:
        compile_expression(text, mode)
    except (PermissionError, SyntaxError, ValueError) as exc:
        element, line = owner_id(node)
        if what == "timer expression" and _BARE_ISO.fullmatch(text.strip()):  # a bare name is the lint's
            problems.append(Problem(filename, "the timer expression is Python: write the ISO 8601 value as a "
                                    f'string, "{text.strip()}"', element, line,
                                    f'定时器表达式是 Python：请把 ISO 8601 值写成字符串 "{text.strip()}"'))
            return
        example = _EXAMPLE.get(what, "")
        foreign = _foreign_language(shown if shown is not None else text)
        if foreign is not None:
            problems.append(Problem(filename, f"the {what} is {foreign[0]} ({(shown or text).strip()[:60]}): write it "
                                    f"in Python, e.g. {example} (see docs/modelling.md)", element, line,
                                    f"{what_zh}是{foreign[1]}（{(shown or text).strip()[:60]}）：请用 Python 书写，"
                                    f"例如 {example}（见 docs/modelling.md）"))
            return
        problems.append(Problem(filename, f"{what} does not compile: {exc}; write it in Python, e.g. {example}",
                                element, line,
                                f"{what_zh}不是有效的 Python（{exc}）：请用 Python 书写，例如 {example}"))


def bpmn_expression_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    problems: list[Problem] = []
    root = tree.getroot()
    for node in root.iter(f"{{{BPMN}}}conditionExpression"):
        _check(problems, filename, node, (node.text or "").strip(), "eval", "condition")
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for node in root.iter(f"{{{BPMN}}}{tag}"):
            _check(problems, filename, node, (node.text or "").strip(), "eval", "timer expression")
    for node in root.iter(f"{{{BPMN}}}script"):
        _check(problems, filename, node, node.text or "", "exec", "script")
    for node in root.iter(f"{{{BPMN}}}scriptTask"):
        if node.find("bpmn:script", NS) is None:
            element, line = owner_id(node)
            problems.append(Problem(filename, "script task has no script", element, line, "脚本任务没有脚本"))
    return problems


def dmn_expression_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    problems: list[Problem] = []
    for ns in DMN_NAMESPACES:
        for tag in ("inputEntry", "outputEntry", "inputExpression"):
            for node in tree.getroot().iter(f"{{{ns}}}{tag}"):
                text_node = node.find(f"{{{ns}}}text")
                text = (text_node.text if text_node is not None else "") or ""
                if text.strip() in ("", "-"):
                    continue
                if tag == "inputEntry":
                    # an input entry may be a test such as `> 1000` or `? in ("a", "b")`: check it
                    # as SpiffWorkflow will run it (it glues a leading operator to the input)
                    if text.strip().startswith(("in ", "in(", "not in")):
                        element, line = owner_id(node)
                        problems.append(Problem(filename, f"DMN inputEntry `{text.strip()}`: write the input as "
                                                          f"`?`, e.g. `? {text.strip()}`", element, line,
                                                f"DMN 输入条目 `{text.strip()}`：请用 `?` 代表输入，"
                                                f"例如 `? {text.strip()}`"))
                        continue
                    shown = text
                    text = text.replace("?", "x") if "?" in text else (f"x {text}" if _is_test(text) else text)
                    _check(problems, filename, node, text.strip(), "eval", f"DMN {tag}", shown)
                    continue
                _check(problems, filename, node, text.strip(), "eval", f"DMN {tag}")
    return problems


def _is_test(entry: str) -> bool:
    """An input entry that starts with a comparison (`> 1000`), not a value."""
    return entry.strip()[:1] in "<>=!"


def decision_ids(tree: etree._ElementTree) -> list[str]:
    return [d.get("id") for ns in DMN_NAMESPACES for d in tree.getroot().iter(f"{{{ns}}}decision")]
