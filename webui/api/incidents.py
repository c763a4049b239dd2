"""Incidents (administrators): the instances halted by a failed timer or message step; retry the
step or cancel the instance with a reason."""

from __future__ import annotations

from flask import Response, jsonify, request

from webui.api import blueprint, shapes
from webui.api.body import actor, field, json_object, raise_if, text_arg
from webui.context import engine

ID = "<id:incident_id>"


@blueprint.get("/incidents")
def list_incidents() -> Response:
    who = actor()
    items = engine().incidents(who, status=request.args.get("status", "open"), process=text_arg("process"))
    return jsonify([shapes.incident(i) for i in items])


@blueprint.post(f"/incidents/{ID}/retry")
def retry_incident(incident_id: int) -> Response:
    """The incident after the retry: `status` resolved (the case runs again), or open with the new error."""
    return jsonify(shapes.incident(engine().retry_incident(actor(), incident_id)))


@blueprint.post(f"/incidents/{ID}/cancel")
def cancel_incident(incident_id: int) -> Response:
    who = actor()
    body = json_object()
    errors: dict = {}
    reason = field(body, "reason", str, errors=errors)
    raise_if(errors)
    return jsonify(shapes.incident(engine().cancel_incident(who, incident_id, reason)))
