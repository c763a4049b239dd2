"""The auditor's history page: the timeline of every audit event beside the diagram, a step control
that shows the instance after step N (frontend/src/pages/history.js), and the verify button.

The states after each step come from the engine's replay, fetched once per page load as JSON
(`pages.history_states`); the verify button asks `pages.history_verify`. Both answer JSON, also
for errors, like `pages.diagram`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.config import COMPANY_TZ
from engine.errors import SalesflowError
from engine.replay import Replay
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor, event_name, parse_time
from webui.pages.labels import data_labels, describe, ordered, visible


def exact(value: str | datetime | None) -> str:
    """A timestamp in company time to the second: an audit trail is read step by step."""
    moment = parse_time(value)
    return moment.astimezone(ZoneInfo(COMPANY_TZ)).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _label(field: str, labels: dict[str, dict]) -> str:
    ui = labels.get(field)
    return localized(ui.get("label")) if ui and ui.get("label") else ""


def _shown(value: object, field: str, labels: dict[str, dict]) -> str:
    return "—" if value is None else describe(value, labels.get(field), labels)


def teller(fields: dict[str, dict]) -> Callable[[object, dict | None], str]:
    """told(value, ui): a value as people read it, by the labels of the form it came from ("—" for
    nothing); a record's parts by the instance's labels."""
    return lambda value, ui: "—" if value is None else describe(value, ui, fields)


def shown_changes(entry: dict) -> list[dict]:
    """An entry's data changes that can be told in words (a routing code without a label cannot)."""
    return [c for c in entry.get("changes") or []
            if c.get("label") and visible(c["old"], c.get("ui")) and visible(c["new"], c.get("ui"))]


@blueprint.get("/instances/<id:instance_id>/history")
@login_required
def history(instance_id: int):  # noqa: ANN201
    inst = engine().instance(actor(), instance_id)
    entries = engine().timeline(actor(), instance_id)
    return render_template(
        "pages/history.html", inst=inst, entries=entries, changes=shown_changes, told=teller(data_labels(inst)),
        exact=exact,
        states_url=url_for("pages.history_states", instance_id=instance_id),
        verify_url=url_for("pages.history_verify", instance_id=instance_id),
        diagram_url=url_for("pages.diagram", instance_id=instance_id))


def _json_error(exc: SalesflowError):  # noqa: ANN202
    return jsonify(error=exc.code, message=str(exc)), exc.status


def _unauthorized():  # noqa: ANN202
    return jsonify(error="unauthorized", message="log in first"), 401


@blueprint.get("/instances/<id:instance_id>/history/states.json")
def history_states(instance_id: int):  # noqa: ANN201
    """{verified, steps, first_mismatch, states: [{position, kind, task, completed, active, finished, data,
    shown: [{field, label, value}]}]}: the state after every step that replayed (none when the chain is broken)."""
    if not current_user.is_authenticated:
        return _unauthorized()
    try:
        inst = engine().instance(actor(), instance_id)
        result = engine().replay(instance_id, actor=actor(), states=True)
    except SalesflowError as exc:
        return _json_error(exc)
    labels = data_labels(inst)
    states = [{**state, "shown": [{"field": k, "label": _label(k, labels), "value": _shown(v, k, labels)}
                                  for k, v in ordered(state.get("data") or {}, labels)]}
              for state in result.states]
    return jsonify(verified=result.verified, steps=result.steps, states=states,
                   first_mismatch=result.first_mismatch.to_dict() if result.first_mismatch else None)


@blueprint.get("/instances/<id:instance_id>/history/verify.json")
def history_verify(instance_id: int):  # noqa: ANN201
    """{verified, steps, events, first_mismatch, message}: the hash chain checked and the instance replayed."""
    if not current_user.is_authenticated:
        return _unauthorized()
    try:
        events = engine().history(actor(), instance_id)
        result = engine().replay(instance_id, actor=actor())
    except SalesflowError as exc:
        return _json_error(exc)
    body = result.to_dict()
    body.pop("state", None)
    return jsonify(**body, events=len(events), message=verdict(result, events))


def verdict(result: Replay, events: list[dict]) -> str:
    """The verify button's sentence in the page's language."""
    if result.verified:
        return _("Verified: the hash chain is intact and replaying its %(n)d events gives the same history.",
                 n=len(events))
    mismatch = result.first_mismatch
    position = mismatch.position if mismatch else 0
    recorded = next((e for e in events if e["position"] == position), None)
    kind = event_name(recorded["kind"]) if recorded else (mismatch.kind if mismatch else "")
    if mismatch and mismatch.kind == "chain":
        return _("Not verified: the hash chain breaks at step %(position)d (%(kind)s): the trail was altered "
                 "there. %(reason)s", position=position, kind=kind, reason=mismatch.reason)
    return _("Not verified: step %(position)d (%(kind)s) differs on replay: %(reason)s", position=position,
             kind=kind, reason=mismatch.reason if mismatch else "")
