"""`salesflow rules`: every rule, the elements that implement it, the tests that prove it."""

from __future__ import annotations

import click

from engine import traceability
from engine.errors import SalesflowError
from salesflow.cli.common import lang


class Untraced(SalesflowError):
    code = "untraced_rules"


@click.command(help="List each rule of docs/rules/*.yaml with its BPMN elements and tests; exit 1 if one has no test.")
@click.option("--process", default=None, help="only this process key")
def rules(process: str | None) -> None:
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
