"""GET /processes (latest versions) and POST /processes/{key}/instances (start one)."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from webui.api import blueprint, shapes
from webui.api.body import actor, field, json_object, raise_if
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
    iid = engine().start(who, key, data or {}, business_key)
    location = url_for("api.get_instance", iid=iid)
    return jsonify(shapes.instance(engine().instance(who, iid))), 201, {"Location": location}
