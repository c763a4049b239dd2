"""Start a request: the processes this user may start, and each one's start form."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Forbidden, InvalidData, ProcessError
from webui import forms_render
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint, form_token, labels
from webui.pages.common import actor, error_text, processes

BUSINESS_KEY = "business_key"


@blueprint.get("/start")
@login_required
def start_list():  # noqa: ANN201
    return render_template("pages/start_list.html", startable=engine().startable(actor()))


def _process(key: str) -> dict:
    for p in engine().startable(actor()):
        if p["key"] == key:
            return p
    if any(p["key"] == key for p in processes()):
        raise Forbidden(f"{actor()} may not start {key}")
    abort(404)


def _render(process: dict, form: dict, values: dict, errors: dict | None = None, extra_rows: dict | None = None,
            business_key: str = "", status: int = 200, token: str | None = None) -> tuple[str, int]:
    errors = errors or {}
    page = render_template(
        "pages/start_form.html", process=process, title=localized(form.get("title")) or localized(process["name"]),
        widgets=forms_render.widgets(form, values, errors, extra_rows), form_error=localized(errors.get("_form")),
        business_key=business_key, business_key_error=localized(errors.get(BUSINESS_KEY)),
        add_row=forms_render.ADD_ROW, form_token=token or form_token.new())
    return page, status


@blueprint.route("/start/<key>", methods=["GET", "POST"])
@login_required
def start_form(key: str):  # noqa: ANN201
    process = _process(key)
    form = labels.start_form(key)
    if request.method == "GET":
        return _render(process, form, forms_render.initial_values(form))
    data, texts = forms_render.parse(form, request.form)
    business_key = request.form.get(BUSINESS_KEY, "").strip()
    extra = forms_render.rows_to_add(request.form)
    token = form_token.posted()
    if extra:
        return _render(process, form, texts, extra_rows=extra, business_key=business_key, token=token)
    try:
        answer = engine().start_once(actor(), key, data, business_key or None, idempotency_key=token)
    except InvalidData as exc:
        refused = form_token.refused(exc)
        if refused:  # a fresh token: sending the form again is a new request
            return _render(process, form, texts, {"_form": refused}, business_key=business_key, status=422)
        errors = exc.fields or {"_form": {"zh": str(exc), "en": str(exc)}}
        return _render(process, form, texts, errors, business_key=business_key, status=422, token=token)
    except ProcessError as exc:
        message = error_text(exc)
        return _render(process, form, texts, {"_form": {"zh": message, "en": message}}, business_key=business_key,
                       status=422, token=token)
    flash(_("This form was already sent: here is the request it started.") if answer.repeated
          else _("Your request was started."), "info")
    return redirect(url_for("pages.instance", instance_id=answer.view["id"]))
