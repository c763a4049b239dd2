"""One task: its form (rendered from the form's schema), the instance's earlier data, comments."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import Conflict, InvalidData, ProcessError
from webui import forms_render
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint, form_token
from webui.pages.common import actor, error_text, flash_done, flash_error, outcome_name, role_name, status_name
from webui.pages.labels import data_labels, ordered


def _hints(task: dict) -> dict:
    """Which buttons to show: the engine's answer for this user (every command checks again)."""
    may = task.get("may") or {}
    return {"work": may.get("complete", False), "claim": may.get("claim", False),
            "unclaim": may.get("unclaim", False), "reassign": may.get("reassign", False),
            "comment": may.get("comment", False)}


def _render(task_id: str, values: dict | None = None, errors: dict | None = None, extra_rows: dict | None = None,
            status: int = 200, token: str | None = None) -> tuple[str, int]:
    task = engine().task(actor(), task_id)
    form = task.get("form") or {"schema": {}, "ui": {}}
    initial = task.get("initial_data") or {}
    locked = forms_render.locked_fields(form, initial)
    values = values if values is not None else forms_render.initial_values(form, initial)
    values = {**values, **{name: initial[name] for name in locked}}  # shown as the case holds them
    hints = _hints(task)
    holders = engine().role_holders(task["role"]) if hints["reassign"] else []
    labels = data_labels(engine().instance(actor(), task["instance_id"]))
    page = render_template(
        "pages/task.html", task=task, form=form, hints=hints, holders=holders,
        title=localized(form.get("title")) or localized(task.get("titles") or task["title"]),
        widgets=forms_render.widgets(form, values, errors, extra_rows, locked),
        form_error=localized((errors or {}).get("_form")),
        earlier=ordered(_not_in_the_form(task, locked, hints), labels), labels=labels, show=forms_render.show,
        comments=engine().comments(actor(), task_id), add_row=forms_render.ADD_ROW,
        form_token=token or form_token.new(), changed_versions=_changed_versions(task))
    return page, status


def _changed_versions(task: dict) -> list[dict]:
    """The versions a rule change decides (P13), each linked to what it changes; nothing for other tasks."""
    if task["process_key"] != "rule_change":
        return []
    return engine().change_request(actor(), task["instance_id"])


def _not_in_the_form(task: dict, locked: set[str], hints: dict) -> dict:
    """The case's data, less what the form on the page already shows read-only (said once, not twice)."""
    shown = locked if hints["work"] and task.get("instance_status") != "incident" else set()
    return {k: v for k, v in (task.get("instance_data") or {}).items() if k not in shown}


@blueprint.get("/tasks/<task_id>")
@login_required
def task(task_id: str):  # noqa: ANN201
    return _render(task_id)


@blueprint.post("/tasks/<task_id>")
@login_required
def complete(task_id: str):  # noqa: ANN201
    task = engine().task(actor(), task_id)
    form = task.get("form") or {"schema": {}}
    data, texts = forms_render.parse(form, request.form, forms_render.locked_fields(form, task.get("initial_data")))
    extra = forms_render.rows_to_add(request.form)
    token = form_token.posted()
    if extra:
        return _render(task_id, texts, extra_rows=extra, token=token)
    try:
        answer = engine().complete_once(actor(), task_id, data, idempotency_key=token)
    except InvalidData as exc:
        refused = form_token.refused(exc)
        if refused:  # a fresh token: sending the form again is a new submission
            return _render(task_id, texts, {"_form": refused}, status=422)
        return _render(task_id, texts, exc.fields or {"_form": {"zh": str(exc), "en": str(exc)}}, status=422,
                       token=token)
    except ProcessError as exc:
        message = error_text(exc)
        return _render(task_id, texts, {"_form": {"zh": message, "en": message}}, status=422, token=token)
    except Conflict as exc:
        flash_error(exc)
        return redirect(url_for("pages.task", task_id=task_id))
    flash(_("This form was already sent: the task was completed then.") if answer.repeated
          else _("Task completed."), "info")
    return redirect(_onward(answer.view["id"]))


def _onward(instance_id: int) -> str:
    """After a completed task: straight on to the request's next task when the engine says this user
    may work it (no trip through the inbox), else the inbox, with a message saying where the request went."""
    step = engine().after_step(actor(), instance_id)
    if step["next_task"]:
        flash(_("The next step of this request is yours too: here it is."), "info")
        return url_for("pages.task", task_id=step["next_task"])
    flash(where_it_went(step), "info")
    return url_for("pages.inbox")


def where_it_went(step: dict) -> str:
    """One sentence for the person who just acted: which tasks the request waits at now and for whom (a
    person by display name, else the role), or that it is finished and how it ended."""
    if step["status"] == "incident":
        return _("This case is halted by an incident; an administrator must retry or cancel it.")
    if step["status"] != "running":
        ended = outcome_name(step["outcome"]) or status_name(step["status"])
        return _("The request is finished: %(outcome)s.", outcome=ended)
    if not step["waiting"]:
        return _("The request goes on by itself for now: no task waits for anyone yet.")
    places = [_("%(task)s (%(whom)s)", task=localized(t.get("titles") or t["title"]),
                whom=t["assignee_name"] or role_name(t["role"])) for t in step["waiting"]]
    return _("The request now waits at: %(places)s.", places=_("; ").join(places))


@blueprint.post("/tasks/<task_id>/comments")
@login_required
def add_comment(task_id: str):  # noqa: ANN201
    flash_done(lambda: engine().comment(actor(), task_id, request.form.get("text", "")), _("Comment added."), "text")
    return redirect(url_for("pages.task", task_id=task_id) + "#comments")
