"""The auditor's commands: verify chains, export a trail, replay an instance."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.errors import SalesflowError
from salesflow.cli.common import checked, echo_json, engine


class TrailBroken(SalesflowError):
    code = "trail_broken"


@click.group(help="Verify and export audit trails.")
def audit() -> None:
    pass


@audit.command("verify", help="Recompute every hash chain (or one instance's); exit 1 if any is broken.")
@click.option("--instance", "instance_id", type=int, default=None)
@click.option("--quiet", is_flag=True, help="print only broken chains and the summary")
def verify(instance_id: int | None, quiet: bool) -> None:
    eng = engine()
    results = checked(lambda: list(_progress(eng.verify_chains(instance_id), quiet)))
    broken = [r for r in results if not r.ok]
    for r in broken:
        click.echo(r.describe())
    click.echo(f"{len(results)} chain(s) checked, {len(results) - len(broken)} verified, {len(broken)} broken")
    if broken:
        raise TrailBroken(f"{len(broken)} audit chain(s) do not verify; the first: {broken[0].describe()}")


def _progress(results, quiet: bool):  # noqa: ANN001, ANN202
    for n, result in enumerate(results, start=1):
        if not quiet and result.ok:
            click.echo(result.describe())
        if n % 500 == 0:
            click.echo(f"... {n} chains checked", err=True)
        yield result


@audit.command("export", help="Export one instance's trail as JSON (verifiable offline) or CSV.")
@click.option("--instance", "instance_id", type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="a file (default: stdout)")
def export(instance_id: int, fmt: str, output: str | None) -> None:
    text = checked(engine().export, instance_id, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"instance {instance_id} trail written to {output}", err=True)
    else:
        sys.stdout.write(text)


@click.command(help="Replay an instance from its recorded commands and compare every step with the trail.")
@click.argument("instance_id", type=int)
@click.option("--step", type=int, default=None, help="also show the state after event N")
@click.option("--json", "as_json", is_flag=True)
def replay(instance_id: int, step: int | None, as_json: bool) -> None:
    result = checked(engine().replay, instance_id, step)
    if as_json:
        echo_json(result.to_dict())
    else:
        if result.verified:
            click.echo(f"instance {instance_id}: verified ({result.steps} events replayed)")
        else:
            m = result.first_mismatch
            click.echo(f"instance {instance_id}: MISMATCH at event {m.position} ({m.kind}): {m.reason}")
            if m.expected is not None or m.actual is not None:
                click.echo(f"  recorded: {m.expected}\n  replayed: {m.actual}")
        if result.state is not None:
            echo_json(result.state)
    if not result.verified:
        raise TrailBroken(f"instance {instance_id} does not replay as recorded")


COMMANDS = [audit, replay]
