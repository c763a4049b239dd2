"""Rules traceability: each rule of the company's rules (docs/rules/*.yaml), the BPMN
elements that implement it, and the tests that prove it (`@pytest.mark.rule("P4.2")`).

Read from the files in the checkout, so it shows what the code and the tests say now.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.config import PROJECT_ROOT
from engine.definitions.model import read_processes
from engine.definitions.xmlsafe import UnsafeXml, parse_xml
from engine.errors import DefinitionError, Problem

SCOPE_FILE = "scope.yaml"  # docs/rules/scope.yaml is the scope record (engine/scope.py), not a process's rules


@dataclass
class RuleTrace:
    id: str
    process: str
    text: dict[str, str]
    seed: list[int]
    elements: dict[str, bool]  # element id -> found in the process's BPMN
    tests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = [f"element {e} is not in processes/{self.process}.bpmn" for e, ok in self.elements.items() if not ok]
        return found + ([] if self.tests else ["no test proves this rule"])


def _rule_marks(decorators: list[ast.expr]) -> list[str]:
    ids = []
    for deco in decorators:
        if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "rule"
                and deco.args and isinstance(deco.args[0], ast.Constant)):
            ids.append(str(deco.args[0].value))
    return ids


def collect_tests(tests_dir: Path) -> dict[str, list[str]]:
    """rule id -> ["tests/…/file.py::test_name", …] from the decorators in the test files."""
    found: dict[str, list[str]] = {}
    for path in sorted(tests_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                for rule in _rule_marks(node.decorator_list):
                    found.setdefault(rule, []).append(f"{path.relative_to(tests_dir.parent)}::{node.name}")
    return found


def _elements(process: str, processes_dir: Path) -> set[str]:
    path = processes_dir / f"{process}.bpmn"
    try:
        tree = parse_xml(path.read_bytes(), str(path))
    except (OSError, UnsafeXml):
        return set()
    return {el for model in read_processes(tree, str(path)) for el in model.elements}


def trace(root: Path = PROJECT_ROOT) -> list[RuleTrace]:
    tests = collect_tests(root / "tests")
    traces = []
    for path in sorted((root / "docs" / "rules").glob("*.yaml")):
        if path.name == SCOPE_FILE:
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DefinitionError([Problem(str(path), f"not valid YAML: {exc}")]) from None
        process = doc.get("process", path.stem)
        known = _elements(process, root / "processes")
        for rule in doc.get("rules") or []:
            traces.append(RuleTrace(
                id=str(rule["id"]), process=process, text=rule.get("text") or {}, seed=list(rule.get("seed") or []),
                elements={e: e in known for e in rule.get("elements") or []}, tests=tests.get(str(rule["id"]), [])))
    return traces


def unknown_marks(traces: list[RuleTrace], root: Path = PROJECT_ROOT) -> dict[str, list[str]]:
    """Tests that name a rule id no rules file defines."""
    known = {t.id for t in traces}
    return {rule: where for rule, where in collect_tests(root / "tests").items() if rule not in known}
