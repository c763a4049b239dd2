"""Log in and out (a session cookie; the password is checked by the engine)."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from engine.errors import Locked, Unauthorized
from webui.auth import client_address, start_session
from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import safe_next


@blueprint.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201 - a Flask response
    next_url = safe_next(request.values.get("next"), url_for("pages.inbox"))
    error, status, headers = None, 200, {}
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            user = engine().authenticate(username, request.form.get("password", ""), client_address())
        except Unauthorized:
            error, status = _("Wrong user name or password."), 401
        except Locked as exc:
            error, status, headers = locked_text(exc), 429, {"Retry-After": str(exc.retry_after)}
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session for the new user; only the language choice survives
            if lang:
                session["lang"] = lang
            start_session(user)
            return redirect(next_url)
    return render_template("pages/login.html", error=error, username=username, next_url=next_url), status, headers


def locked_text(exc: Locked) -> str:
    """The same words whether or not the user exists: unknown names are locked out the same way."""
    return _("Too many failed logins: logging in is blocked for %(minutes)d more minute(s). "
             "An administrator can lift the block sooner.", minutes=max(1, math.ceil(exc.retry_after / 60)))


@blueprint.post("/logout")
@login_required
def logout():  # noqa: ANN201
    lang = session.get("lang")
    engine().logout(current_user.get_id())  # on the server: this cookie, saved or not, no longer logs in
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("pages.login"))


@blueprint.get("/")
def index():  # noqa: ANN201
    return redirect(url_for("pages.inbox"))
