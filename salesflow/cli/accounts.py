"""Accounts from the command line: `salesflow users …` and `salesflow tokens …`.

The operator at the console acts as "system", with an administrator's rights (they hold the database
anyway). A password is never an argument (it would stay in the shell history and the process list): it
is read from standard input with --password-stdin, or asked for without echo.
"""

from __future__ import annotations

import json
import sys

import click

from engine.errors import InvalidData
from salesflow.cli.common import checked, engine

CONSOLE = "system"
CONSOLE_ADDRESS = "console"  # what the login throttle records for a password checked here
STDIN_HELP = "read the password(s) from standard input, one per line, instead of asking"


def _read(from_stdin: bool, prompt: str, confirm: bool = False) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, default="",
                                show_default=False)
    if not password:
        raise InvalidData("no password given" + (" on standard input" if from_stdin else ""))
    return password


def _echo_json(value: object) -> None:
    """JSON with every time in ISO 8601."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=lambda v: v.isoformat()))


def _when(value) -> str:  # noqa: ANN001 - a datetime or None
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


@click.group(help="Manage users: add, list, grant or take away roles, deactivate, activate, change or reset "
                   "a password, unlock.")
def users() -> None:
    pass


@users.command("add", help="Add a user with one or more roles; the password is asked for, or read from "
                           "standard input.")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="a role id (repeat for several)")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
@click.option("--display-name", default=None)
@click.option("--before-training", is_flag=True,
              help="first installation only: grant a front-line role before the safety training is recorded "
                   "(the security audit trail records it); otherwise a front-line role needs the training")
def users_add(name: str, roles: tuple[str, ...], password_stdin: bool, display_name: str | None,
              before_training: bool) -> None:
    password = _read(password_stdin, f"password for {name}", confirm=True)
    checked(engine().add_user, name, list(roles), password, display_name,
            "waived" if before_training else "required")
    click.echo(f"user {name} added with role(s) {', '.join(roles)}")


@users.command("list", help="Every user with roles, whether active, lockouts and working API tokens.")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    overview = checked(engine().accounts, CONSOLE)
    if as_json:
        _echo_json(overview)
        return
    for u in overview["users"]:
        flags = "active" if u["active"] else "DEACTIVATED"
        if u["locked_until"]:
            flags += f", locked until {_when(u['locked_until'])}"
        click.echo(f"{u['username']:24} {u['display_name']:24} {', '.join(u['roles']):36} {flags}; "
                   f"{len(u['tokens'])} token(s)")
    for lock in overview["locks"]:
        if lock["key"] not in {u["username"] for u in overview["users"]}:
            click.echo(f"locked {lock['scope']} {lock['key']} until {_when(lock['until'])}")


@users.command("roles", help="Grant (--add) or take away (--remove) roles of an existing user. A front-line "
                             "role (processes/roles.yaml front_line) needs a passed safety training recorded "
                             "by a completed training (P10).")
@click.argument("name")
@click.option("--add", "add", multiple=True, help="a role id to grant (repeat for several)")
@click.option("--remove", "remove", multiple=True, help="a role id to take away (repeat for several)")
def users_roles(name: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    if not add and not remove:
        raise InvalidData("give --add and/or --remove")
    roles = checked(engine().set_user_roles, CONSOLE, name, add, remove)
    click.echo(f"user {name} now has role(s) {', '.join(roles) or '(none)'}")


@users.command("deactivate", help="Stop a user from logging in; ends their sessions and revokes their tokens.")
@click.argument("name")
def users_deactivate(name: str) -> None:
    changed = checked(engine().deactivate_user, CONSOLE, name)
    click.echo(f"user {name} deactivated" if changed else f"user {name} was already inactive")


@users.command("activate", help="Let a deactivated user log in again.")
@click.argument("name")
def users_activate(name: str) -> None:
    changed = checked(engine().activate_user, CONSOLE, name)
    click.echo(f"user {name} activated" if changed else f"user {name} was already active")


@users.command("password", help="Change your own password: the current one, then the new one (asked for, or "
                                "two lines on standard input). Ends your sessions and revokes your tokens.")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
def users_password(name: str, password_stdin: bool) -> None:
    current = _read(password_stdin, f"current password for {name}")
    new = _read(password_stdin, f"new password for {name}", confirm=True)
    checked(engine().change_password, name, current, new, CONSOLE_ADDRESS)
    click.echo(f"password of {name} changed; their sessions and API tokens have ended")


@users.command("reset", help="Set a new password for a user (an administrator's reset). Ends their sessions "
                             "and revokes their tokens.")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
def users_reset(name: str, password_stdin: bool) -> None:
    new = _read(password_stdin, f"new password for {name}", confirm=True)
    checked(engine().reset_password, CONSOLE, name, new)
    click.echo(f"password of {name} reset; their sessions and API tokens have ended")


@users.command("unlock", help="Lift a login lockout now: of a user name (any name tried) and/or of an address.")
@click.argument("name", required=False)
@click.option("--address", default=None, help="a client address locked out after repeated failures")
def users_unlock(name: str | None, address: str | None) -> None:
    lifted = checked(engine().unlock, CONSOLE, name, address)
    what = " and ".join(x for x in (name, address) if x)
    click.echo(f"{what}: unlocked" if lifted else f"{what}: was not locked")


@click.group(help="API bearer tokens: list the working ones, revoke one.")
def tokens() -> None:
    pass


@tokens.command("list", help="Working tokens (not revoked, not expired) of everyone, or of one user.")
@click.option("--user", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
def tokens_list(username: str | None, as_json: bool) -> None:
    rows = checked(engine().tokens, CONSOLE, username)
    if as_json:
        _echo_json([{k: v for k, v in t.items() if k != "current"} for t in rows])
        return
    if not rows:
        click.echo("no working tokens")
    for t in rows:
        click.echo(f"{t['id']:>6}  {t['username']:24} issued {_when(t['created_at'])}, "
                   f"expires {_when(t['expires_at'])}")


@tokens.command("revoke", help="Revoke a token by its id (from `salesflow tokens list`).")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    checked(engine().revoke_token, CONSOLE, token_id)
    click.echo(f"token {token_id} revoked")


COMMANDS = [users, tokens]
