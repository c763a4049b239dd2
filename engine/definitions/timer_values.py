"""The lint's check of timer values written as text: an ISO 8601 duration, date or cycle that the timer's
kind can use, and a `camunda:dueDate` a task's deadline can be computed from."""

from __future__ import annotations

import ast
import re

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.definitions.checks import owner_id
from engine.definitions.findings import ERROR, Finding, Text
from engine.definitions.model import BPMN, CAMUNDA
from engine.errors import Problem
from engine.sandbox.policy import CodeRefused, compile_code

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(rf"P(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
                       rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?")


def timer_text_problem(tag: str, value: str) -> Text | None:
    """Why a literal timer value cannot be used by a timer of this kind, (English, Chinese); None: it can."""
    text = value.strip()
    try:
        if tag == "timeDuration":
            if not _DURATION.fullmatch(text):
                raise ValueError
            TimerEventDefinition.parse_iso_duration(text)
        elif tag == "timeDate":
            TimerEventDefinition.get_datetime(text)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(text)
    except Exception:  # SpiffWorkflow raises bare Exception for a bad duration
        return {
            "timeDuration": (f'"{text}" is not an ISO 8601 duration: days and longer come before T, hours, '
                             f'minutes and seconds after it ("P1D", "PT24H", "P1DT12H")',
                             f"“{text}”不是 ISO 8601 时长：天及以上写在 T 之前，小时、分钟、秒写在 T 之后"
                             f"（“P1D”、“PT24H”、“P1DT12H”）"),
            "timeDate": (f'"{text}" is not an ISO 8601 date or date-time ("2026-03-01T09:00:00+08:00")',
                         f"“{text}”不是 ISO 8601 日期或日期时间（“2026-03-01T09:00:00+08:00”）"),
            "timeCycle": (f'"{text}" is not an ISO 8601 repeating interval ("R3/PT24H")',
                          f"“{text}”不是 ISO 8601 重复间隔（“R3/PT24H”）"),
        }[tag]
    return None


def _timer_value_problem(tag: str, expression: str) -> Text | None:
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return None  # reported by the compiler as an expression that does not compile
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        problem = timer_text_problem(tag, node.value)
        return (f"timer value {problem[0]}", f"定时器的值{problem[1]}") if problem else None
    if isinstance(node, ast.Constant):
        return (f"a timer expression must give ISO 8601 text; {expression.strip()} is not text",
                f"定时器表达式须给出 ISO 8601 文本；{expression.strip()} 不是文本")
    if isinstance(node, ast.Name) and _DURATION.fullmatch(node.id):
        return (f'the timer expression {node.id} is read as a data name; write it in quotes: "{node.id}"',
                f"定时器表达式 {node.id} 会被当作数据名读取；请加上引号：\"{node.id}\"")
    return None


_EXPRESSION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*\(")


def _due_date_problem(due: str) -> Text | None:
    """A due date is ISO 8601 text (a duration from when the task is ready, or a date-time), or an
    expression giving one over the task's data: a call such as working_days_after(1)."""
    text = due.strip().strip("'\"")
    if _EXPRESSION.match(text):
        try:
            compile_code(due, "eval")
        except CodeRefused as exc:
            return f"is an expression the sandbox refuses: {exc}", f"是沙箱拒绝的表达式：{exc}"
        return None
    return timer_text_problem("timeDuration" if text.startswith("P") else "timeDate", text)


def timer_values(tree: etree._ElementTree, filename: str) -> list[Finding]:
    """A timer expression that compiles but whose value cannot be an ISO 8601 duration, date or cycle."""
    findings = []
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for node in tree.getroot().iter(f"{{{BPMN}}}{tag}"):
            problem = _timer_value_problem(tag, node.text or "")
            if problem:
                findings.append(Finding(Problem(filename, problem[0], owner_id(node)[0], node.sourceline, problem[1]),
                                        ERROR))
    for node in tree.getroot().iter():
        due = node.get(f"{{{CAMUNDA}}}dueDate") if isinstance(node.tag, str) else None
        if due:
            problem = _due_date_problem(due)
            if problem:
                findings.append(Finding(Problem(filename, f"camunda:dueDate {problem[0]}", node.get("id"),
                                                node.sourceline, f"camunda:dueDate {problem[1]}"), ERROR))
    return findings
