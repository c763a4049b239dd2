"""`salesflow incidents list|retry|cancel`: the instances halted by a failed timer or message step
(administrators)."""

from __future__ import annotations

import click

from salesflow.cli.common import as_option, checked, echo_json, engine


@click.group(help="Incidents: instances halted by a failed timer or message step (administrators).")
def incidents() -> None:
    pass


def _line(i: dict) -> str:
    where = i["element"] or "?"
    if i["element_name"]:
        where += f" ({i['element_name']['zh']})"
    line = (f"{i['id']}  instance #{i['instance_id']} {i['process_key']}  {i['kind']} at {where}  "
            f"{i['attempts']} attempt(s) since {i['raised_at']}: {i['message']}")
    if i["status"] == "resolved":
        line += f"  [{i['resolution']} by {i['resolved_by']} at {i['resolved_at']}" + (
            f": {i['reason']}]" if i["reason"] else "]")
    return line


@incidents.command("list", help="List incidents, newest first: the open ones unless --status says otherwise.")
@as_option
@click.option("--status", type=click.Choice(["open", "resolved", "all"]), default="open", show_default=True)
@click.option("--process", default=None, help="only this process key")
@click.option("--json", "as_json", is_flag=True)
def list_incidents(actor: str, status: str, process: str | None, as_json: bool) -> None:
    found = checked(engine().incidents, actor, status, process)
    if as_json:
        echo_json(found)
        return
    if not found:
        click.echo("no incidents")
    for i in found:
        click.echo(_line(i))


@incidents.command("retry", help="Run the failed step of an incident again (after fixing its cause).")
@click.argument("incident_id", type=click.IntRange(1, 2**31 - 1))
@as_option
def retry(incident_id: int, actor: str) -> None:
    after = checked(engine().retry_incident, actor, incident_id)
    if after["status"] == "resolved":
        click.echo(f"incident {incident_id} resolved: instance {after['instance_id']} is {after['instance_status']}")
        return
    click.echo(f"error: the retry failed again: {after['message']}", err=True)
    raise SystemExit(1)


@incidents.command("cancel", help="Cancel the instance an incident halts, without running its failed step.")
@click.argument("incident_id", type=click.IntRange(1, 2**31 - 1))
@as_option
@click.option("--reason", required=True, help="why the instance is cancelled")
def cancel(incident_id: int, actor: str, reason: str) -> None:
    after = checked(engine().cancel_incident, actor, incident_id, reason)
    click.echo(f"incident {incident_id} resolved: instance {after['instance_id']} cancelled")


COMMANDS = [incidents]
