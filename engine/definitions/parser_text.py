"""SpiffWorkflow's parser messages made readable for a process owner: no Python object text, no
blank type names, and for the messages diagrams from other modelers usually hit, what to change."""

from __future__ import annotations

import re

UNREADABLE = ("usually an element or attribute salesflow does not support; see docs/modelling.md, "
              "\"Bringing a diagram from another modeler\"")
UNREADABLE_ZH = "通常是 salesflow 不支持的元素或属性；见 docs/modelling.md 的“从其他建模工具导入图”"

_ELEMENT_REPR = re.compile(r"\s*<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")

# (pattern, replacement): the parser's wording -> what the owner should do
_HINTS = [
    (re.compile(r"Multiple outgoing flows are not supported for tasks of type\s*\.?"),
     "a task may have only one outgoing flow: add an exclusive or parallel gateway after it and draw "
     "the flows from the gateway."),
    (re.compile(r"Time Specification Error\.\s*Unknown Time Specification\.?"),
     "the timer has no time: give it an ISO 8601 duration (PT2H), date (2026-01-31T09:00:00) or cycle "
     "(R3/PT1H)."),
    (re.compile(r"Cannot resolve (data(?:Input|Output)Association): its (\w+) names nothing"),
     r"\1: its \2 names no data object of this process; connect it to a data object or remove it"),
]


def readable(message: str) -> str:
    text = _ELEMENT_REPR.sub(r": its \1 names nothing", message)
    text = _OBJECT_REPR.sub("(an element)", text)
    for pattern, replacement in _HINTS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\.{2,}", ".", text).strip()
    return text


# (pattern on the readable English, Chinese template): the parser messages diagrams from other modelers hit
# (tests/fixtures/foreign); one not listed keeps its English text after the Chinese prefix
_ZH = [
    (r"Process (?P<a>\S+) is not executable\.?", "流程 {a} 未标记为可执行（isExecutable=\"true\"）。"),
    (r"the timer has no time: .*",
     "定时器没有时间：请填写 ISO 8601 时长（PT2H）、日期（2026-01-31T09:00:00）或周期（R3/PT1H）。"),
    (r"The process (?P<a>.+?) was not found\. Did you mean one of the following: (?P<b>.*?)\??\.?",
     "找不到流程 {a}。是否指以下之一：{b}？"),
    (r"No DMN Diagram available with id (?P<a>.+?), Available DMN ids are: ?(?P<b>.*?)\.?",
     "没有 id 为 {a} 的 DMN 决策；现有的决策 id：{b}。"),
    (r"A multiinstance task must specify a cardinality or a collection\.?",
     "多实例任务必须指定数量（loopCardinality）或集合（collection）。"),
    (r"Exactly one start event is required in a SubWorkflow Task; found (?P<a>\d+)\.?",
     "子流程中必须恰好有一个开始事件；现有 {a} 个。"),
    (r"Data Store with name (?P<a>.+?) has no implementation\.?", "数据存储“{a}”没有实现：salesflow 不支持数据存储。"),
    (r"Store Reference has no implementation\.?", "数据存储引用没有实现：salesflow 不支持数据存储。"),
    (r"(?P<a>data(?:Input|Output)Association): its (?P<b>\w+) names no data object of this process; .*",
     "{a}：其 {b} 没有指向本流程的数据对象；请连接到一个数据对象，或删除它。"),
    (r"a task may have only one outgoing flow: .*",
     "任务只能有一条流出的顺序流：请在其后添加排他网关或并行网关，从网关引出各条顺序流。"),
    (r"Non-default exclusive outgoing sequence flow without condition\.?",
     "排他网关的一条非默认流出顺序流没有条件：请给它条件，或把它设为默认流。"),
    (r"Invalid Script Task\.\s*No Script Provided\..*", "脚本任务无效：没有填写脚本。"),
    (r"Duplicate process ID: (?P<a>.+?)\.?", "流程 ID 重复：{a}。"),
    (r"Cancel Events may only be used with transactions\.?", "取消事件只能用在事务子流程中。"),
    (r"A loopMaximum or loopCondition must be specified for Loop Tasks\.?",
     "循环任务必须指定最大次数（loopMaximum）或循环条件（loopCondition）。"),
]
_ZH_COMPILED = [(re.compile(pattern, re.S), template) for pattern, template in _ZH]


def readable_zh(message: str) -> str:
    """The Chinese of a readable parser message (the output of `readable`), after the parser's name; a
    message not in the table keeps its English."""
    for pattern, template in _ZH_COMPILED:
        found = pattern.fullmatch(message)
        if found:
            parts = {k: v.strip() or "无" for k, v in found.groupdict().items()}
            return "BPMN 解析器报告：" + template.format(**parts)
    return f"BPMN 解析器报告：{message}"
