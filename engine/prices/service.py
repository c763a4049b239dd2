"""The price list's commands and reads, each checking who acts (engine/runtime/access.py) first.

`actor` "system" is the operator at the console (`salesflow prices import` without --as, `salesflow init
--demo`), who holds the database anyway; anyone else must hold a role the rule names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import users
from engine.days import parse_day
from engine.errors import InvalidData
from engine.prices import book, csvfile, rows
from engine.runtime import access

CONSOLE = "system"


def acting(session: Session, actor: str) -> users.Actor | None:
    return None if actor == CONSOLE else users.get_actor(session, actor)


def listing(session: Session, actor: str, on: object = None) -> list[dict]:
    access.READ_PRICES.check(acting(session, actor))
    day = None
    if on is not None:
        day = parse_day(on)
        if day is None:
            raise InvalidData("on must be a date YYYY-MM-DD", {"on": rows.DAY_TEXT})
    return book.listing(session, day)


def import_file(session: Session, actor: str, at: datetime, content: bytes, source: str,
                dry_run: bool = False) -> dict:
    """All the file's rows, or none: InvalidData naming every bad line."""
    access.EDIT_PRICES.check(acting(session, actor))
    lines, bad = csvfile.read(csvfile.decode(content))
    checked = rows.check_all([(f"line {n}", raw) for n, raw in lines], bad)
    return book.add(session, actor, at, checked, source, content, dry_run)


def add(session: Session, actor: str, at: datetime, raw: object) -> dict:
    """One row from the page's form (or the API): InvalidData by column, or `row` for an overlap."""
    access.EDIT_PRICES.check(acting(session, actor))
    if not isinstance(raw, dict):
        raise InvalidData("a price row must be an object",
                          {"_form": {"zh": "数据格式不正确", "en": "Must be an object"}})
    row, problems = rows.check(raw)
    if problems:
        raise InvalidData(f"the price row has errors in: {', '.join(sorted(problems))}", problems)
    return book.add(session, actor, at, [("row", row)], "page")["added"][0]


def end(session: Session, actor: str, at: datetime, price_id: int, valid_to: object) -> dict:
    access.EDIT_PRICES.check(acting(session, actor))
    return book.end(session, actor, at, price_id, valid_to)


def may_read(session: Session, actor: str) -> bool:
    return access.READ_PRICES.allows(acting(session, actor))


def may_edit(session: Session, actor: str) -> bool:
    return access.EDIT_PRICES.allows(acting(session, actor))
