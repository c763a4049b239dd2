"""Log in and out (a session cookie; the password is checked by the engine)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from engine.errors import Unauthorized
from webui.auth import SessionUser
from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import safe_next


@blueprint.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201 - a Flask response
    next_url = safe_next(request.values.get("next"), url_for("pages.inbox"))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        try:
            user = engine().authenticate(username, request.form.get("password", ""))
        except Unauthorized:
            error = _("Wrong user name or password.")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session for the new user; only the language choice survives
            if lang:
                session["lang"] = lang
            login_user(SessionUser(**user))
            return redirect(next_url)
    status = 401 if error else 200
    return render_template("pages/login.html", error=error, username=username, next_url=next_url), status


@blueprint.post("/logout")
@login_required
def logout():  # noqa: ANN201
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("pages.login"))


@blueprint.get("/")
def index():  # noqa: ANN201
    return redirect(url_for("pages.inbox"))
