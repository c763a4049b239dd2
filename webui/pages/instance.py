"""One instance: status, data, open and completed tasks, the history, and the diagram (drawn by JS)."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData, SalesflowError
from webui import forms_render
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, error_text
from webui.pages.labels import data_labels, ordered

SHOWN_EVENTS = {"started", "claimed", "unclaimed", "reassigned", "completed", "commented", "escalated",
                "timer_fired", "task_cancelled", "message", "cancelled", "ended", "incident", "retried", "routed"}


@blueprint.get("/instances/<id:instance_id>")
@login_required
def instance(instance_id: int):  # noqa: ANN201
    inst = engine().instance(actor(), instance_id)
    events = [e for e in engine().timeline(actor(), instance_id) if e["kind"] in SHOWN_EVENTS]
    labels = data_labels(inst)
    return render_template("pages/instance.html", inst=inst, events=events,
                           show=forms_render.show, labels=labels, data=ordered(inst["data"], labels),
                           diagram_url=url_for("pages.diagram", instance_id=instance_id))


@blueprint.post("/instances/<id:instance_id>/end")
@login_required
def end_instance(instance_id: int):  # noqa: ANN201
    """Withdraw or cancel the instance with a reason (the engine decides which, and whether)."""
    try:
        outcome = engine().cancel(actor(), instance_id, request.form.get("reason", ""))
    except InvalidData as exc:
        flash(localized(exc.fields.get("reason")) or error_text(exc), "error")
        return redirect(url_for("pages.instance", instance_id=instance_id) + "#end-instance")
    if outcome == "withdrawn":
        flash(_("You withdrew the request."), "info")
    else:
        flash(_("The case was cancelled."), "info")
    return redirect(url_for("pages.instance", instance_id=instance_id))


@blueprint.get("/instances/<id:instance_id>/diagram.json")
def diagram(instance_id: int):  # noqa: ANN201
    """The BPMN and the elements to highlight, for frontend/src/pages/instance.js (JSON, also for errors)."""
    if not current_user.is_authenticated:
        return jsonify(error="unauthorized", message="log in first"), 401
    try:
        return jsonify(engine().diagram(actor(), instance_id))
    except SalesflowError as exc:
        return jsonify(error=exc.code, message=str(exc)), exc.status
