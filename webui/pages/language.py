"""The language switch: 中文 (the default) or English, kept in the session."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for

from webui.i18n import LANGUAGES
from webui.pages import blueprint
from webui.pages.common import back


@blueprint.post("/language")
def language():  # noqa: ANN201
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang
    return redirect(back(url_for("pages.inbox")))
