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


@audit.command("verify", help="Verify every audit trail (or one instance's): recompute the hash chain and replay "
                              "the instance against it. Exit 1 if any trail is broken or replays differently.")
@click.option("--instance", "instance_id", type=int, default=None)
@click.option("--no-replay", is_flag=True, help="check the hash chains only (much faster)")
@click.option("--list", "list_all", is_flag=True, help="print a line for every trail, not only the failures")
@click.option("--quiet", is_flag=True, help="no progress bar")
def verify(instance_id: int | None, no_replay: bool, list_all: bool, quiet: bool) -> None:
    eng = engine()
    chains = checked(eng.audit_chains, instance_id)
    results = checked(lambda: _check_all(eng, chains, not no_replay, quiet))
    failed = [r for r in results if not r.ok]
    for r in results if list_all else failed:
        click.echo(r.describe())
    replayed = sum(1 for r in results if r.replayed)
    click.echo(f"{len(results)} trail(s) checked: {len(results) - len(failed)} verified, {len(failed)} broken"
               + ("" if no_replay else f"; {replayed} instance(s) replayed as recorded"))
    if failed:
        raise TrailBroken(f"{len(failed)} audit trail(s) do not verify; the first: {failed[0].describe()}")


def _check_all(eng, chains: list[str], replay: bool, quiet: bool) -> list:  # noqa: ANN001
    """Check each trail with a progress bar on stderr (click draws it only on a terminal)."""
    if quiet:
        return [eng.check_trail(c, replay) for c in chains]
    with click.progressbar(chains, label="verifying audit trails", file=sys.stderr, show_pos=True,
                           item_show_func=lambda c: c or "") as bar:
        return [eng.check_trail(c, replay) for c in bar]


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
