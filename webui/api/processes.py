"""GET /processes (latest versions), GET /processes/{key} (one, with its start form) and
POST /processes/{key}/instances (start one)."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from webui.api import blueprint, shapes
from webui.api.body import actor, caller, idempotency_key, replayed, submitted
from webui.context import engine
from webui.i18n import api_language


@blueprint.get("/processes")
def list_processes() -> Response:
    who = actor()
    startable = {p["key"] for p in engine().startable(who)}
    return jsonify([shapes.process(p, startable) for p in engine().processes()])


@blueprint.get("/processes/<process_key:key>")
def get_process(key: str) -> Response:
    """What a client needs to start the process: its start form's JSON Schema, ui hints and labels,
    the same form the start page renders; `startable` says whether the caller may start it."""
    return jsonify(shapes.process_detail(engine().process(actor(), key), api_language()))


@blueprint.post("/processes/<process_key:key>/instances")
def start_instance(key: str) -> tuple[Response, int, dict]:
    who = caller()
    data, (business_key,) = submitted("business_key")
    answer = engine().start_once(who, key, data, business_key, idempotency_key=idempotency_key())
    location = url_for("api.get_instance", iid=answer.view["id"])
    return jsonify(shapes.instance(answer.view)), 201, {"Location": location, **replayed(answer.repeated)}
