"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from engine import Engine, jsonvalues
from engine.errors import InvalidData, SalesflowError


class NotInitialised(SalesflowError):
    code = "not_initialised"


def lang() -> str:
    return "en" if os.environ.get("SALESFLOW_LANG", "zh").startswith("en") else "zh"


def engine() -> Engine:
    return Engine()


def checked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run an engine call; a database without tables becomes one clear message."""
    try:
        return fn(*args, **kwargs)
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            raise NotInitialised("the database has no tables yet: run `salesflow init` first") from None
        raise SalesflowError(f"database error: {exc.orig}") from None


def json_option(text: str | None, file: str | None, what: str) -> dict:
    if text and file:
        raise InvalidData(f"give --{what} or --{what}-file, not both")
    if file:
        text = Path(file).read_text(encoding="utf-8")
    if not text:
        return {}
    try:
        value = jsonvalues.parse(text)  # the API's reader: no NaN/Infinity, at most 64 levels, valid Unicode
    except jsonvalues.NotAcceptable as exc:
        raise InvalidData(f"--{what} is not acceptable JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidData(f"--{what} must be a JSON object")
    return value


def as_option(fn):  # noqa: ANN001, ANN201
    return click.option("--as", "actor", envvar="SALESFLOW_USER", required=True,
                        help="the user acting (or set SALESFLOW_USER)")(fn)


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))
