"""One instance: its state, its audit history and its replay."""

from __future__ import annotations

from flask import Response, jsonify

from webui.api import blueprint, shapes
from webui.api.body import actor, integer
from webui.context import engine

ID = "<id:iid>"


@blueprint.get(f"/instances/{ID}")
def get_instance(iid: int) -> Response:
    return jsonify(shapes.instance(engine().instance(actor(), iid)))


@blueprint.get(f"/instances/{ID}/history")
def history(iid: int) -> Response:
    return jsonify([shapes.event(e) for e in engine().history(actor(), iid)])


@blueprint.get(f"/instances/{ID}/replay")
def replay(iid: int) -> Response:
    """{verified, steps, first_mismatch, state}: `state` is the state after ?step=N (null without it)."""
    who = actor()
    result = engine().replay(iid, step=integer("step"), actor=who)
    return jsonify(result.to_dict())
