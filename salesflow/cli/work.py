"""Working instances from the command line: start, tasks, claim, complete, cancel, message."""

from __future__ import annotations

import click

from salesflow.cli.common import as_option, checked, echo_json, engine, json_option


@click.command(help="Start an instance of the latest version of a process.")
@click.argument("key")
@as_option
@click.option("--data", default=None, help="start form data as a JSON object")
@click.option("--data-file", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--business-key", default=None)
def start(key: str, actor: str, data: str | None, data_file: str | None, business_key: str | None) -> None:
    eng = engine()
    iid = checked(eng.start, actor, key, json_option(data, data_file, "data"), business_key)
    view = eng.instance(actor, iid)
    click.echo(f"instance {iid} started ({view['status']})")
    for t in view["tasks"]:
        click.echo(f"  open task {t['id']}  {t['title']}  → {t['assignee'] or t['role']}")


@click.command(help="List the inbox of a user: ready tasks assigned to them or offered to their roles.")
@as_option
@click.option("--json", "as_json", is_flag=True)
def tasks(actor: str, as_json: bool) -> None:
    inbox = checked(engine().inbox, actor)
    if as_json:
        echo_json(inbox)
        return
    if not inbox:
        click.echo("no open tasks")
    for t in inbox:
        due = f"  due {t['due_at']}" + (" OVERDUE" if t["overdue"] else "") if t["due_at"] else ""
        click.echo(f"{t['id']}  #{t['instance_id']} {t['process_key']}  {t['title']}  "
                   f"[{t['assignee'] or t['role']}]{due}")


@click.command(help="Claim a task offered to one of your roles.")
@click.argument("task_id")
@as_option
def claim(task_id: str, actor: str) -> None:
    checked(engine().claim, actor, task_id)
    click.echo(f"task {task_id} claimed by {actor}")


@click.command(help="Give a claimed task back to its role.")
@click.argument("task_id")
@as_option
def unclaim(task_id: str, actor: str) -> None:
    checked(engine().unclaim, actor, task_id)
    click.echo(f"task {task_id} released")


@click.command(help="Reassign a task to another holder of its role (managers, admins).")
@click.argument("task_id")
@click.argument("to_user")
@as_option
def reassign(task_id: str, to_user: str, actor: str) -> None:
    checked(engine().reassign, actor, task_id, to_user)
    click.echo(f"task {task_id} assigned to {to_user}")


@click.command(help="Complete a task with its form data.")
@click.argument("task_id")
@as_option
@click.option("--data", default=None, help="form data as a JSON object")
@click.option("--data-file", default=None, type=click.Path(exists=True, dir_okay=False))
def complete(task_id: str, actor: str, data: str | None, data_file: str | None) -> None:
    eng = engine()
    iid = checked(eng.complete, actor, task_id, json_option(data, data_file, "data"))
    view = eng.instance(actor, iid)
    click.echo(f"task {task_id} completed; instance {iid} is {view['status']}")
    for t in view["tasks"]:
        click.echo(f"  open task {t['id']}  {t['title']}  → {t['assignee'] or t['role']}")


@click.command(help="Show an instance: status, data and open tasks.")
@click.argument("instance_id", type=int)
@as_option
def show(instance_id: int, actor: str) -> None:
    echo_json(checked(engine().instance, actor, instance_id))


@click.command(help="Cancel a running instance (its requester or an administrator).")
@click.argument("instance_id", type=int)
@as_option
@click.option("--reason", default="")
def cancel(instance_id: int, actor: str, reason: str) -> None:
    checked(engine().cancel, actor, instance_id, reason)
    click.echo(f"instance {instance_id} cancelled")


@click.command(help="Deliver a message to an instance that waits for it.")
@click.argument("instance_id", type=int)
@click.argument("name")
@click.option("--payload", default=None, help="a JSON object merged into the instance data")
@click.option("--as", "actor", default="system", show_default=True)
def message(instance_id: int, name: str, payload: str | None, actor: str) -> None:
    checked(engine().deliver_message, actor, instance_id, name, json_option(payload, None, "payload"))
    click.echo(f"message {name} delivered to instance {instance_id}")


COMMANDS = [start, tasks, claim, unclaim, reassign, complete, show, cancel, message]
