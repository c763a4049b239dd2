"""Turn a bundle into deployable processes, or refuse it with located problems.

Nothing is half-accepted: `compile_bundle` returns every process of the bundle
or raises DefinitionError listing every problem found in every file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.definitions.bundle import SourceFile
from engine.definitions.callgraph import call_problems, decision_problems
from engine.definitions.checks import (
    bpmn_expression_problems,
    decision_ids,
    dmn_expression_problems,
    model_problems,
)
from engine.definitions.findings import ERROR, Finding, errors
from engine.definitions.foreign import bpmn_foreign_problems, dmn_foreign_problems
from engine.definitions.form_file import load_form
from engine.definitions.lint import Sources, lint
from engine.definitions.model import ProcessModel, read_processes
from engine.definitions.parser import Parser
from engine.definitions.parser_text import UNREADABLE, UNREADABLE_ZH, readable, readable_zh
from engine.definitions.serializer import SERIALIZER, SERIALIZER_VERSION
from engine.definitions.xmlsafe import MAX_FILE_BYTES, UnsafeXml, parse_xml
from engine.errors import DefinitionError, Problem
from engine.forms import FormDef

_log = logging.getLogger(__name__)


@dataclass
class CompiledProcess:
    key: str
    name: str
    sha256: str
    spec_json: str
    models: dict[str, ProcessModel]  # this process and every process it calls
    files: list[SourceFile]
    forms: dict[str, FormDef]
    serializer_version: str = SERIALIZER_VERSION

    @property
    def model_json(self) -> str:
        return json.dumps({k: m.to_dict() for k, m in self.models.items()}, ensure_ascii=False, sort_keys=True)


@dataclass
class _Parsed:
    trees: dict[str, etree._ElementTree] = field(default_factory=dict)
    forms: dict[str, tuple[FormDef, SourceFile]] = field(default_factory=dict)
    models: dict[str, ProcessModel] = field(default_factory=dict)
    decisions: dict[str, SourceFile] = field(default_factory=dict)
    broken_forms: set[str] = field(default_factory=set)  # keys of form files that failed to load
    problems: list[Problem] = field(default_factory=list)


def _read_files(files: list[SourceFile]) -> _Parsed:
    parsed = _Parsed()
    for f in files:
        if len(f.content) > MAX_FILE_BYTES:
            parsed.problems.append(Problem(f.name, f"file is {len(f.content)} bytes; the limit is {MAX_FILE_BYTES}",
                                           zh=f"文件有 {len(f.content)} 字节，上限是 {MAX_FILE_BYTES}"))
            continue
        if f.kind == "form":
            form, problems, key = _load_form(f)
            parsed.problems += problems
            if problems and key:
                parsed.broken_forms.add(key)
            if form:
                if form.key in parsed.forms:
                    parsed.problems.append(Problem(f.name, f"form key {form.key} is defined twice",
                                                       zh=f"表单键 {form.key} 定义了两次"))
                parsed.forms[form.key] = (form, f)
            continue
        try:
            tree = parse_xml(f.content, f.name)
        except UnsafeXml as exc:
            parsed.problems.append(exc.problem)
            continue
        parsed.trees[f.name] = tree
        if f.kind == "dmn":
            parsed.problems += dmn_foreign_problems(tree, f.name) + dmn_expression_problems(tree, f.name)
            for decision in decision_ids(tree):
                parsed.decisions[decision] = f
        else:
            parsed.problems += bpmn_foreign_problems(tree, f.name) + bpmn_expression_problems(tree, f.name)
            for model in read_processes(tree, f.name):
                if model.id in parsed.models:
                    parsed.problems.append(Problem(f.name, f"process id {model.id} is defined twice", model.id,
                                                   model.line, zh=f"流程 id {model.id} 定义了两次"))
                parsed.models[model.id] = model
    return parsed


def _load_form(f: SourceFile) -> tuple[FormDef | None, list[Problem], str | None]:
    try:
        text = f.text
    except UnicodeDecodeError:
        return None, [Problem(f.name, "not UTF-8 text", zh="不是 UTF-8 文本")], None
    return load_form(text, f.name)


def _spiff_problem(exc: Exception, default_file: str, element: str | None = None, line: int | None = None
                   ) -> Problem:
    if isinstance(exc, ValidationException):
        line = exc.line_number if isinstance(exc.line_number, int) else None
        msg = readable(str(exc).split(" Source Details:")[0])
        return Problem(exc.file_name or default_file, msg, exc.id or None, line, readable_zh(msg))
    if isinstance(exc, SpiffWorkflowException) and str(exc):
        msg = readable(str(exc))
        return Problem(default_file, msg, element, line, readable_zh(msg))
    # anything else is a gap in the parser, not the owner's mistake: say so without Python's text, and
    # keep that text in the log for whoever closes the gap
    _log.info("the parser could not read %s", default_file, exc_info=exc)
    return Problem(default_file, f"the BPMN/DMN parser could not read this file ({UNREADABLE})",
                   element, line, zh=f"BPMN/DMN 解析器无法读取此文件（{UNREADABLE_ZH}）")


def _callees(model: ProcessModel, models: dict[str, ProcessModel], seen: set[str]) -> None:
    for el in model.elements.values():
        if el.type == "callActivity" and el.called and el.called not in seen and el.called in models:
            seen.add(el.called)
            _callees(models[el.called], models, seen)


def _digest(parts: list[tuple[str, str, str]]) -> str:
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()


def _compile_one(key: str, parser: CamundaParser, parsed: _Parsed, files: dict[str, SourceFile]) -> CompiledProcess:
    spec = parser.get_spec(key)
    subs = parser.get_subprocess_specs(key)
    spec_json = json.dumps({"spec": SERIALIZER.to_dict(spec),
                            "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subs.items()}})
    used = {key}
    _callees(parsed.models[key], parsed.models, used)
    models = {pid: parsed.models[pid] for pid in sorted(used)}
    used_files = {files[m.file].name: files[m.file] for m in models.values()}
    forms: dict[str, FormDef] = {}
    for m in models.values():
        for el in m.elements.values():
            if el.decision_ref in parsed.decisions:
                f = parsed.decisions[el.decision_ref]
                used_files[f.name] = f
            if el.form_key in parsed.forms:
                form, f = parsed.forms[el.form_key]
                forms[form.key] = form
                used_files[f.name] = f
    sha = _digest([(f.kind, f.name.rsplit("/", 1)[-1], f.sha256) for f in used_files.values()])
    return CompiledProcess(key, parsed.models[key].name, sha, spec_json, models, list(used_files.values()), forms)


def _check(files: list[SourceFile], roles: set[str]) -> tuple[_Parsed, list[Finding]]:
    """Read every file, run the model checks (into parsed.problems) and the lint (returned)."""
    parsed = _read_files(files)
    forms = {k: form for k, (form, _f) in parsed.forms.items()}
    for model in parsed.models.values():
        parsed.problems += model_problems(model, roles, forms, parsed.broken_forms)
    parsed.problems += call_problems(parsed.models) + decision_problems(parsed.models, set(parsed.decisions))
    kinds = {f.name: f.kind for f in files}
    sources = Sources(bpmn={n: t for n, t in parsed.trees.items() if kinds.get(n) == "bpmn"},
                      dmn={n: t for n, t in parsed.trees.items() if kinds.get(n) == "dmn"},
                      models=parsed.models, forms=forms, broken_forms=parsed.broken_forms)
    return parsed, lint(sources)


def _guarded_check(files: list[SourceFile], roles: set[str]) -> tuple[_Parsed, list[Finding]]:
    """_check, with a failure of our own checks refused per file (and logged) instead of a server error."""
    try:
        return _check(files, roles)
    except Exception:  # any file, however odd, gets an answer a person can read
        _log.exception("checking %s failed", [f.name for f in files])
        raise DefinitionError([Problem(f.name, f"this file could not be checked ({UNREADABLE})", line=1,
                                       zh=f"无法检查此文件（{UNREADABLE_ZH}）") for f in files]) from None


def compile_bundle(files: list[SourceFile], roles: set[str]) -> list[CompiledProcess]:
    parsed, findings = _guarded_check(files, roles)
    problems = parsed.problems + errors(findings)
    if problems:
        raise DefinitionError(problems)
    return _compile(parsed, files)


def lint_bundle(files: list[SourceFile], roles: set[str]) -> list[Finding]:
    """Every error and warning of a bundle, deploying nothing; errors are what compile_bundle refuses."""
    try:
        parsed, findings = _guarded_check(files, roles)
    except DefinitionError as exc:
        return [Finding(p, ERROR) for p in exc.problems]
    found = [Finding(p, ERROR) for p in parsed.problems] + findings
    if not any(f.severity == ERROR for f in found):
        try:
            _compile(parsed, files)
        except DefinitionError as exc:
            found += [Finding(p, ERROR) for p in exc.problems]
    return found


def _compile(parsed: _Parsed, files: list[SourceFile]) -> list[CompiledProcess]:
    """SpiffWorkflow's parse of a bundle that passed our own checks."""
    by_name = {f.name: f for f in files}
    parser = Parser()  # Camunda's, with send and receive tasks as message events
    problems = []
    for kind in ("dmn", "bpmn"):  # the decisions first: a business rule task looks its decision up
        for name, tree in parsed.trees.items():
            if by_name[name].kind == kind:
                problems += _add(parser, kind, name, tree)
    if problems:
        raise DefinitionError(problems)
    compiled, problems = [], []
    for key, model in parsed.models.items():
        try:
            compiled.append(_compile_one(key, parser, parsed, by_name))
        except Exception as exc:  # whatever the parser raises becomes a located refusal
            problems.append(_spiff_problem(exc, model.file, model.id, model.line))
    if problems:
        raise DefinitionError(problems)
    return compiled


def _add(parser: CamundaParser, kind: str, name: str, tree: etree._ElementTree) -> list[Problem]:
    try:
        if kind == "dmn":
            parser.add_dmn_xml(tree.getroot(), name)
        else:
            parser.add_bpmn_xml(tree, name)
    except Exception as exc:  # whatever the parser raises becomes a refusal of this file
        return [_spiff_problem(exc, name, line=tree.getroot().sourceline)]
    return []
