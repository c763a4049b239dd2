"""/model: every deployed process with its versions, for process owners (the way into the modeler)."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, processes
from webui.pages.model_common import require_owner
from webui.pages.model_governance import governance_view


@blueprint.get("/model")
@login_required
def model_list():  # noqa: ANN201
    require_owner()
    rows = [{"key": p["key"], "name": localized(p.get("names") or p["name"]),
             "versions": engine().versions(actor(), p["key"])}
            for p in sorted(processes(), key=lambda p: p["key"])]
    return render_template("pages/model_list.html", processes=rows, governance=governance_view())
