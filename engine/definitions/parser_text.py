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
