"""The inbox: ready tasks assigned to me or offered to my roles; claim, release, reassign."""

from __future__ import annotations

from datetime import datetime

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import SalesflowError
from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import (
    INITIATOR,
    actor,
    back,
    flash_error,
    parse_time,
    processes,
    role_name,
    work_roles,
)

OVERDUE = {"1": True, "0": False}
SORTS = ("created", "due")  # oldest first (the default) | earliest deadline first
PER_PAGE = 50  # oldest first: the work waiting longest is on the first page
MAX_PAGE = 100_000


def _filters() -> dict:
    sort = request.args.get("sort", "")
    return {"process": request.args.get("process") or None, "role": request.args.get("role") or None,
            "overdue": OVERDUE.get(request.args.get("overdue", "")), "sort": sort if sort in SORTS else "created"}


def due_hint(due_at: str | None, now: datetime) -> str:
    """How far the deadline is, in the reader's language: '5 h 10 min left', '1 d 2 h overdue'."""
    due = parse_time(due_at)
    if due is None:
        return ""
    minutes = int(abs((due - now).total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        span = _("%(days)d d %(hours)d h", days=days, hours=hours)
    elif hours:
        span = _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)
    else:
        span = _("%(minutes)d min", minutes=mins)
    return _("%(span)s overdue", span=span) if due < now else _("%(span)s left", span=span)


@blueprint.get("/inbox")
@login_required
def inbox():  # noqa: ANN201
    filters = _filters()
    page = _page()
    tasks = engine().inbox(actor(), **filters, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    pager = {"prev": _page_url(page - 1) if page > 1 else None,
             "next": _page_url(page + 1) if len(tasks) > PER_PAGE else None}
    tasks = tasks[:PER_PAGE]
    mine = {t["id"] for t in tasks}
    team = engine().managed_tasks(actor())  # the ready tasks of the roles I manage
    reassignable = {t["id"] for t in team}
    managed = [t for t in team if t["id"] not in mine]
    holders: dict[str, list[str]] = {}
    for task in tasks + managed:
        task["may_reassign"] = task["id"] in reassignable
        if task["may_reassign"] and task["role"] not in holders:
            holders[task["role"]] = engine().role_holders(task["role"])
    roles = [(r, role_name(r)) for r in [*work_roles(current_user.roles), INITIATOR]]
    now = engine().clock.now()
    for task in tasks:
        task["due_hint"] = due_hint(task["due_at"], now)
    return render_template("pages/inbox.html", tasks=tasks, managed=managed, filters=filters, holders=holders,
                           processes=processes(), roles=roles, me=actor(), pager=pager,
                           sort_url={s: _sort_url(s) for s in SORTS})


@blueprint.get("/inbox/counts")
def inbox_counts_json() -> tuple[Response, int]:
    """{total, roles: {role: n}}: the navigation's counts for frontend/src/pages/layout.js, which polls them so that
    they stay current without a reload. JSON also when logged out (401), never the login page."""
    if not current_user.is_authenticated:
        return jsonify(error="unauthorized", message="log in first"), 401
    counts = engine().inbox_counts(actor())
    response = jsonify(total=sum(counts.values()), roles=counts)
    response.headers["Cache-Control"] = "no-store"
    return response, 200


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_PAGE else 1


def _page_url(page: int) -> str:
    return url_for("pages.inbox", **{**request.args.to_dict(), "page": page})


def _sort_url(sort: str) -> str:
    """This inbox in another order, from its first page."""
    args = {k: v for k, v in request.args.to_dict().items() if k not in ("page", "sort")}
    return url_for("pages.inbox", **args, **({"sort": sort} if sort != "created" else {}))


def _command(task_id: str, command: str, done: str, *args: str):  # noqa: ANN202
    try:
        getattr(engine(), command)(actor(), task_id, *args)
    except SalesflowError as exc:
        flash_error(exc)
    else:
        flash(done, "info")
    return redirect(back(url_for("pages.inbox")))


@blueprint.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):  # noqa: ANN201
    return _command(task_id, "claim", _("The task is now yours."))


@blueprint.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):  # noqa: ANN201
    return _command(task_id, "unclaim", _("The task is offered to its role again."))


@blueprint.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):  # noqa: ANN201
    to_user = request.form.get("to_user", "").strip()
    return _command(task_id, "reassign", _("The task was reassigned to %(user)s.", user=to_user), to_user)
