"""SpiffWorkflow's side of the sandbox (engine/sandbox): every expression in a diagram runs there.

Conditions, script tasks, timer expressions and DMN cells all reach `RestrictedEnvironment`. "Now" is
the engine's clock, frozen for the command, which makes replay exact. Any failure — the code's own
error, a sandbox limit, a value that cannot be stored — becomes `ScriptFailure` naming the diagram
element, and passes through SpiffWorkflow untouched (it is a BaseException, which SpiffWorkflow's
`except Exception` wrappers leave alone) to engine/process/workflow.py, which turns it into a
ProcessError (HTTP 422). SpiffWorkflow does not serialize the script engine: `attach()` runs after
every load.
"""

from __future__ import annotations

from collections import ChainMap
from types import CodeType
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine import clock
from engine.sandbox import dispatch, namespace
from engine.sandbox.guards import LimitExceeded
from engine.sandbox.namespace import days_between, local_datetime  # noqa: F401 - helpers for tests and docs
from engine.sandbox.policy import CodeRefused, compile_code
from engine.sandbox.values import OutputRefused

FAILURES = (LimitExceeded, OutputRefused, dispatch.CodeFailed, CodeRefused)


class ScriptFailure(BaseException):
    """Diagram code failed; `element` is the diagram element it belongs to (None when unknown)."""

    def __init__(self, message: str, element: str | None = None, element_name: str | None = None) -> None:
        super().__init__(message)
        self.element, self.element_name = element, element_name


def global_names() -> frozenset[str]:
    """Every name a diagram expression can use without the data defining it (helpers, builtins)."""
    return namespace.global_names()


def compile_expression(source: str, mode: str = "eval") -> CodeType:
    """Compile under the sandbox's rules; raises PermissionError (CodeRefused) naming what is not allowed."""
    return compile_code(source, mode).code


class RestrictedEnvironment(TaskDataEnvironment):
    def __init__(self) -> None:
        super().__init__({name: None for name in namespace.global_names()})  # for check_for_overwrite

    def evaluate(self, expression, context, external_context=None):  # noqa: ANN001, ANN201
        return dispatch.evaluate(expression, ChainMap(context, external_context or {}), clock.now())

    def execute(self, script, context, external_context=None):  # noqa: ANN001, ANN201
        self.check_for_overwrite(context, external_context or {})
        changes = dispatch.execute(script, ChainMap(context, external_context or {}), clock.now())
        context.update(changes.set)
        for name in changes.deleted:
            context.pop(name, None)
        return True


class DiagramScriptEngine(PythonScriptEngine):
    """Names the element whose code failed; SpiffWorkflow's own wrapping would bury our limits."""

    def evaluate(self, task, expression, external_context=None):  # noqa: ANN001, ANN201
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except (*FAILURES, Exception) as exc:
            raise failure(task, exc, "expression") from None

    def execute(self, task, script, external_context=None):  # noqa: ANN001, ANN201
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except (*FAILURES, Exception) as exc:
            raise failure(task, exc, "script") from None


def failure(task, exc: BaseException, what: str) -> ScriptFailure:  # noqa: ANN001 - a SpiffWorkflow Task
    spec = task.task_spec
    element, name = spec.bpmn_id or spec.name, getattr(spec, "bpmn_name", None)
    label = f'"{name}" ({element})' if name else element
    line = getattr(exc, "line", None)
    where = f"{what} of {label}" + (f", line {line}" if line else "")
    detail = str(exc) if isinstance(exc, FAILURES) else f"{type(exc).__name__}: {exc}"
    return ScriptFailure(f"{where}: {detail}", element, name)


def script_engine() -> PythonScriptEngine:
    return DiagramScriptEngine(environment=RestrictedEnvironment())


_ENGINE = script_engine()


def attach(workflow: Any) -> None:
    """Give a (re)loaded workflow the restricted engine; it is never serialized."""
    workflow.script_engine = _ENGINE  # sub-workflows read their top workflow's engine
