"""/admin/users (administrators: users, roles, active flag, lockouts, tokens; grant or take away a role,
deactivate, activate, reset a password, unlock, revoke a token) and /account/password (everyone: change
my own password).

The engine decides who may do each (engine/runtime/access.py) and whether a new password is acceptable;
these views only turn forms into engine calls and the answers into pages.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData, Locked, SalesflowError
from engine.runtime.training_gate import TrainingRequired
from webui.auth import client_address, start_session
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, flash_error, header
from webui.pages.login import locked_text


def _field_errors(exc: InvalidData) -> dict[str, str]:
    return {name: localized(text) for name, text in exc.fields.items()}


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password():  # noqa: ANN201 - a Flask response
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("repeat_password", ""):
            errors["repeat_password"] = _("The two new passwords differ.")
            status = 422
        else:
            try:
                session_user = engine().change_password(actor(), request.form.get("current_password", ""), new,
                                                         client_address())
            except InvalidData as exc:
                errors, status = _field_errors(exc), 422
            except Locked as exc:
                errors, status = {"current_password": locked_text(exc)}, 429
            else:
                start_session(session_user)  # this browser stays logged in; every other session has ended
                flash(_("Your password was changed. Your other sessions and your API tokens have ended."), "info")
                return redirect(url_for("pages.inbox"))
    return render_template("pages/account_password.html", errors=errors), status


@blueprint.get("/admin/users")
@login_required
def admin_users():  # noqa: ANN201
    overview = engine().accounts(actor())  # Forbidden (403) for anyone but an administrator
    return render_template("pages/admin_users.html", overview=overview, me=current_user.username,
                           all_roles=sorted(engine().roles()))


@blueprint.post("/admin/users/<username>/roles")
@login_required
def admin_roles(username: str):  # noqa: ANN201
    """Grant (`add`) or take away (`remove`) one role. A front-line role without a passed safety training is
    refused by the engine with the reason, which is shown as it is (in the reader's language)."""
    add = [r for r in [request.form.get("add", "").strip()] if r]
    remove = [r for r in [request.form.get("remove", "").strip()] if r]
    try:
        engine().set_user_roles(actor(), username, add, remove)
    except TrainingRequired as exc:
        flash(localized(exc.reason), "error")
        return redirect(url_for("pages.admin_users"))
    except SalesflowError as exc:
        flash_error(exc)
        return redirect(url_for("pages.admin_users"))
    return _done(_("The roles of %(user)s were changed.", user=username))


def _done(message: str):  # noqa: ANN202
    flash(message, "info")
    return redirect(url_for("pages.admin_users"))


def _act(call: Callable[[], object], message: Callable[[object], str]):  # noqa: ANN202
    """Run an administrator's action; back to the overview with its result, or with why it was refused."""
    try:
        result = call()
    except SalesflowError as exc:
        flash_error(exc)
        return redirect(url_for("pages.admin_users"))
    return _done(message(result))


@blueprint.post("/admin/users/<username>/deactivate")
@login_required
def admin_deactivate(username: str):  # noqa: ANN201
    return _act(lambda: engine().deactivate_user(actor(), username),
                lambda _r: _("%(user)s was deactivated: their sessions and tokens have ended.", user=username))


@blueprint.post("/admin/users/<username>/activate")
@login_required
def admin_activate(username: str):  # noqa: ANN201
    return _act(lambda: engine().activate_user(actor(), username),
                lambda _r: _("%(user)s can log in again.", user=username))


@blueprint.route("/admin/users/<username>/reset", methods=["GET", "POST"])
@login_required
def admin_reset(username: str):  # noqa: ANN201
    """A form for a new password for the user (shown to the administrator only: the engine checks on POST,
    and the overview call refuses non-administrators before the form is shown)."""
    overview = engine().accounts(actor())
    person = next((u for u in overview["users"] if u["username"] == username), None)
    if person is None:
        flash(_("This no longer exists."), "error")
        return redirect(url_for("pages.admin_users"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("repeat_password", ""):
            errors["repeat_password"] = _("The two new passwords differ.")
        else:
            try:
                engine().reset_password(actor(), username, new)
            except InvalidData as exc:
                errors = {"new_password": _field_errors(exc).get("password") or _("Some values are not valid.")}
            except SalesflowError as exc:
                flash_error(exc)
                return redirect(url_for("pages.admin_users"))
            else:
                return _done(_("The password of %(user)s was reset: their sessions and tokens have ended.",
                               user=person["display_name"]))
    return render_template("pages/admin_reset.html", person=person, errors=errors), 422 if errors else 200


@blueprint.post("/admin/unlock")
@login_required
def admin_unlock():  # noqa: ANN201
    """Lift the lockout of the form's `username` (any name tried, existing or not) or `address`."""
    username = request.form.get("username", "").strip() or None
    address = request.form.get("address", "").strip() or None
    try:
        lifted = engine().unlock(actor(), username=username, address=address)
    except SalesflowError as exc:
        flash_error(exc)
        return redirect(url_for("pages.admin_users"))
    what = username or address
    return _done(_("Logging in as or from %(what)s is allowed again.", what=what) if lifted
                 else _("%(what)s was not locked.", what=what))


@blueprint.post("/admin/tokens/<id:token_id>/revoke")
@login_required
def admin_revoke_token(token_id: int):  # noqa: ANN201
    return _act(lambda: engine().revoke_token(actor(), token_id), lambda _r: _("The API token was revoked."))


def may_manage_users() -> bool:
    """For the header's link to /admin/users: the engine says who manages accounts."""
    return bool(header("users"))


@blueprint.app_context_processor
def _links() -> dict:
    return {"may_manage_users": may_manage_users}
