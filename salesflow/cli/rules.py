"""`salesflow rules`: every rule, the elements that implement it, the tests that prove it; with `--scope`,
the decision recorded for every section of the company's rules (docs/rules/scope.yaml)."""

from __future__ import annotations

import click

from engine import scope as scope_record
from engine import traceability
from engine.errors import SalesflowError
from salesflow.cli.common import lang


class Untraced(SalesflowError):
    code = "untraced_rules"


class Undecided(SalesflowError):
    code = "scope_incomplete"


DECISION_NAMES = {"modelled": {"zh": "已建模", "en": "modelled"},
                  "other_process": {"zh": "在其他流程", "en": "in another process"},
                  "out_of_scope": {"zh": "不纳入", "en": "out of scope"}, "planned": {"zh": "计划", "en": "planned"}}


def _decision_name(decision: str | None, language: str, issue: object = None) -> str:
    name = DECISION_NAMES.get(decision or "", {}).get(language) or ("-" if decision is None else str(decision))
    if issue is not None:
        name += f"：第{issue}号议题" if language == "zh" else f": issue {issue}"
    return name


def _print_scope(language: str) -> None:
    """Each section with its decision, then the count of sections and lines per decision; exit 1 on a problem."""
    record = scope_record.load()
    for s in sorted(record.sections, key=lambda s: s.first):
        name = _decision_name(s.decision, language, s.issue if s.decision == "planned" else None)
        click.echo(f"{s.first:>4}-{s.last:<4} {name:18} {s.title.get(language) or s.title.get('en', '')}")
        if s.rules:
            click.echo(f"{'':10}rules: {', '.join(s.rules)}")
        for text in (s.reason, s.note):
            if text.get(language) or text.get("en"):
                click.echo(f"{'':10}{text.get(language) or text.get('en')}")
    click.echo(f"seed {record.seed_file}: {record.seed_lines} lines, {len(record.sections)} sections")
    for decision, (sections, lines) in record.counts().items():
        click.echo(f"  {_decision_name(decision, language):18} {sections:>4} section(s) {lines:>5} line(s)")
    found = scope_record.problems(record, {t.id: t.seed for t in traceability.trace()})
    for problem in found:
        click.echo(f"!! {problem}")
    if found:
        raise Undecided(f"{len(found)} problem(s) in docs/rules/scope.yaml")


@click.command(help="List each rule of docs/rules/*.yaml with its BPMN elements and tests; exit 1 if one has no test. "
                    "With --scope: the decision for every section of the company's rules, with counts.")
@click.option("--process", default=None, help="only this process key")
@click.option("--scope", "show_scope", is_flag=True, help="the scope record (docs/rules/scope.yaml) instead")
def rules(process: str | None, show_scope: bool) -> None:
    if show_scope:
        _print_scope(lang())
        return
    traces = [t for t in traceability.trace() if process is None or t.process == process]
    language = lang()
    for t in traces:
        status = "ok" if not t.problems else "!!"
        click.echo(f"{status} {t.id:10} {t.process:20} {t.text.get(language) or t.text.get('en', '')}")
        click.echo(f"     seed {', '.join(map(str, t.seed)) or '-'}; elements: "
                   + (", ".join(e if ok else f"{e} (missing)" for e, ok in t.elements.items()) or "-"))
        for test in t.tests:
            click.echo(f"     test {test}")
        for problem in t.problems:
            click.echo(f"     PROBLEM: {problem}")
    stray = traceability.unknown_marks(traces) if process is None else {}
    for rule, where in stray.items():
        click.echo(f"!! tests mark unknown rule {rule}: {', '.join(where)}")
    bad = [t for t in traces if t.problems]
    click.echo(f"{len(traces)} rule(s): {len(traces) - len(bad)} traced to elements and tests, {len(bad)} not")
    if bad or stray:
        raise Untraced(f"{len(bad)} rule(s) not traced, {len(stray)} unknown rule id(s) in tests")


COMMANDS = [rules]
