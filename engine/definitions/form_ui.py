"""The shape of a form file's `fields` (what the pages read to draw the form), checked on upload.

The pages read each field's `label`, `widget`, `options` and `columns`; anything else would be ignored
without a word (a table's columns once sat under a key nothing read, and the page showed raw keys), and a
wrongly shaped value broke the pages only later, when an instance was shown. Both are refused here.
Each problem is (path in the file, English, Chinese).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

FORM_KEYS = ("key", "title", "schema", "fields", "messages")
FIELD_KEYS = ("name", "label", "widget", "options", "columns")
COLUMN_KEYS = ("name", "label", "widget")
WIDGETS = ("textarea", "table", "person")  # person: a field holding a login id, shown by display name
COLUMN_WIDGETS = ("person",)  # a login id, shown by the person's display name (pages never show login ids)

Found = tuple[list, str, str]


def _bilingual(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) for lang in ("zh", "en"))


def _unknown(path: list, where: tuple[str, str], keys: Any, known: tuple[str, ...]) -> Iterator[Found]:
    allowed = ", ".join(known)
    for name in keys:
        if name not in known:
            yield ([*path, name], f"{where[0]}: unknown key {name} (allowed: {allowed})",
                   f"{where[1]}：未知的键 {name}（可用：{allowed}）")


def _options(path: list, where: tuple[str, str], options: object, prop: dict) -> Iterator[Found]:
    if not isinstance(options, dict) or not all(_bilingual(text) for text in options.values()):
        yield (path, f"{where[0]}: options must map each value to its label in zh and en ({{value: {{zh: …, en: …}}}})",
               f"{where[1]}：options 须把每个取值映射到中英文标签（{{取值: {{zh: …, en: …}}}}）")
        return
    missing = [str(v) for v in prop.get("enum") or [] if str(v) not in {str(k) for k in options}]
    if missing:
        yield (path, f"{where[0]}: options lack a label for {', '.join(missing)}",
               f"{where[1]}：options 缺少取值 {'、'.join(missing)} 的标签")


def _columns(path: list, where: tuple[str, str], columns: object) -> Iterator[Found]:
    if not isinstance(columns, list):
        yield (path, f"{where[0]}: columns must be a list of {{name, label}}",
               f"{where[1]}：columns 须是 {{name, label}} 的列表")
        return
    for index, column in enumerate(columns):
        here = (f"{where[0]}, column {index + 1}", f"{where[1]} 第 {index + 1} 列")
        named = isinstance(column, dict) and isinstance(column.get("name"), str)
        if not named or not _bilingual(column.get("label")):
            yield ([*path, index], f"{here[0]}: needs a name and a label in zh and en",
                   f"{here[1]}：需要 name 和中英文 label")
        else:
            yield from _unknown([*path, index], here, column, COLUMN_KEYS)
            if "widget" in column and column["widget"] not in COLUMN_WIDGETS:
                yield ([*path, index, "widget"],
                       f"{here[0]}: unknown widget {column['widget']} (allowed: {', '.join(COLUMN_WIDGETS)})",
                       f"{here[1]}：未知的 widget {column['widget']}（可用：{', '.join(COLUMN_WIDGETS)}）")


def ui_problems(raw: dict) -> Iterator[Found]:
    """What is wrong with the shape of a form file's keys and its fields' display settings."""
    yield from _unknown([], ("the form", "表单"), raw, FORM_KEYS)
    props = (raw.get("schema") or {}).get("properties") or {} if isinstance(raw.get("schema"), dict) else {}
    for index, f in enumerate(raw.get("fields") if isinstance(raw.get("fields"), list) else []):
        if not isinstance(f, dict):
            continue
        where, path = (f"field {f.get('name', index)}", f"字段 {f.get('name', index)}"), ["fields", index]
        yield from _unknown(path, where, f, FIELD_KEYS)
        if "widget" in f and f["widget"] not in WIDGETS:
            yield ([*path, "widget"], f"{where[0]}: unknown widget {f['widget']} (allowed: {', '.join(WIDGETS)})",
                   f"{where[1]}：未知的 widget {f['widget']}（可用：{', '.join(WIDGETS)}）")
        if "options" in f:
            prop = props.get(f.get("name")) if isinstance(props.get(f.get("name")), dict) else {}
            yield from _options([*path, "options"], where, f["options"], prop)
        if "columns" in f:
            yield from _columns([*path, "columns"], where, f["columns"])
