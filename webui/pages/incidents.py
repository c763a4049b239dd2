"""/admin/incidents: the instances halted by a failed timer or message step, for administrators to
retry the step or cancel the instance with a reason (Engine.incidents, retry_incident,
cancel_incident; the engine refuses everybody else with 403)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from webui.context import engine
from webui.pages import blueprint
from webui.pages.common import actor, field_form, header

ID = "<id:incident_id>"
LISTS = ("open", "resolved")


def kind_name(kind: str) -> str:
    return {"timer": _("Timer"), "message": _("Message")}.get(kind, kind)


def resolution_name(resolution: str | None) -> str:
    return {"retried": _("Retried"), "cancelled": _("Instance cancelled")}.get(resolution or "", resolution or "")


def _page(shown: str, errors: dict[int, str] | None = None, reasons: dict[int, str] | None = None,
          status: int = 200) -> tuple[str, int]:
    items = engine().incidents(actor(), status=shown)
    return render_template("pages/incidents.html", incidents=items, shown=shown, lists=LISTS, errors=errors or {},
                           reasons=reasons or {}, kind_name=kind_name, resolution_name=resolution_name), status


@blueprint.get("/admin/incidents")
@login_required
def incidents():  # noqa: ANN201
    shown = request.args.get("status", "open")
    return _page(shown if shown in LISTS else "open")


@blueprint.post(f"/admin/incidents/{ID}/retry")
@login_required
def retry_incident(incident_id: int):  # noqa: ANN201
    after = engine().retry_incident(actor(), incident_id)
    if after["status"] == "resolved":
        flash(_("The step ran again: instance #%(id)s continues.", id=after["instance_id"]), "info")
    else:
        flash(_("The retry failed again (instance #%(id)s): %(message)s", id=after["instance_id"],
                message=after["message"]), "error")
    return redirect(url_for("pages.incidents"))


@blueprint.post(f"/admin/incidents/{ID}/cancel")
@login_required
def cancel_incident(incident_id: int):  # noqa: ANN201
    return field_form(
        "reason", lambda reason: engine().cancel_incident(actor(), incident_id, reason),
        refused=lambda reason, why: _page("open", {incident_id: why}, {incident_id: reason}, status=422),
        done=lambda after: _("Instance #%(id)s was cancelled.", id=after["instance_id"]), back="pages.incidents")


def may_incidents() -> bool:
    """Whether to show the header's link (the engine decides: administrators)."""
    return bool(header("incidents"))


@blueprint.context_processor
def _incidents_nav() -> dict:
    """`may_incidents()` for the main navigation."""
    return {"may_incidents": may_incidents}
