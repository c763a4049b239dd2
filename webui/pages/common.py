"""What every page shares: the actor, error pages, the navigation's inbox counts and display filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.config import COMPANY_TZ
from engine.definitions.checks import INITIATOR
from engine.errors import InvalidData, SalesflowError, Unavailable
from webui.context import engine
from webui.i18n import current_language, localized
from webui.pages import blueprint


def actor() -> str:
    """The logged-in user's name: the actor of every engine call a page makes."""
    return current_user.username


def may(right: str, ask: Callable[[str], bool]) -> bool:
    """Whether the logged-in user has `right`, as `ask(actor)` of the engine says: asked once a request,
    since the header's links ask on every page and a page may ask again."""
    key = f"pages_may_{right}"
    if key not in g:
        setattr(g, key, current_user.is_authenticated and ask(actor()))
    return getattr(g, key)


def header(right: str) -> bool | int:
    """One answer of the page header's (engine.header: which links open, the bell's count), asked once a
    request for them all; False (0) when nobody is logged in."""
    if "pages_header" not in g:
        g.pages_header = engine().header(actor()) if current_user.is_authenticated else None
    return g.pages_header[right] if g.pages_header is not None else (0 if right == "unread" else False)


# -- errors ----------------------------------------------------------------------------------


def error_text(exc: SalesflowError) -> str:
    """A short localized sentence for an engine error (its own message is in English, for logs and API clients)."""
    texts = {
        "forbidden": _("You are not allowed to do this."),
        "not_found": _("This no longer exists."),
        "conflict": _("Someone else changed this first; the page shows the current state."),
        "invalid_data": _("Some values are not valid."),
        "process_error": _("The process could not continue; nothing was saved."),
        "halted": _("This case is halted by an incident; an administrator must retry or cancel it."),
        "unavailable": _("The database cannot be reached just now. If you were saving something, check "
                         "whether it was saved before you try again."),
    }
    return texts.get(exc.code, _("The request could not be carried out."))


def _heading(status: int) -> str:
    headings = {400: _("The request was not understood"), 403: _("Not allowed"), 404: _("Not found"),
                405: _("This address does not take this kind of request"), 409: _("Changed by someone else"),
                413: _("What was sent is too large"), 415: _("What was sent is in a format this page does not take"),
                422: _("Some values are not valid")}
    return headings.get(status, _("Something went wrong"))


def _http_text(status: int) -> str:
    """What happened and what to do next, in the reader's language; Werkzeug's own text is English."""
    texts = {
        400: _("The page sent something this site could not read. Reload the page and try again."),
        401: _("Please log in to see this page."),
        403: _("You are not allowed to do this."),
        404: _("This no longer exists, or the address is mistyped."),
        405: _("This address cannot be opened like this; use the buttons on the pages instead of typing it."),
        409: _("Someone else changed this first; the page shows the current state."),
        413: _("What was sent is larger than this site accepts. Send a smaller file or fewer values."),
        415: _("What was sent is in a format this page does not take."),
        429: _("Too many attempts. Wait a little and try again."),
    }
    return texts.get(status, _("Something went wrong on the server; nothing was changed. Try again later, "
                               "and tell an administrator if it happens again."))


def error_page(status: int, message: str) -> tuple[str, int]:
    """The error page in our layout and the reader's language. The engine's own (English, technical) text
    goes to the log, not to the page: it names ids and rules a reader cannot act on."""
    return render_template("pages/error.html", status=status, heading=_heading(status), message=message), status


def http_error_page(exc: HTTPException):  # noqa: ANN201 - a Flask response
    """Any HTTP error outside the API (unknown address, GET on a POST-only one, a body too large, a crash)."""
    status = exc.code or 500
    try:
        # outside a page's route (an unknown address) Flask runs no page context processors: run them here
        extra: dict = {}
        for processor in current_app.template_context_processors.get(blueprint.name, []):
            extra.update(processor())
        page = render_template("pages/error.html", status=status, heading=_heading(status),
                               message=_http_text(status), **extra)
    except Exception:  # the layout asks the database; an error page must still come out
        current_app.logger.exception("error page %s could not be drawn in the layout", status)
        page = current_app.jinja_env.get_template("pages/error_plain.html").render(
            message=_http_text(status), lang=current_language(), status=status, heading=_heading(status))
    headers = {}
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        headers["Allow"] = ", ".join(sorted(allowed))
    return page, status, headers


@blueprint.errorhandler(SalesflowError)
def _engine_error(exc: SalesflowError):  # noqa: ANN202 - a Flask response
    if isinstance(exc, Unavailable):
        # rendered without the context processors: Flask-Login's loads the user from the database
        page = current_app.jinja_env.get_template("pages/unavailable.html").render(
            message=error_text(exc), lang=current_language())
        return page, 503, {"Retry-After": "5"}
    current_app.logger.info("page error %s on %s: %s", exc.status, request.path, exc)
    return error_page(exc.status, error_text(exc))


@blueprint.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):  # noqa: ANN202
    return error_page(400, _("The form has expired or did not come from this site. Reload the page and try again."))


@blueprint.errorhandler(404)
def _not_found(exc: HTTPException):  # noqa: ANN202
    return error_page(404, _("This no longer exists."))


def flash_error(exc: SalesflowError) -> None:
    flash(error_text(exc), "error")


def flash_done(act: Callable[[], object], done: str, field: str | None = None,
               refusals: type[SalesflowError] = InvalidData) -> bool:
    """Make a one-field form's engine call and say how it went: `done`, or why the engine refused, in the
    words of the form's field (of any field when `field` is None) where it names one. Whether it was done."""
    try:
        act()
    except refusals as exc:
        fields = getattr(exc, "fields", None) or {}
        text = fields.get(field) if field else next(iter(fields.values()), None)
        flash(localized(text) or error_text(exc), "error")
        return False
    flash(done, "info")
    return True


def field_form(name: str, act: Callable[[str], dict], refused: Callable[[str, str], object],
               done: Callable[[dict], str], back: str) -> object:
    """A form of one field whose refusal is shown beside it: `act(value)`; refused, `refused(value, why)`
    (the page again, 422); done, `done(answer)` flashed and back to the page `back`."""
    value = request.form.get(name, "")
    try:
        after = act(value)
    except InvalidData as exc:
        return refused(value, localized(exc.fields.get(name)) or str(exc))
    flash(done(after), "info")
    return redirect(url_for(back))


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only (a path), never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def back(default: str) -> str:
    """Where to go after a button: the form's `next` field when it is a path on this site."""
    return safe_next(request.form.get("next"), default)


# -- roles, statuses, events -----------------------------------------------------------------


def _catalogue() -> dict:
    roles = current_app.extensions.get("salesflow_pages_roles")
    if roles is None:
        roles = {rid: {"zh": r.zh, "en": r.en, "manages": set(r.manages), "system": r.system}
                 for rid, r in engine().roles().items()}
        current_app.extensions["salesflow_pages_roles"] = roles
    return roles


def role_name(role: str | None) -> str:
    if role == INITIATOR:
        return _("Requester")
    entry = _catalogue().get(role or "")
    return localized(entry) if entry else (role or "")


def work_roles(roles: list[str]) -> list[str]:
    """The roles among these that tasks are offered to (application roles such as admin are not lanes)."""
    catalogue = _catalogue()
    return sorted(r for r in roles if not catalogue.get(r, {}).get("system"))


def status_name(status: str | None) -> str:
    names = {"running": _("Running"), "completed": _("Completed"), "cancelled": _("Cancelled"),
             "error": _("Error"), "ready": _("Open"), "incident": _("Incident")}
    return names.get(status or "", status or "")


def outcome_name(outcome: str | None) -> str:
    """How an instance ended, in the reader's language (processes/outcomes.yaml)."""
    if not outcome:
        return ""
    if "outcome_labels" not in g:
        g.outcome_labels = engine().outcomes()
    return localized(g.outcome_labels.get(outcome, {"zh": outcome, "en": outcome}))


def event_name(kind: str) -> str:
    names = {
        "started": _("started the request"), "task_ready": _("task ready"), "claimed": _("claimed"),
        "unclaimed": _("released"), "reassigned": _("reassigned"), "completed": _("completed"),
        "gateway_taken": _("route taken"), "timers_due": _("timers due"), "timer_fired": _("timer fired"),
        "escalated": _("escalated"), "task_cancelled": _("task cancelled"), "message": _("message received"),
        "cancelled": _("cancelled the request"), "ended": _("ended"), "commented": _("commented"),
        "incident": _("halted by an incident"), "retried": _("retried after an incident"),
        "migrated": _("moved to a new version of the process"), "message_sent": _("message sent"),
        "routed": _("assigned by customer ownership"),
    }
    # a kind added to the engine later is shown as "event", never as its internal name
    return names.get(kind, _("event"))


# -- processes ---------------------------------------------------------------------------------


def processes() -> list[dict]:
    if "pages_processes" not in g:
        g.pages_processes = engine().processes()
    return g.pages_processes


def process_name(key: str | None) -> str:
    for p in processes():
        if p["key"] == key:
            return localized(p.get("names") or p["name"])
    return key or ""


# -- times ---------------------------------------------------------------------------------------


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def when(value: str | datetime | None) -> str:
    """A timestamp in company time, to the minute."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(COMPANY_TZ)).strftime("%Y-%m-%d %H:%M")


def age(value: str | datetime | None) -> str:
    """How long ago, by the engine's clock: '2 d 3 h', '5 h 10 min', '7 min'."""
    moment = parse_time(value)
    if moment is None:
        return ""
    minutes = max(0, int((engine().clock.now() - moment).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)
    return _("%(minutes)d min", minutes=mins)


# -- navigation ----------------------------------------------------------------------------------


def inbox_counts() -> list[tuple[str, str, int]]:
    """(role, role name, ready tasks) for the navigation, one engine call per page. Every role the user
    works in is listed, with 0 too (the page hides those), so that the counts' poll can show it later."""
    if "pages_counts" not in g:
        counts = engine().inbox_counts(actor()) if current_user.is_authenticated else {}
        mine = {*work_roles(current_user.roles), INITIATOR} if current_user.is_authenticated else set()
        g.pages_counts = [(role, role_name(role), counts.get(role, 0)) for role in sorted(mine | set(counts))]
    return g.pages_counts


def count_cap() -> int:
    """The navigation counts up to this many tasks per role (Engine.count_cap); more shows as "999+"."""
    return engine().count_cap


def count_label(n: int) -> str:
    """A count as the navigation shows it: "999+" past the cap (as webui/frontend/src/pages/layout.js does)."""
    cap = count_cap()
    return f"{cap}+" if n > cap else str(n)


def my_roles() -> str:
    return ", ".join(role_name(r) for r in current_user.roles) if current_user.is_authenticated else ""


@blueprint.context_processor
def _layout() -> dict:
    return {"my_roles": my_roles, "inbox_counts": inbox_counts, "count_cap": count_cap, "count_label": count_label,
            "role_name": role_name, "status_name": status_name,
            "outcome_name": outcome_name,
            "event_name": event_name, "process_name": process_name, "when": when, "age": age,
            "lang": current_language()}
