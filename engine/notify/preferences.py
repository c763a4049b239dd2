"""Each person's choices: per kind of notification, in the app and/or by e-mail; their e-mail address
and the language e-mails are written in.

Defaults (no row for a kind): in the app, every kind; by e-mail, every kind once an address is set
(none before: there is nowhere to send it). A saved choice stands as saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, select, true
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.notify import KINDS
from engine.notify.texts import LANGS
from engine.store.models import NotificationPreference, User

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")
MAX_EMAIL = 254


@dataclass(frozen=True)
class Choice:
    in_app: bool
    email: bool  # chosen; an e-mail goes out only when the person also has an address


class Person(Protocol):
    """Whom a notification is for: an account, or a row of its name and address (access.waiting_for)."""

    username: str
    email: str | None


def default(user: Person) -> Choice:
    return Choice(True, bool(user.email))


def people(with_choice: bool = False) -> Select:
    """The active accounts as rows of (username, email), to be narrowed by the caller. `with_choice`: each
    row also carries the person's saved choice for the notification kind bound as `kind` (`chosen_in_app`,
    `chosen_email`; None without a saved one), so that whom to tell and how they chose to be told are one
    read; `told` says what that choice comes to."""
    query = select(User.username, User.email).where(User.active.is_(True))
    if not with_choice:
        return query
    return query.add_columns(NotificationPreference.in_app.label("chosen_in_app"),
                             NotificationPreference.email.label("chosen_email")).outerjoin(
        NotificationPreference, and_(NotificationPreference.username == User.username,
                                     NotificationPreference.kind == bindparam("kind")))


def told(person: Any) -> tuple[ColumnElement, ColumnElement]:
    """`default` and a saved choice in SQL, over a row of `people(with_choice=True)`: (in the app, by
    e-mail), where by e-mail also needs an address, as `Choice.email` says."""
    in_app = func.coalesce(person.chosen_in_app, true())
    email = and_(func.coalesce(person.chosen_email, true()), person.email.is_not(None), person.email != "")
    return in_app, email


def choices(session: Session, people: Iterable[Person]) -> dict[str, dict[str, Choice]]:
    """{username: {kind: Choice}} for these people, in one query."""
    people = list(people)
    found = {u.username: {k: default(u) for k in KINDS} for u in people}
    if not people:
        return found
    rows = session.scalars(select(NotificationPreference).where(
        NotificationPreference.username.in_([u.username for u in people])))
    for row in rows:
        if row.kind in KINDS and row.username in found:
            found[row.username][row.kind] = Choice(row.in_app, row.email)
    return found


def view(session: Session, user: User) -> dict:
    """{email, lang, kinds: {kind: {in_app, email}}}: the preferences page and the API."""
    mine = choices(session, [user])[user.username]
    return {"email": user.email, "lang": user.lang or "zh",
            "kinds": {k: {"in_app": c.in_app, "email": c.email} for k, c in mine.items()}}


def clean_email(value: object) -> str | None:
    """The address as stored (None: none); InvalidData with a field message for one that cannot be."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_EMAIL or not _EMAIL.match(value.strip()):
        raise InvalidData("not an e-mail address", {"email": {
            "zh": "请填写有效的电子邮件地址，例如 name@example.com",
            "en": "Enter an e-mail address such as name@example.com"}})
    return value.strip()


def save(session: Session, user: User, email: object, lang: object, kinds: dict) -> dict:
    """Store the person's own choices: {kind: {in_app, email}} for every kind given (others keep theirs)."""
    if lang not in LANGS:
        raise InvalidData("lang must be zh or en", {"lang": {"zh": "须为 zh 或 en", "en": "Must be zh or en"}})
    if not isinstance(kinds, dict) or set(kinds) - set(KINDS):
        raise InvalidData(f"kinds are {', '.join(KINDS)}", {"kinds": {
            "zh": "未知的通知类型", "en": "Unknown kind of notification"}})
    user.email, user.lang = clean_email(email), lang
    for kind, choice in kinds.items():
        if not isinstance(choice, dict) or not all(isinstance(choice.get(k), bool) for k in ("in_app", "email")):
            raise InvalidData("each kind takes in_app and email as true or false", {"kinds": {
                "zh": "每种通知须选择站内和邮件（是/否）", "en": "Each kind takes in-app and e-mail as yes or no"}})
        row = session.get(NotificationPreference, (user.username, kind)) or NotificationPreference(
            username=user.username, kind=kind)
        row.in_app, row.email = choice["in_app"], choice["email"]
        session.add(row)
    session.flush()
    return view(session, user)
