"""GET /processes (latest versions) and POST /processes/{key}/instances (start one)."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from webui.api import blueprint, shapes
from webui.api.body import actor, field, idempotency_key, json_object, raise_if, replayed
from webui.context import engine


@blueprint.get("/processes")
def list_processes() -> Response:
    who = actor()
    startable = {p["key"] for p in engine().startable(who)}
    return jsonify([shapes.process(p, startable) for p in engine().processes()])


@blueprint.post("/processes/<process_key:key>/instances")
def start_instance(key: str) -> tuple[Response, int, dict]:
    who = actor()
    body = json_object()
    errors: dict = {}
    data = field(body, "data", dict, required=False, errors=errors)
    business_key = field(body, "business_key", str, required=False, errors=errors)
    raise_if(errors)
    answer = engine().start_once(who, key, data or {}, business_key, idempotency_key=idempotency_key())
    location = url_for("api.get_instance", iid=answer.view["id"])
    return jsonify(shapes.instance(answer.view)), 201, {"Location": location, **replayed(answer.repeated)}
