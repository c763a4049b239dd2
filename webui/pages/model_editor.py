"""The modeler: a deployed version (or a new diagram) with its DMN tables and forms, the role
catalogue beside it, and the check and deploy actions (frontend/src/pages/model-editor.js)."""

from __future__ import annotations

from flask import jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import actor, process_name
from webui.pages.model_common import json_route, require_owner
from webui.pages.model_governance import governance_view
from webui.pages.model_new import NEW_FILE, new_diagram

PREFERRED_FIRST_LANE = "sales_rep"


def lane_roles() -> list[dict]:
    """The roles a lane may stand for (a lane's id is the role's id): the catalogue less the system roles."""
    return [{"id": r.id, "zh": r.zh, "en": r.en} for r in sorted(engine().roles().values(), key=lambda r: r.id)
            if not r.system]


def _editor(key: str | None, version: int | None):  # noqa: ANN202
    require_owner()
    if key is not None:
        engine().versions(actor(), key)  # a process the engine knows (404 otherwise), and the caller's right
        files_url = url_for("pages.model_version_files", key=key, version=version)
    else:
        files_url = url_for("pages.model_new_files")
    return render_template(
        "pages/model_editor.html", key=key, version=version, roles=lane_roles(), files_url=files_url,
        title=(process_name(key) or key) if key else _("New diagram"), governance=governance_view(key))


@blueprint.get("/model/new")
@login_required
def model_new():  # noqa: ANN201
    return _editor(None, None)


@blueprint.get("/model/<key>/<id:version>")
@login_required
def model_version(key: str, version: int):  # noqa: ANN201
    require_owner()
    engine().version_files(actor(), key, version)  # 404 for a version that does not exist
    return _editor(key, version)


@blueprint.get("/model/<key>/<id:version>/files.json")
@json_route
def model_version_files(key: str, version: int):  # noqa: ANN201
    files = engine().version_files(actor(), key, version)
    return jsonify(key=key, version=version, files=[
        {"name": f["name"], "kind": f["kind"], "content": _text(f["content"])} for f in files])


def _text(content: str | bytes) -> str:
    return content.decode("utf-8") if isinstance(content, bytes) else content


@blueprint.get("/model/new/files.json")
@json_route
def model_new_files():  # noqa: ANN201
    roles = lane_roles()
    lane = next((r for r in roles if r["id"] == PREFERRED_FIRST_LANE), roles[0] if roles else None)
    lane_id, lane_name = (lane["id"], lane["zh"]) if lane else ("initiator", "申请人")
    xml = new_diagram(lane_id, lane_name, name="新流程", start_name="开始")
    return jsonify(key=None, version=None, files=[{"name": NEW_FILE, "kind": "bpmn", "content": xml}])
