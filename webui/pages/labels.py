"""Names for people on the pages: data labels and people's display names, both as the engine gives them.

The engine labels an instance's data from its deployed version (form fields, DMN outputs); a data
name it does not label, or a routing code it cannot name, is not shown. A person is shown by display
name with the login id in a tooltip (macros.html `person`), from one engine lookup per request.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext

from engine.users import SYSTEM
from webui import forms_render
from webui.context import engine
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import actor

EMPTY_FORM: dict = {"schema": {}, "ui": {}}


def start_form(process_key: str) -> dict:
    """The start form {key, title, schema, ui} of the latest version, as the engine gives it."""
    return engine().start_form(actor(), process_key) or EMPTY_FORM


def data_labels(instance: dict) -> dict[str, dict]:
    """{field: its ui entry (label, options, columns)} for an instance's data, in the order the forms
    ask; only the names the engine labels."""
    return instance.get("fields") or {}


def visible(value: object, ui: dict | None) -> bool:
    """Whether a value can be shown in words: a coded value (a DMN routing code) only by its label."""
    if ui is None:
        return False
    return not ui.get("coded") or value is None or isinstance(value, bool) or str(value) in (ui.get("options") or {})


def ordered(data: dict, labels: dict[str, dict]) -> list[tuple[str, object]]:
    """The data's labelled items in the forms' order; everything else is left out."""
    return [(k, data[k]) for k, ui in labels.items() if k in data and visible(data[k], ui)]


def describe(value: object, ui: dict | None, fields: dict[str, dict]) -> str:
    """A value as text for people; a record the engine keeps (the price list row a quotation used)
    by the labels of its parts, leaving out parts nothing labels."""
    if isinstance(value, dict):
        return "；".join(f"{localized(fields[k]['label'])}: {forms_render.show(v, fields[k])}"
                        for k, v in value.items() if k in fields and visible(v, fields[k]))
    return forms_render.show(value, ui)


@blueprint.app_template_global("person_name")
def person_name(username: str | None) -> str:
    """A login id's display name (the id itself for an unknown one); the engine's own actor is "System"."""
    if not username:
        return ""
    if username == SYSTEM:
        return gettext("System")
    if "display_names" not in g:
        g.display_names = engine().display_names()
    return g.display_names.get(username, username)
