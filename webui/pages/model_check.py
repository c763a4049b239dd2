"""The modeler's checks: every problem of the edited files (Engine.lint), and a form's live preview."""

from __future__ import annotations

from typing import Any

import yaml
from flask import jsonify, render_template

from engine.definitions.bundle import SourceFile
from engine.definitions.form_file import read_yaml
from engine.errors import InvalidData
from webui import forms_render
from webui.context import engine
from webui.i18n import localized_problems
from webui.pages import blueprint
from webui.pages.common import actor
from webui.pages.model_common import json_body, json_route, kind_of, posted_files


@blueprint.post("/model/lint")
@json_route
def model_lint():  # noqa: ANN201
    problems = localized_problems(engine().lint(actor(), posted_files(json_body())))
    errors = sum(1 for p in problems if p.get("severity") == "error")
    return jsonify(problems=problems, errors=errors, warnings=len(problems) - errors)


def as_page_form(raw: Any) -> dict | None:
    """A form file's mapping {key, title, schema, fields, messages} in the shape the task pages render
    ({key, title, schema, ui: {fields, messages}}); None when it is not even that shape."""
    if not isinstance(raw, dict) or not isinstance(raw.get("schema"), dict):
        return None
    fields = raw.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        fields = []
    props = raw["schema"].get("properties")
    if props is not None and not isinstance(props, dict):
        return None
    return {"key": raw.get("key"), "title": raw.get("title"), "schema": raw["schema"],
            "ui": {"fields": fields, "messages": raw.get("messages") or {}}}


def preview_html(form: dict) -> str | None:
    """The form as its task page would show it (empty, defaults filled in); None if it cannot be drawn."""
    try:
        widgets = forms_render.widgets(form, forms_render.initial_values(form))
        return render_template("pages/model_form_preview.html", form=form, widgets=widgets,
                               add_row=forms_render.ADD_ROW)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


@blueprint.post("/model/form-preview")
@json_route
def model_form_preview():  # noqa: ANN201
    body = json_body()
    name, content = body.get("name"), body.get("content")
    if not isinstance(name, str) or kind_of(name) != "form" or not isinstance(content, str):
        raise InvalidData("name (a .yaml file name) and content (text) are needed",
                          {"name": {"zh": "请给出 .yaml 文件名和内容",
                                    "en": "A .yaml file name and its content are needed"}})
    found = engine().lint(actor(), [SourceFile(name, "form", content.encode("utf-8"))])
    problems = [p for p in localized_problems(found) if p.get("file") in (name, None)]
    try:
        raw, _root = read_yaml(content)
    except yaml.YAMLError:
        raw = None
    form = as_page_form(raw)
    html = preview_html(form) if form else None
    key = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else None
    return jsonify(key=key, html=html, problems=problems)
