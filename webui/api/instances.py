"""One instance: its state, its audit history and its replay."""

from __future__ import annotations

from flask import Response, jsonify

from webui.api import blueprint, shapes
from webui.api.body import actor, field, integer, json_object, raise_if
from webui.context import engine

ID = "<id:iid>"


@blueprint.get(f"/instances/{ID}")
def get_instance(iid: int) -> Response:
    return jsonify(shapes.instance(engine().instance(actor(), iid)))


@blueprint.post(f"/instances/{ID}/cancel")
def cancel(iid: int) -> Response:
    """Withdraw (the requester, before anyone else decided) or cancel (the roles the process allows) it,
    with a reason the trail keeps; the instance afterwards, its `outcome` saying which."""
    body, errors = json_object(), {}
    reason = field(body, "reason", str, errors=errors)
    raise_if(errors)
    who = actor()
    engine().cancel(who, iid, reason)
    return jsonify(shapes.instance(engine().instance(who, iid)))


@blueprint.get(f"/instances/{ID}/history")
def history(iid: int) -> Response:
    return jsonify([shapes.event(e) for e in engine().history(actor(), iid)])


@blueprint.get(f"/instances/{ID}/replay")
def replay(iid: int) -> Response:
    """{verified, steps, first_mismatch, state}: `state` is the state after ?step=N (null without it)."""
    who = actor()
    result = engine().replay(iid, step=integer("step"), actor=who)
    return jsonify(result.to_dict())
