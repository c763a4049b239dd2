"""POST /tokens: a bearer token for a user name and password."""

from __future__ import annotations

from flask import Response, jsonify

from webui.api import blueprint
from webui.api.body import field, json_object, raise_if
from webui.context import engine


@blueprint.post("/tokens")
def create_token() -> tuple[Response, int]:
    body = json_object()
    errors: dict = {}
    username = field(body, "username", str, errors=errors)
    password = field(body, "password", str, errors=errors)
    raise_if(errors)
    return jsonify(token=engine().issue_token(username, password)), 201
