"""Forms as data for display: a process's start form, and field labels for an instance's data."""

from __future__ import annotations

from webui import forms_render
from webui.context import engine
from webui.pages.common import actor

EMPTY_FORM: dict = {"schema": {}, "ui": {}}


def start_form(process_key: str) -> dict:
    """The start form {key, title, schema, ui} of the latest version, as the engine gives it."""
    return engine().start_form(actor(), process_key) or EMPTY_FORM


def _start_form_key(process_key: str) -> str | None:
    return next((p.get("start_form") for p in engine().processes() if p["key"] == process_key), None)


def data_labels(instance: dict) -> dict[str, dict]:
    """{field: its ui entry (label, options, columns)} for an instance's data, in the order the forms ask.

    A field that several steps write (an approval's comment) gets the label of the last finished
    step that has it, since that step wrote the value shown."""
    forms = instance.get("forms") or {}
    labels = dict(forms_render.labels_of(forms.get(_start_form_key(instance["process_key"]) or "")))
    finished = [t for t in instance["history_tasks"] if t["status"] == "completed"]
    for position, task in enumerate(finished + instance["tasks"]):
        for name, ui in forms_render.labels_of(forms.get(task.get("form_key") or "")).items():
            if position < len(finished) or name not in labels:
                labels[name] = ui
    return labels


def ordered(data: dict, labels: dict[str, dict]) -> list[tuple[str, object]]:
    """The data's items: the forms' fields in their order first, then the rest by name."""
    known = [(k, data[k]) for k in labels if k in data]
    return known + sorted((k, v) for k, v in data.items() if k not in labels)
