"""References between the files of a bundle: each call activity names a process of the bundle and no
process calls itself directly or through others (SpiffWorkflow would expand such a call without end);
each business rule task names a decision of the bundle."""

from __future__ import annotations

from engine.definitions.model import Element, ProcessModel
from engine.errors import Problem


def _calls(model: ProcessModel) -> list[Element]:
    return [el for el in model.elements.values() if el.type == "callActivity"]


def _missing(model: ProcessModel, models: dict[str, ProcessModel]) -> list[Problem]:
    problems = []
    for el in _calls(model):
        if not el.called:
            problems.append(Problem(model.file, "the call activity names no process: set its called element "
                                    "(calledElement) to a process id of the bundle", el.id, el.line,
                                    "调用活动没有指定流程：请把 calledElement 设为本次文件中某个流程的 id"))
        elif el.called not in models:
            problems.append(Problem(model.file, f"the call activity calls process {el.called}, which is in no "
                                    "file given: add the file that defines it, or correct calledElement",
                                    el.id, el.line, f"调用活动调用的流程 {el.called} 不在所给文件中："
                                    "请加入定义它的文件，或更正 calledElement"))
    return problems


def _cycle_from(start: str, models: dict[str, ProcessModel]) -> list[Element] | None:
    """The call activities of a path from `start` back to `start`, or None."""
    stack: list[tuple[str, list[Element]]] = [(start, [])]
    seen: set[str] = set()
    while stack:
        pid, path = stack.pop()
        for el in _calls(models[pid]):
            if el.called == start:
                return path + [el]
            if el.called in models and el.called not in seen:
                seen.add(el.called)
                stack.append((el.called, path + [el]))
    return None


def _cycles(models: dict[str, ProcessModel]) -> list[Problem]:
    problems, reported = [], set()
    for pid in sorted(models):
        path = _cycle_from(pid, models)
        if not path or path[0].id in reported:
            continue
        reported.update(el.id for el in path)
        chain = " -> ".join(f"{el.id} (calls {el.called})" for el in path)
        model = models[pid]
        problems.append(Problem(model.file, f"process {pid} calls itself: {chain}. A call that comes back to "
                                "its own process never ends; end the repetition with a loop or a gateway "
                                "inside one process instead", path[0].id, path[0].line,
                                f"流程 {pid} 调用了它自己：{chain}。回到自身的调用永远不会结束；"
                                "请改在一个流程内用循环或网关实现重复"))
    return problems


def call_problems(models: dict[str, ProcessModel]) -> list[Problem]:
    """Every call activity that names no process of the bundle, and every call cycle."""
    problems = [p for m in models.values() for p in _missing(m, models)]
    return problems + _cycles(models)


def decision_problems(models: dict[str, ProcessModel], decisions: set[str]) -> list[Problem]:
    """Every business rule task whose camunda:decisionRef no DMN file of the bundle defines."""
    return [Problem(m.file, f"the business rule task uses decision {el.decision_ref}, which no DMN file given "
                    "defines: add the DMN file, or correct camunda:decisionRef", el.id, el.line,
                    f"业务规则任务使用的决策 {el.decision_ref} 不在所给的 DMN 文件中：请加入该 DMN 文件，"
                    "或更正 camunda:decisionRef")
            for m in models.values() for el in m.elements.values()
            if el.type == "businessRuleTask" and el.decision_ref and el.decision_ref not in decisions]
