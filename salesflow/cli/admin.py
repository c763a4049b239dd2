"""Setting up: init, users, validate, deploy."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from engine.config import PROJECT_ROOT
from engine.definitions.bundle import load_paths
from engine.roles import load_catalogue
from salesflow.cli.common import checked, engine

DEMO_PASSWORD = "salesflow-demo"
DEMO_PRICES = PROJECT_ROOT / "demo" / "prices.csv"
DEMO_PEOPLE = PROJECT_ROOT / "demo" / "people.yaml"
DEMO_CUSTOMERS = PROJECT_ROOT / "demo" / "customers.yaml"


def _demo_users() -> list[tuple[str, list[str]]]:
    people = [(rid, [rid]) for rid, role in load_catalogue().items() if not role.system]
    people += [("sales_rep2", ["sales_rep"]), ("owner", ["process_owner"]), ("auditor", ["auditor"]),
               ("admin", ["admin", "process_owner"])]
    return people


@click.command(help="Create or upgrade the database and load the role catalogue.")
@click.option("--demo", is_flag=True, help="also deploy processes/ and forms/ and create demo users")
def init(demo: bool) -> None:
    eng = engine()
    click.echo(f"database: {eng.db.url}")
    eng.init()
    click.echo("schema is up to date; roles loaded from processes/roles.yaml")
    if not demo:
        return
    for d in eng.deploy("system", [PROJECT_ROOT / "processes", PROJECT_ROOT / "forms"], note="demo",
                        installation=True):
        click.echo(f"  {d.key}: version {d.version} ({d.status})")
    eng.set_governance("system", True)  # the demo shows a change going to the general manager
    click.echo("governance: on (a process owner's deploy needs the general manager's approval)")
    _demo_prices(eng)
    existing = {u for u in _existing_users(eng)}
    click.echo(f"demo users (password for all: {DEMO_PASSWORD}):")
    people = yaml.safe_load(DEMO_PEOPLE.read_text(encoding="utf-8"))
    for name, roles in _demo_users():
        if name not in existing:
            eng.add_user(name, roles, DEMO_PASSWORD, people.get(name))
        click.echo(f"  {name:22} {people.get(name, ''):6} {', '.join(roles)}")
    _demo_customers(eng)


def _demo_prices(eng) -> None:  # noqa: ANN001
    """The demo price list (demo/prices.csv), once: quotations read their list price from it."""
    if eng.prices("system"):
        click.echo("price list: kept as it is")
        return
    added = eng.import_prices("system", DEMO_PRICES.read_bytes(), DEMO_PRICES.name)["added"]
    click.echo(f"price list: {len(added)} demo price(s) from {DEMO_PRICES.relative_to(PROJECT_ROOT)}")


def _demo_customers(eng) -> None:  # noqa: ANN001
    """Demo customers (demo/customers.yaml), once: each registered by its representative and accepted by the
    sales manager through the process customer_register, as a real one would be."""
    if eng.customers("system"):
        click.echo("customers: kept as they are")
        return
    entries = yaml.safe_load(DEMO_CUSTOMERS.read_text(encoding="utf-8"))["customers"]
    for entry in entries:
        rep, review = entry["registered_by"], entry["review"]
        iid = eng.start(rep, "customer_register", entry["registration"])
        [task] = [t for t in eng.inbox("sales_manager") if t["instance_id"] == iid]
        eng.complete("sales_manager", task["id"], review)
    click.echo(f"customers: {len(entries)} demo customer(s) from {DEMO_CUSTOMERS.relative_to(PROJECT_ROOT)}")


def _existing_users(eng) -> list[str]:  # noqa: ANN001
    from sqlalchemy import select

    from engine.store.models import User

    with eng.db.read() as s:
        return list(s.scalars(select(User.username)))


def with_forms(paths: tuple[str, ...]) -> list[str]:
    """The paths, plus the forms/ folder beside a processes folder given without it: user tasks
    name their forms by key, and `salesflow validate processes/` should just work."""
    result = list(paths)
    given = {Path(p).resolve() for p in paths}
    for p in paths:
        forms = Path(p).resolve().parent / "forms"
        if Path(p).is_dir() and forms.is_dir() and forms not in given and Path(p).resolve() != forms:
            click.echo(f"(including {forms} for the forms the diagrams name)", err=True)
            result.append(str(forms))
            given.add(forms)
    return result


@click.command(help="Check BPMN, DMN and form files (or folders) without deploying anything.")
@click.argument("paths", nargs=-1, required=True)
def validate(paths: tuple[str, ...]) -> None:
    eng = engine()
    compiled = eng.compile(with_forms(paths))
    warnings = [p for p in eng.lint("system", load_paths(with_forms(paths))) if p["severity"] == "warning"]
    for warning in warnings:
        click.echo(f"warning: {warning['file']}:{warning['line'] or ''} [{warning['element'] or ''}] "
                   f"{warning['message']}")
    for cp in compiled:
        click.echo(f"ok  {cp.key} ({cp.name}): {len(cp.files)} file(s), {len(cp.forms)} form(s)")
    click.echo(f"{len(compiled)} process(es) valid")


@click.command(help="Validate and deploy files or folders; each changed process becomes a new version.")
@click.argument("paths", nargs=-1, required=True)
@click.option("--note", default="", help="a change note stored with the version")
@click.option("--as", "actor", default="system", show_default=True,
              help="a process owner; by default the operator running the command (system), refused while "
                   "governance is on")
@click.option("--emergency", is_flag=True, help="administrators: in force at once, approved afterwards")
@click.option("--reason", default="", help="why an emergency change cannot wait for the approval")
@click.option("--replace-process", "replace", multiple=True, metavar="KEY",
              help="confirm that the diagram of process KEY replaces the deployed process of that id rather "
                   "than edits it (a deploy that would replace one is refused without it); repeatable")
def deploy(paths: tuple[str, ...], note: str, actor: str, emergency: bool, reason: str,
           replace: tuple[str, ...]) -> None:
    verbs = {"deployed": "deployed as", "unchanged": "unchanged, still", "draft": "awaiting approval as"}
    for d in checked(engine().deploy, actor, with_forms(paths), note=note, emergency=emergency, reason=reason,
                     replace=replace):
        request = f" (rule change request {d.request_id})" if d.request_id else ""
        click.echo(f"{d.key}: {verbs[d.status]} version {d.version}{request}")


@click.command(help="Whether a changed process needs the general manager's approval before it takes effect.")
@click.argument("state", type=click.Choice(["on", "off", "show"]), default="show")
@click.option("--as", "actor", default="system", show_default=True,
              help="an administrator; by default the operator running the command (system)")
def governance(state: str, actor: str) -> None:
    eng = engine()
    if state != "show":
        changed = checked(eng.set_governance, actor, state == "on")
        click.echo(f"governance {'switched' if changed else 'was already'} {state}")
        return
    current = checked(eng.governance, actor)
    click.echo(f"governance: {'on' if current['on'] else 'off'}"
               + (f" (since {current['changed_at']}, by {current['changed_by']})" if current["changed_by"] else ""))
    for request in current["pending"]:
        names = ", ".join(f"{v['key']} v{v['version']}" for v in request["versions"])
        click.echo(f"  pending: request {request['id']} by {request['submitted_by']}: {names}")


COMMANDS = [init, validate, deploy, governance]
