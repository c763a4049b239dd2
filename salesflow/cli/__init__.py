"""`salesflow`: the command line. Errors are one clear line and a non-zero exit code."""

from __future__ import annotations

import sys

import click

from engine.config import SettingError
from engine.errors import DefinitionError, InvalidData, SalesflowError
from salesflow.cli import accounts, admin, audit, incidents, kpi, prices, rules, serve, work
from salesflow.cli.common import lang


@click.group(help="salesflow: runs the company's sales-service rules as BPMN processes.")
def cli() -> None:
    pass


for module in (admin, accounts, work, audit, rules, serve, incidents, prices, kpi):
    for command in module.COMMANDS:
        cli.add_command(command)


def _report(exc: SalesflowError) -> None:
    reason = getattr(exc, "reason", None)  # an error that says why in both languages (training_gate)
    click.echo(f"error: {reason.get(lang()) or exc if isinstance(reason, dict) else exc}", err=True)
    if isinstance(exc, DefinitionError):
        for problem in exc.problems[1:] if len(exc.problems) == 1 else exc.problems:
            click.echo(f"  {problem}", err=True)
    if isinstance(exc, InvalidData):
        for name, text in exc.fields.items():
            click.echo(f"  {name}: {text.get(lang(), text.get('en'))}", err=True)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except SalesflowError as exc:
        _report(exc)
        sys.exit(exc.status // 100)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SettingError as exc:  # an operator's environment variable: say which and what it takes
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
