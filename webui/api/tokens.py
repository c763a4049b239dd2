"""Bearer tokens: POST /tokens gives one for a user name and password (under the login throttle: 429 with
Retry-After while locked out); GET /tokens lists the caller's working tokens; DELETE /tokens/current
revokes the token of the request, DELETE /tokens/{id} one of the caller's (any, for an administrator)."""

from __future__ import annotations

from flask import Response, jsonify

from webui.api import blueprint, shapes
from webui.api.body import actor, field, json_object, raise_if
from webui.auth import bearer_token, client_address
from webui.context import engine


@blueprint.post("/tokens")
def create_token() -> tuple[Response, int]:
    body = json_object()
    errors: dict = {}
    username = field(body, "username", str, errors=errors)
    password = field(body, "password", str, errors=errors)
    raise_if(errors)
    return jsonify(token=engine().issue_token(username, password, client_address())), 201


@blueprint.get("/tokens")
def list_tokens() -> Response:
    return jsonify([shapes.token_info(t) for t in engine().tokens(actor(), current_token=bearer_token())])


@blueprint.delete("/tokens/current")
def revoke_current_token() -> Response:
    actor()  # 401 for a missing, unknown, expired or already revoked token
    return jsonify(shapes.token_info(engine().revoke_current_token(bearer_token())))


@blueprint.delete("/tokens/<id:token_id>")
def revoke_token(token_id: int) -> Response:
    return jsonify(shapes.token_info(engine().revoke_token(actor(), token_id)))
