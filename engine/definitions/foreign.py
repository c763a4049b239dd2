"""What diagrams from other modelers carry and salesflow does not run, refused before SpiffWorkflow
reads the file: its parser either has no serializer for these (a raw TypeError) or accepts them and
leaves an instance that can never move. Each refusal names the element and says what to use instead.
"""

from __future__ import annotations

from lxml import etree

from engine.definitions.model import BPMN, CAMUNDA
from engine.errors import Problem

DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")

SUPPORTED_TASKS = ("user, script, business rule (a DMN decision table), send and receive (a message), call activity "
                   "and sub-process")
SUPPORTED_TASKS_ZH = "用户任务、脚本任务、业务规则任务（DMN 决策表）、发送和接收任务（消息）、调用活动和子流程"

# element -> (English, Chinese): why it is refused and what to model instead
_REFUSED = {
    "serviceTask": (
        "a service task is not supported: salesflow calls no external code, connectors or external-task "
        f"workers. Supported tasks: {SUPPORTED_TASKS}. Use a user task for work a person does, a script task "
        "for a calculation, or a message catch event where another system answers",
        f"不支持服务任务：salesflow 不调用外部代码、连接器或外部任务。支持的任务：{SUPPORTED_TASKS_ZH}。"
        "由人完成的工作用用户任务，计算用脚本任务，等待其他系统答复用消息捕获事件"),
    "dataStoreReference": (
        "a data store is not supported: a case keeps its data in its own fields; remove the data store "
        "and its associations",
        "不支持数据存储：案件的数据保存在它自己的字段中；请删除数据存储及其关联"),
}


def _line(el: etree._Element) -> int | None:
    return el.sourceline if isinstance(el.sourceline, int) else None


def bpmn_foreign_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Elements of a BPMN file we refuse, each located by id and line."""
    problems = []
    for tag, (en, zh) in _REFUSED.items():
        for el in tree.iter(f"{{{BPMN}}}{tag}"):
            problems.append(Problem(filename, en, el.get("id"), _line(el), zh))
    for el in tree.iter(f"{{{BPMN}}}businessRuleTask"):
        if not el.get(f"{{{CAMUNDA}}}decisionRef"):
            problems.append(Problem(
                filename, "the business rule task names no decision: set camunda:decisionRef to the id of a "
                "decision in a DMN file of the bundle", el.get("id"), _line(el),
                "业务规则任务没有指定决策：请把 camunda:decisionRef 设为本次文件中某个 DMN 决策的 id"))
    return problems


def dmn_foreign_problems(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """A DMN file salesflow can use holds decisions, each a decision table."""
    root = tree.getroot()
    ns = etree.QName(root).namespace
    if ns not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
        return [Problem(filename, "not a DMN 1.1, 1.2 or 1.3 file (its root is not a DMN definitions element)",
                        line=_line(root), zh="不是 DMN 1.1、1.2 或 1.3 文件（根元素不是 DMN definitions）")]
    decisions = root.findall(f"{{{ns}}}decision")
    if not decisions:
        return [Problem(filename, "the file has no decision: salesflow runs decision tables only (not decision "
                        "services or business knowledge models); add a decision with a decision table",
                        line=_line(root), zh="文件中没有决策：salesflow 只运行决策表（不运行决策服务或业务知识模型）；"
                        "请添加一个带决策表的决策")]
    return [Problem(filename, "the decision is not a decision table: salesflow runs decision tables only "
                    "(not literal expressions, contexts or invocations); model it as a decision table",
                    d.get("id"), _line(d),
                    "该决策不是决策表：salesflow 只运行决策表（不运行字面表达式、上下文或调用）；请把它建成决策表")
            for d in decisions if d.find(f"{{{ns}}}decisionTable") is None]
