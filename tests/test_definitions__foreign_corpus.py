"""Public diagrams from other modelers (tests/fixtures/foreign, with their licences) checked the way
`salesflow validate` checks them, each file alone and a few folders as one bundle: each is accepted or
refused with messages a process owner can act on - the file, the element or line, no Python text - and
answers within seconds.

The expected class of every file is in tests/fixtures/foreign/expected.yaml: a file that changes class
(a refusal that starts accepting, or the reverse) fails here until the table is updated on purpose.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from engine.definitions.bundle import load_paths
from engine.definitions.compiler import _check, _compile, compile_bundle, lint_bundle
from engine.errors import DefinitionError, Problem
from engine.roles import lane_roles, load_catalogue

ROOT = Path(__file__).parent / "fixtures" / "foreign"
EXPECTED: dict[str, str] = yaml.safe_load((ROOT / "expected.yaml").read_text(encoding="utf-8"))
SECONDS = 5  # the slowest file takes well under one second; a hang must fail, not block the run
RAW = re.compile(r"Traceback|<Element|object at 0x|\b[A-Z]\w*(Error|Exception):|[:=(]\s*None\b|\bNone\s*$|\.\.\s*$")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def roles() -> set[str]:
    return lane_roles(load_catalogue())


def validate(path: Path) -> list[Problem]:
    """[] when accepted, else the problems `salesflow validate` prints (Engine.compile and Engine.lint)."""
    files = load_paths([path])
    try:
        compile_bundle(files, roles())
    except DefinitionError as exc:
        return exc.problems
    return [f.problem for f in lint_bundle(files, roles()) if f.severity == "error"]


def readable(problem: Problem, path: Path) -> list[str]:
    """What is wrong with how a problem is told, [] when nothing."""
    wrong = []
    if problem.file != str(path) and Path(problem.file).parent != path:
        wrong.append(f"names file {problem.file!r}, not the file given")
    for text in (problem.message, problem.zh or ""):
        if RAW.search(text) or not text.strip():
            wrong.append(f"raw or empty text: {text!r}")
    return wrong


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_public_diagram_is_accepted_or_refused_with_located_readable_messages(name):
    path = ROOT / name
    with deadline(SECONDS):
        problems = validate(path)
    assert ("refused" if problems else "accepted") == EXPECTED[name], [str(p) for p in problems]
    for p in problems:
        assert not readable(p, path), (str(p), readable(p, path))
        assert p.element or p.line, f"not located: {p}"


@pytest.mark.parametrize("name", sorted(n for n, c in EXPECTED.items() if c == "refused"))
def test_what_the_bpmn_parser_says_after_our_own_findings_is_readable_too(name):
    # an owner who fixes every finding of ours next meets SpiffWorkflow's parser: its messages must be
    # as readable, so it reads every refused file here as if ours had found nothing
    path = ROOT / name
    files = load_paths([path])
    with deadline(SECONDS):
        parsed, _findings = _check(files, roles())
        try:
            _compile(parsed, files)
            problems: list[Problem] = []
        except DefinitionError as exc:
            problems = exc.problems
    for p in problems:
        assert not readable(p, path), (str(p), readable(p, path))


def test_the_corpus_is_varied_and_every_file_has_a_class():
    on_disk = {str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.suffix in (".bpmn", ".dmn")}
    bundles = {name for name in EXPECTED if (ROOT / name).is_dir()}  # folders checked as one bundle
    assert on_disk == set(EXPECTED) - bundles and len(bundles) >= 3
    sources = {name.split("/", 1)[0] for name in EXPECTED}
    assert sources == {"bpmn-miwg", "camunda-bpm-examples", "spiffworkflow"}
    assert {"accepted", "refused"} == set(EXPECTED.values())


# -- the refusals diagrams from other modelers need most, on small diagrams -----------------------------------

def process_xml(pid: str, body: str) -> str:
    return (f'<bpmn:process id="{pid}" isExecutable="true"><bpmn:startEvent id="{pid}_start"/>{body}'
            f'<bpmn:endEvent id="{pid}_end"/></bpmn:process>')


def bpmn(*processes: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">\n'
            + "\n".join(processes) + "\n</bpmn:definitions>\n").encode()


def problems_of(named: list[tuple[str, bytes]]) -> list[Problem]:
    from engine.definitions.bundle import source_files

    files = source_files(named)
    with deadline(SECONDS):
        with pytest.raises(DefinitionError) as refused:
            compile_bundle(files, roles())
        linted = [f.problem for f in lint_bundle(files, roles()) if f.severity == "error"]
    assert set(refused.value.problems) <= set(linted)  # the modeler's check says what deploy refuses
    return refused.value.problems


def call(el_id: str, called: str) -> str:
    return f'<bpmn:callActivity id="{el_id}" calledElement="{called}"/>'


def test_a_process_that_calls_itself_is_refused_naming_the_call_activity():
    problems = problems_of([("self.bpmn", bpmn(process_xml("again", call("call_again", "again"))))])
    (cycle,) = [p for p in problems if "calls itself" in p.message]
    assert (cycle.file, cycle.element, cycle.line) == ("self.bpmn", "call_again", 3)


def test_a_call_cycle_through_other_processes_is_refused_once_naming_each_call_activity():
    problems = problems_of([
        ("a.bpmn", bpmn(process_xml("a", call("a_calls_b", "b")))),
        ("b.bpmn", bpmn(process_xml("b", call("b_calls_c", "c")))),
        ("c.bpmn", bpmn(process_xml("c", call("c_calls_a", "a")))),
    ])
    (cycle,) = [p for p in problems if "calls itself" in p.message]
    assert all(el in cycle.message for el in ("a_calls_b", "b_calls_c", "c_calls_a"))


def test_a_call_activity_to_a_process_in_no_file_is_located():
    problems = problems_of([("main.bpmn", bpmn(process_xml("main", call("get_data", "elsewhere"))))])
    (missing,) = [p for p in problems if "elsewhere" in p.message]
    assert (missing.file, missing.element) == ("main.bpmn", "get_data") and missing.line


def test_a_service_task_is_refused_naming_the_task_types_that_run():
    problems = problems_of([("svc.bpmn", bpmn(process_xml(
        "svc", '<bpmn:serviceTask id="charge" camunda:type="external" camunda:topic="payments"/>')))])
    (service,) = [p for p in problems if p.element == "charge" and "service" in p.message]
    assert "service task is not supported" in service.message and "user, script" in service.message
    assert service.zh and "服务任务" in service.zh


def test_a_dmn_file_without_a_decision_table_is_refused_not_crashed():
    dmn = (b'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"'
           b' id="d" name="d" namespace="n">\n<decisionService id="svc" name="svc"/>\n</definitions>\n')
    (problem,) = problems_of([("service.dmn", dmn)])
    assert problem.file == "service.dmn" and problem.line == 2 and "decision table" in problem.message


def test_a_failure_inside_our_own_checks_is_a_located_refusal_not_a_server_error(monkeypatch):
    from engine.definitions import compiler

    def broken(*_args: object) -> list[Problem]:
        raise IndexError("list index out of range")

    monkeypatch.setattr(compiler, "model_problems", broken)
    named = [("odd.bpmn", bpmn(process_xml("odd", "")))]
    [problem] = problems_of(named)
    assert (problem.file, problem.line) == ("odd.bpmn", 1) and not readable(problem, Path("odd.bpmn"))


def test_what_the_bpmn_parser_says_reads_in_chinese_too():
    """A Chinese-speaking owner meets SpiffWorkflow's parser messages after ours: each one the public diagrams
    hit has its Chinese (engine/definitions/parser_text.py), not the English after a Chinese prefix."""
    english_left = []
    for name in sorted(n for n, c in EXPECTED.items() if c == "refused"):
        files = load_paths([ROOT / name])
        parsed, _findings = _check(files, roles())
        try:
            _compile(parsed, files)
        except DefinitionError as exc:
            english_left += [f"{name}: {p.zh}" for p in exc.problems
                             if p.zh and p.zh.startswith("BPMN 解析器报告：") and p.message in p.zh]
    assert english_left == []
