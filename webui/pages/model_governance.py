"""Rule changes on the process owners' pages: the governance state, pending requests, withdrawing one."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import SalesflowError
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, error_text, flash_done
from webui.pages.model_common import require_owner


def governance_view(key: str | None = None) -> dict:
    """{on, pending (the requests, or those of `key`)} for the templates."""
    state = engine().governance(actor())
    pending = [r for r in state["pending"] if key is None or any(v["key"] == key for v in r["versions"])]
    return {**state, "pending": pending}


def refusal_text(exc: SalesflowError) -> str:
    """An engine refusal in the reader's language: its own words when it gives both (a pending change)."""
    reason = getattr(exc, "reason", None)
    return localized(reason) if isinstance(reason, dict) else error_text(exc)


@blueprint.post("/model/changes/<id:request_id>/withdraw")
@login_required
def model_withdraw_change(request_id: int):  # noqa: ANN201
    """The submitter withdraws a pending rule change with a reason; its drafts are withdrawn."""
    require_owner()
    back = url_for("pages.model_list") + "#pending-changes"
    flash_done(lambda: engine().withdraw_change(actor(), request_id, request.form.get("reason", "")),
               _("You withdrew the rule change; its drafts will not take effect."), "reason")
    return redirect(back)
