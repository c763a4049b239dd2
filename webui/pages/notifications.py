"""The bell and the notifications pages: /notifications (newest first; mark read, all read; open the
task or request it is about), /account/notifications (my e-mail address, its language and what I get
of each kind, in the app and by e-mail) and an administrator setting someone's e-mail address.

The engine keeps the notifications and decides everything (engine/notify); these views turn forms into
engine calls, and pick the reader's language of the texts the engine gives in both.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import InvalidData, SalesflowError
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, back, flash_done, flash_error, header

KINDS = ("offered", "decided", "overdue")
PAGE = 30


def kind_names() -> dict[str, str]:
    return {"offered": _("A new task is offered to me"), "decided": _("My request was decided"),
            "overdue": _("My task is overdue")}


def target_url(item: dict) -> str:
    """Where a notification leads: its task while that is open, else its request."""
    if item["target"] == "task":
        return url_for("pages.task", task_id=item["task_id"])
    return url_for("pages.instance", instance_id=item["instance_id"])


@blueprint.get("/notifications")
@login_required
def notifications():  # noqa: ANN201 - a Flask response
    before = request.args.get("before", type=int)
    listing = engine().notifications(actor(), PAGE, before if before and before > 0 else None)
    items = [{**item, "title_text": localized(item["title"]), "body": localized(item["text"]),
              "url": target_url(item)} for item in listing["items"]]
    older = url_for("pages.notifications", before=items[-1]["id"]) if listing["more"] and items else None
    return render_template("pages/notifications.html", items=items, unread=listing["unread"], older=older,
                           newest=before is not None)


@blueprint.post("/notifications/<id:notification_id>/read")
@login_required
def read_notification(notification_id: int):  # noqa: ANN201
    """Mark read; with `open`, go on to the task or request it is about."""
    try:
        item = engine().read_notification(actor(), notification_id)
    except SalesflowError as exc:
        flash_error(exc)
        return redirect(url_for("pages.notifications"))
    if request.form.get("open"):
        return redirect(target_url(item))
    return redirect(back(url_for("pages.notifications")))


@blueprint.post("/notifications/read")
@login_required
def read_all_notifications():  # noqa: ANN201
    engine().read_all_notifications(actor())
    flash(_("All notifications are marked read."), "info")
    return redirect(back(url_for("pages.notifications")))


@blueprint.route("/account/notifications", methods=["GET", "POST"])
@login_required
def account_notifications():  # noqa: ANN201
    errors: dict[str, str] = {}
    prefs = engine().notification_preferences(actor())
    if request.method == "POST":
        form = request.form
        kinds = {k: {"in_app": form.get(f"{k}.in_app") == "on", "email": form.get(f"{k}.email") == "on"}
                 for k in KINDS}
        try:
            engine().set_notification_preferences(actor(), form.get("email", ""), form.get("lang", "zh"), kinds)
        except InvalidData as exc:
            errors = {name: localized(text) for name, text in exc.fields.items()} or {
                "email": _("Some values are not valid.")}
            prefs = {**prefs, "email": form.get("email", ""), "kinds": kinds}
        else:
            flash(_("Your notification settings were saved."), "info")
            return redirect(url_for("pages.account_notifications"))
    return render_template("pages/account_notifications.html", prefs=prefs, kinds=kind_names(), errors=errors), \
        422 if errors else 200


@blueprint.post("/admin/users/<username>/email")
@login_required
def admin_set_email(username: str):  # noqa: ANN201
    """An administrator sets (or clears) someone's e-mail address: the engine refuses anyone else."""
    flash_done(lambda: engine().set_email(actor(), username, request.form.get("email", "")),
               _("The e-mail address was saved."), refusals=SalesflowError)
    return redirect(url_for("pages.admin_users"))


def unread_notifications() -> int:
    """The bell's count, one engine call per page."""
    return int(header("unread"))


@blueprint.app_context_processor
def _bell() -> dict:
    return {"unread_notifications": unread_notifications}
