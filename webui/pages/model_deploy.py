"""Deploying the modeler's files as a new version (Engine.deploy), and what changed (Engine.version_diff)."""

from __future__ import annotations

from flask import Response, get_template_attribute, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.definitions.replacing import ReplacesProcess
from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import actor, process_name
from webui.pages.model_common import is_owner, json_body, json_route, posted_files

MAX_NOTE = 2000


def _changes_html(key: str, version: int, status: str, diff: dict | None, request_id: int | None) -> str:
    summary = get_template_attribute("pages/model_macros.html", "deployed_summary")
    return str(summary(key, process_name(key) or key, version, status, diff, request_id))


def _replaced_json(exc: ReplacesProcess) -> tuple[Response, int]:
    """409 with what the diagram would replace and the boxes that confirm it (the page shows them)."""
    confirm = get_template_attribute("pages/model_macros.html", "replace_confirm")
    # the card says which process, its version, who deployed it and when; the engine's own message also tells
    # the command line's and the API's ways to confirm, which are no use here
    message = _("The diagram would replace a deployed process (below): tick the box to confirm, or give the diagram "
                "a process id of its own.")
    return jsonify(error=exc.code, message=message, messages=exc.reason,
                   replacing=[r.to_dict() for r in exc.replaced],
                   html=str(confirm([r.to_dict() for r in exc.replaced]))), exc.status


def _confirmed(body: dict) -> list[str]:
    """The process ids the owner ticked to be replaced (anything else in `replace` confirms nothing)."""
    keys = body.get("replace")
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


@blueprint.post("/model/deploy")
@json_route
def model_deploy():  # noqa: ANN201
    body = json_body()
    note = body.get("note") if isinstance(body.get("note"), str) else ""
    files = posted_files(body)
    try:
        deployed = engine().deploy(actor(), files=files, note=note.strip()[:MAX_NOTE], replace=_confirmed(body))
    except ReplacesProcess as exc:
        return _replaced_json(exc)
    results = []
    for d in deployed:
        diff = engine().version_diff(actor(), d.key, d.version) if d.status != "unchanged" else None
        results.append({"key": d.key, "version": d.version, "status": d.status, "sha256": d.sha256, "diff": diff,
                        "request_id": d.request_id,
                        "url": url_for("pages.model_version", key=d.key, version=d.version),
                        "migrate_url": url_for("pages.model_migrate", key=d.key, to=d.version),
                        "html": _changes_html(d.key, d.version, d.status, diff, d.request_id)})
    drafted = any(d["status"] == "draft" for d in results)  # submitted for the general manager's approval
    return jsonify(deployed=results), 202 if drafted else 201


@blueprint.get("/model/<key>/<id:version>/changes")
@login_required
def model_changes(key: str, version: int):  # noqa: ANN201
    """What a version changes; the general manager reads it too, from a rule change he decides (the engine
    decides who may: Engine.version_diff)."""
    diff = engine().version_diff(actor(), key, version)
    info = next((v for v in engine().versions(actor(), key) if v["version"] == version), None) if is_owner() else None
    return render_template("pages/model_changes.html", key=key, version=version, diff=diff, info=info,
                           name=process_name(key) or key)
