"""`salesflow prices import|list`: the company's price list (engine/prices; docs/prices.md)."""

from __future__ import annotations

from pathlib import Path

import click

from salesflow.cli.common import checked, echo_json, engine


@click.group(help="The company's price list: every quotation takes its list price from it (seed 399).")
def prices() -> None:
    pass


def _row(r: dict) -> str:
    until = r["valid_to"] or "open"
    return (f"{r['id']:>5}  {r['product']} / {r['spec']} / {r['grade']}  {r['price_yuan']} per {r['unit']}  "
            f"{r['valid_from']} .. {until}")


@prices.command("import", help="Add the rows of a CSV file (header: product,spec,grade,unit,price_yuan,valid_from"
                               "[,valid_to]; UTF-8). Every row is checked; if any is bad nothing is saved.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "actor", default="system", show_default=True,
              help="the sales director importing it; by default the operator running the command (system)")
@click.option("--dry-run", is_flag=True, help="check everything and say what would change; save nothing")
def import_(file: str, actor: str, dry_run: bool) -> None:
    path = Path(file)
    result = checked(engine().import_prices, actor, path.read_bytes(), path.name, dry_run)
    verb = "would add" if dry_run else "added"
    click.echo(f"{path.name}: {verb} {len(result['added'])} price(s)")
    for end in result["ended"]:
        click.echo(f"  {'would end' if dry_run else 'ended'} price {end['id']} ({end['product']} / {end['spec']} / "
                   f"{end['grade']}) after {end['valid_to']}: the new price replaces it")
    if dry_run:
        click.echo("dry run: nothing was saved")


@prices.command("list", help="List the price list, or the prices valid on a day.")
@click.option("--on", "on", default=None, help="only the rows valid on this day (YYYY-MM-DD)")
@click.option("--as", "actor", default="system", show_default=True, help="who reads it")
@click.option("--json", "as_json", is_flag=True)
def list_(on: str | None, actor: str, as_json: bool) -> None:
    rows = checked(engine().prices, actor, on)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no prices" + (f" valid on {on}" if on else ""))
    for r in rows:
        click.echo(_row(r))


COMMANDS = [prices]
