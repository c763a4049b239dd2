"""GET /kpi: the KPI dashboard's figures as JSON (Engine.kpi; docs/kpi.md explains each figure)."""

from __future__ import annotations

from flask import Response, jsonify, request

from webui.api import blueprint, shapes
from webui.api.body import actor
from webui.context import engine


@blueprint.get("/kpi")
def kpi() -> Response:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD&process=key; 403 unless auditor, administrator, manager or a member of the
    staff (who gets his own appraisal only); 422 for bad filters."""
    who = actor()
    # given means given: `?to=` is refused as no date (the engine checks every value, NUL included); a name the
    # operation does not declare was refused before (query_names.py)
    return jsonify(shapes.kpi(engine().kpi(who, request.args.to_dict())))
