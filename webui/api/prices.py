"""GET /prices: the company's price list (Engine.prices; docs/prices.md). Sales staff, finance, the general
manager and auditors may read it (engine/runtime/access.py); others get 403."""

from __future__ import annotations

from flask import Response, jsonify, request

from webui.api import blueprint, shapes
from webui.api.body import actor
from webui.context import engine


@blueprint.get("/prices")
def list_prices() -> Response:
    """?on=YYYY-MM-DD: only the rows valid that day; 422 for anything but a date (`?on=` included)."""
    who = actor()
    rows = engine().prices(who, on=request.args.get("on"))  # `?on=` is given, and refused as no date
    return jsonify([shapes.price(r) for r in rows])
