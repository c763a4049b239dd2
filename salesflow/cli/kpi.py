"""The KPI page's stored figures: `salesflow kpi rebuild`."""

from __future__ import annotations

import click

from salesflow.cli.common import checked, engine


@click.group(help="The KPI page's stored figures.")
def kpi() -> None:
    pass


@kpi.command(help="Compute the KPI page's decided cases (table kpi_case) again from every instance, in one "
                  "transaction. `salesflow init` fills them when it creates the table and the engine keeps them; "
                  "run this after rows were written around the engine (a bulk load, a partial restore).")
def rebuild() -> None:
    eng = engine()
    written = checked(eng.rebuild_kpi_cases, lambda text: click.echo(f"  {text}"))
    click.echo(f"kpi_case: {written:,} decided cases")


COMMANDS = [kpi]
