"""/model/<key>/migrate: move running instances of older versions to a newer one.

The page lists each running instance of an older version with where it stands (its open tasks and who
holds them) and whether it can move (Engine.migration_preview, the migration's own checks). Migrating
takes two steps: the button asks for confirmation (the instances that will move, listed again), and only
the confirmed form (confirmed=yes) migrates every movable instance (Engine.migrate); then what happened.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import login_required

from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import actor, process_name
from webui.pages.model_common import require_owner

CONFIRMED = "yes"


def _target(versions: list[dict], raw: str | None) -> int:
    """The chosen version (?to= or the form's `to`), the newest when none is chosen; 404 for an unknown one."""
    if not versions:
        abort(404)
    if raw in (None, ""):
        return versions[0]["version"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or int(raw) not in {v["version"] for v in versions}:
        abort(404)
    return int(raw)


def _page(key: str, to: int, versions: list[dict], result: dict | None = None, confirm: bool = False):  # noqa: ANN202
    plan = engine().migration_preview(actor(), key, to)
    movable = [p for p in plan if p["movable"]]
    return render_template("pages/model_migrate.html", key=key, name=process_name(key) or key, versions=versions,
                           to=to, plan=plan, movable=movable, result=result, confirm=confirm and bool(movable))


@blueprint.get("/model/<key>/migrate")
@login_required
def model_migrate(key: str):  # noqa: ANN201
    require_owner()
    versions = engine().versions(actor(), key)
    return _page(key, _target(versions, request.args.get("to")), versions, confirm=request.args.get("confirm") == "1")


@blueprint.post("/model/<key>/migrate")
@login_required
def model_migrate_run(key: str):  # noqa: ANN201
    require_owner()
    versions = engine().versions(actor(), key)
    to = _target(versions, request.form.get("to"))
    if request.form.get("confirmed") != CONFIRMED:  # never on one click: show what would move, and ask
        return _page(key, to, versions, confirm=True)
    result = engine().migrate(actor(), key, to)
    return _page(key, to, engine().versions(actor(), key), result)
