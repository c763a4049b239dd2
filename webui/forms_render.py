"""A form's JSON Schema and `ui.fields` as HTML widgets, and a posted HTML form back as JSON data.

The engine validates; this module only converts. Text that does not parse as the field's
type is passed on unchanged, so the engine reports it beside the field and the page shows
the user's own input again.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from engine import form_conditions, form_prefill
from engine.forms import filled_fields
from webui.i18n import localized

PREFIX = "data."
ADD_ROW = "_add_row"  # a submit button's name: add a blank row to a table instead of submitting


@dataclass
class Widget:
    name: str
    label: str
    kind: str  # text, textarea, number, integer, date, boolean, confirm, select, table, lines, filled, readonly
    required: bool = False
    value: Any = ""  # the text shown; for a table a list of {column: text}
    options: list[tuple[str, str]] = field(default_factory=list)
    columns: list[Widget] = field(default_factory=list)
    error: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    show_if: str = ""  # JSON for the page's script: [{field: [values]}], shown while any holds
    hidden: bool = False  # hidden by its condition for the values shown now

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def dom_id(self) -> str:
        return "field-" + self.name


def _kind(schema: dict, ui: dict) -> str:
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") or {}
        return "table" if items.get("type") == "object" or ui.get("widget") == "table" else "lines"
    if "enum" in schema:
        return "select"
    if kind == "boolean":
        return "confirm" if schema.get("const") is True else "boolean"
    if kind in ("number", "integer"):
        return kind
    if kind == "string" and schema.get("format") == "date":
        return "date"
    if ui.get("widget") == "textarea":
        return "textarea"
    return "text"


def _attrs(schema: dict, kind: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if kind in ("text", "textarea") and "maxLength" in schema:
        attrs["maxlength"] = schema["maxLength"]
    if kind in ("number", "integer"):
        attrs["step"] = "1" if kind == "integer" else "any"
        if "minimum" in schema:
            attrs["min"] = schema["minimum"]
        if "maximum" in schema:
            attrs["max"] = schema["maximum"]
    return attrs


def _options(schema: dict, ui: dict) -> list[tuple[str, str]]:
    labels = ui.get("options") or {}
    return [(text_of(v), localized(labels.get(str(v))) or text_of(v)) for v in schema.get("enum", [])]


def _ui_fields(form: dict) -> list[dict]:
    """`ui.fields` in their order, then any schema property the ui does not list."""
    props = (form.get("schema") or {}).get("properties") or {}
    fields = [f for f in (form.get("ui") or {}).get("fields") or [] if f.get("name") in props]
    listed = {f["name"] for f in fields}
    return fields + [{"name": n, "label": {"zh": n, "en": n}} for n in props if n not in listed]


def _columns(schema: dict, ui: dict) -> list[Widget]:
    item = schema.get("items") or {}
    props = item.get("properties") or {}
    required = set(item.get("required") or [])
    columns = [c for c in ui.get("columns") or [] if c.get("name") in props]
    listed = {c["name"] for c in columns}
    columns += [{"name": n, "label": {"zh": n, "en": n}} for n in props if n not in listed]
    result = []
    for col in columns:
        sub = props[col["name"]]
        kind = _kind(sub, col)
        kind = "text" if kind in ("table", "lines") else kind
        result.append(Widget(col["name"], localized(col.get("label")) or col["name"], kind, col["name"] in required,
                             options=_options(sub, col), attrs=_attrs(sub, kind)))
    return result


def text_of(value: Any) -> str:
    """A JSON value as the text an input shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def initial_values(form: dict, data: dict | None = None) -> dict[str, Any]:
    """The texts to show before the first submit: the given data (a task's prefilled values, which the
    engine decides), else the schema's defaults."""
    data = data or {}
    props = (form.get("schema") or {}).get("properties") or {}
    values: dict[str, Any] = {}
    for name, schema in props.items():
        value = data.get(name, schema.get("default"))
        if schema.get("type") == "array":
            items = value if isinstance(value, list) else []
            if (schema.get("items") or {}).get("type") == "object":
                values[name] = [{k: text_of(v) for k, v in row.items()} for row in items if isinstance(row, dict)]
            else:
                values[name] = "\n".join(text_of(v) for v in items)
        else:
            values[name] = text_of(value)
    return values


def locked_fields(form: dict, initial: dict | None) -> set[str]:
    """The read-only fields the engine prefilled (`initial` is a task's `initial_data`): shown, not posted."""
    return form_prefill.read_only(form.get("schema") or {}) & set(initial or {})


def _hidden_now(form: dict, values: dict[str, Any]) -> set[str]:
    """The conditional fields hidden for the shown texts (the script keeps this up to date as people type)."""
    schema = form.get("schema") or {}
    if not form_conditions.show_if(schema):
        return set()
    data = {n: _convert(v, p) for n, p in (schema.get("properties") or {}).items()
            if isinstance(v := values.get(n), str) and v.strip()}
    return set(schema.get("properties") or {}) - form_conditions.visible(schema, data)


def _show_if(conditions: list[dict[str, list]]) -> str:
    return json.dumps([{name: [text_of(v) for v in allowed] for name, allowed in c.items()} for c in conditions],
                      ensure_ascii=False) if conditions else ""


def widgets(form: dict, values: dict[str, Any], errors: dict[str, Any] | None = None,
            extra_rows: dict[str, int] | None = None, locked: set[str] | None = None) -> list[Widget]:
    """One widget per field in the form's order, holding the shown text and its localized error.
    `locked` fields (read-only, prefilled by the engine) show their value and post nothing."""
    errors, extra_rows, locked = errors or {}, extra_rows or {}, locked or set()
    schema = form.get("schema") or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or []) | form_conditions.required_when_shown(schema)
    filled = filled_fields(schema)
    conditions, hidden = form_conditions.show_if(schema), _hidden_now(form, values)
    result = []
    for ui in _ui_fields(form):
        name, sub = ui["name"], props[ui["name"]]
        kind = "filled" if name in filled else "readonly" if name in locked else _kind(sub, ui)
        error = errors.get(name)
        value = values.get(name, [] if kind == "table" else "")
        if kind == "readonly":
            value = show(value, ui)
        widget = Widget(name, localized(ui.get("label")) or name, kind, name in required,
                        value=value, error=localized(error) if error else None, attrs=_attrs(sub, kind),
                        show_if=_show_if(conditions.get(name, [])), hidden=name in hidden and not error)
        if kind == "select":
            widget.options = _options(sub, ui)
        if kind == "table":
            widget.columns = _columns(sub, ui)
            rows = list(widget.value) if isinstance(widget.value, list) else []
            blanks = 1 + extra_rows.get(name, 0) if len(rows) < sub.get("maxItems", 1000) else 0
            widget.value = rows + [{} for _ in range(blanks)]
        result.append(widget)
    return result


# -- posted form -> data ---------------------------------------------------------------------------


# A number as people type it in these forms: ASCII digits, an optional sign, decimal point and
# exponent, thousands separated by commas. Anything else (full-width digits, "1_000", "inf",
# "0x10") stays text, and the engine's form check names the field (forms.HALF_WIDTH for
# full-width digits). Whole numbers are read with int(), never through a float, so
# 12345678901234567891 reaches the engine as typed and is refused there as out of range
# instead of being silently rounded.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _number(text: str, kind: str) -> int | float | str:
    plain = text.replace(",", "")
    if not plain.isascii() or not _NUMBER.fullmatch(plain):
        return text
    if _WHOLE.fullmatch(plain) and len(plain) <= 30:  # longer: out of range, read below as a float
        return int(plain)
    number = float(plain)  # 1e400 is infinity: the engine says "must be a finite number"
    if math.isfinite(number) and number.is_integer() and ("." not in plain or kind == "integer"):
        return int(number)  # 1e3 is 1000; a float this large is refused as out of range anyway
    return text if kind == "integer" else number


def _convert(text: str, schema: dict) -> Any:
    """The JSON value for a text; the text itself when it does not parse (the engine then names the field)."""
    kind = schema.get("type")
    if "enum" in schema:
        return next((v for v in schema["enum"] if text_of(v) == text), text)
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if kind in ("number", "integer"):
        return _number(text, kind)
    return text


def _rows(posted: MultiDict, name: str, schema: dict) -> tuple[list[dict], list[dict[str, str]]]:
    """Table rows posted as data.<name>.<row>.<column>; rows left entirely blank are dropped."""
    props = (schema.get("items") or {}).get("properties") or {}
    found: dict[int, dict[str, str]] = {}
    head = f"{PREFIX}{name}."
    for key in posted:
        if not key.startswith(head):
            continue
        index, _dot, column = key[len(head):].partition(".")
        if index.isascii() and index.isdigit() and len(index) <= 6 and column in props:
            found.setdefault(int(index), {})[column] = posted.get(key, "").strip()
    texts = [row for _i, row in sorted(found.items()) if any(row.values())]
    data = [{c: _convert(t, props[c]) for c, t in row.items() if t != ""} for row in texts]
    return data, texts


def parse(form: dict, posted: MultiDict, locked: set[str] | None = None) -> tuple[dict, dict[str, Any]]:
    """(data for the engine, the texts to show again). Blank fields are left out of the data, and so are
    `locked` ones (read-only: the engine keeps the case's value whatever is sent)."""
    props = (form.get("schema") or {}).get("properties") or {}
    filled = filled_fields(form.get("schema") or {}) | (locked or set())
    data: dict[str, Any] = {}
    texts: dict[str, Any] = {}
    for name, schema in props.items():
        if name in filled:  # the engine fills it in; nobody types it
            continue
        if schema.get("type") == "array":
            items = schema.get("items") or {}
            if items.get("type") == "object":
                rows, texts[name] = _rows(posted, name, schema)
                if rows:
                    data[name] = rows
            else:
                text = posted.get(PREFIX + name, "")
                texts[name] = text
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                if lines:
                    data[name] = [_convert(line, items) for line in lines]
            continue
        text = posted.get(PREFIX + name, "")
        texts[name] = text
        stripped = text.strip()
        if stripped == "":
            continue
        data[name] = _convert(stripped, schema)
    return data, texts


def rows_to_add(posted: MultiDict) -> dict[str, int]:
    """{table: 1} when the user pressed a table's "add a row" button."""
    name = posted.get(ADD_ROW)
    return {name: 1} if name else {}


# -- read-only display ---------------------------------------------------------------------------------


def show(value: Any, ui: dict | None = None) -> str:
    """A stored value as text for people: yes/no, option labels, lists joined."""
    ui = ui or {}
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return ""
    if ui.get("widget") == "person" and isinstance(value, str):  # a login id in a table: the person's name
        from webui.pages.labels import person_name  # the pages' one lookup per request (imports this module)

        return person_name(value)
    options = ui.get("options") or {}
    if str(value) in options:
        return localized(options[str(value)])
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return " | ".join(_row(row, ui) for row in value if isinstance(row, dict))
    if isinstance(value, list):
        return "、".join(show(v) for v in value)
    if isinstance(value, dict):  # a record the engine keeps, such as the price list row a quotation used
        return "；".join(f"{k}: {show(v)}" for k, v in value.items())
    return str(value)


def _row(row: dict, ui: dict) -> str:
    """One row of a table field by its columns' labels; a part no column labels is left out (no raw names)."""
    columns = {c["name"]: c for c in ui.get("columns") or [] if isinstance(c, dict) and c.get("name")}
    return "；".join(f"{localized(columns[k].get('label')) or ''}: {show(v, columns[k])}"
                    for k, v in row.items() if k in columns)


def labels_of(form: dict | None) -> dict[str, dict]:
    """{field: its ui entry} of a form, to show earlier data with this form's labels where they match."""
    if not form:
        return {}
    return {f["name"]: f for f in (form.get("ui") or {}).get("fields") or [] if "name" in f}
