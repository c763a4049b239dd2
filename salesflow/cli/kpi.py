"""The KPI page's stored figures: `salesflow kpi rebuild`."""

from __future__ import annotations

import click

from salesflow.cli.common import checked, engine


@click.group(help="The KPI page's stored figures.")
def kpi() -> None:
    pass


@kpi.command(help="Compute the KPI page's stored figures again from the source rows: the decided cases (table "
                  "kpi_case), the satisfaction scores (kpi_score) and the counts per company day (kpi_day for "
                  "kpi.yaml's timezone, kpi_completed_day, kpi_registered_day, kpi_case_day by kpi.yaml's targets, "
                  "kpi_score_day) and the done cases per period and hour bucket (kpi_hours_month, kpi_hours_day, "
                  "kpi_hours_dekad, kpi_hours_total), in one transaction (nothing changes when it fails). "
                  "`salesflow init` fills them when it creates the tables, and the engine and database triggers "
                  "keep them; run this after rows were written around the engine (a bulk load, a partial restore) "
                  "or after changing kpi.yaml's timezone or a target.")
def rebuild() -> None:
    eng = engine()
    counted = checked(eng.rebuild_kpi, lambda text: click.echo(f"  {text}"))
    click.echo(f"kpi_case: {counted['kpi_case']:,} decided cases")
    click.echo(f"kpi_score: {counted['kpi_score']:,} satisfaction scores")
    click.echo(f"kpi rollups: {counted['kpi_completed_day']:,} completed tasks, "
               f"{counted['kpi_registered_day']:,} registrations, {counted.get('kpi_case_day', 0):,} decided cases, "
               f"{counted['kpi_hours_month']:,} done cases in hour buckets")


COMMANDS = [kpi]
