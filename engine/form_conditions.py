"""Conditional fields: a field shown (and kept) only while a condition on other fields holds.

The condition is the form's own JSON Schema `if`/`then`, so that what is required and what is
shown can never disagree. An entry of the schema's `allOf` marked `x-hidden-otherwise: true`

    - if: {properties: {complaint_kind: {const: quality}}, required: [complaint_kind]}
      then: {required: [receipt_no, product]}
      x-hidden-otherwise: true

shows the fields its `then` names (in `required` or `properties`) only while the `if` holds.
Otherwise they are hidden: not required (the `then` does not apply) and not stored (the engine
drops whatever was sent for them, as a browser drops a hidden input). A field named by several
such entries is shown while any of them holds. The `if` is limited to what a page can evaluate
live without a schema library: `properties` whose subschemas are `const` or `enum`, plus
`required` naming exactly those fields (an empty field never satisfies it); the deploy check
(`condition_problems`) refuses anything else.
The server decides with jsonschema itself (`visible`), the page's script mirrors it
(webui/frontend/src/pages/form-fields.js) from `show_if`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

EnZh = tuple[str, str]  # a problem for the modeller in (English, Chinese), as in engine/definitions/lint.py

HIDDEN_OTHERWISE = "x-hidden-otherwise"

Condition = dict[str, list[Any]]  # field -> the values that satisfy it (all fields must match)


def _blocks(schema: dict) -> Iterator[tuple[int, dict]]:
    for index, entry in enumerate(schema.get("allOf") or []):
        if isinstance(entry, dict) and entry.get(HIDDEN_OTHERWISE) is True:
            yield index, entry


def _named(then: object) -> list[str]:
    if not isinstance(then, dict):
        return []
    names = list(then.get("required") or [])
    names += [n for n in (then.get("properties") or {}) if n not in names]
    return [n for n in names if isinstance(n, str)]


def _condition(when: dict) -> Condition:
    result: Condition = {}
    for name, sub in (when.get("properties") or {}).items():
        result[name] = [sub["const"]] if "const" in sub else list(sub["enum"])
    return result


def show_if(schema: dict) -> dict[str, list[Condition]]:
    """Field -> the conditions under which it is shown (any of them); fields not listed are always shown."""
    result: dict[str, list[Condition]] = {}
    for _index, entry in _blocks(schema):
        for name in _named(entry.get("then")):
            result.setdefault(name, []).append(_condition(entry["if"]))
    return result


def required_when_shown(schema: dict) -> set[str]:
    """The conditional fields a `then` requires: required whenever they are shown (the page marks them so)."""
    return {n for _i, entry in _blocks(schema) if isinstance(entry.get("then"), dict)
            for n in entry["then"].get("required") or [] if isinstance(n, str)}


def visible(schema: dict, data: dict) -> set[str]:
    """The form's fields shown for this data. A field hidden by its condition counts as empty for the
    conditions of others (a fine hidden with its penalty hides nothing more), so this repeats until stable."""
    props = set((schema.get("properties") or {}).keys())
    rules = [(Draft202012Validator(entry["if"]), _named(entry.get("then"))) for _i, entry in _blocks(schema)]
    controlled = {name for _v, names in rules for name in names}
    hidden: set[str] = set()
    while True:
        current = {k: v for k, v in data.items() if k not in hidden}
        shown = {name for check, names in rules if check.is_valid(current) for name in names}
        now_hidden = controlled - shown
        if now_hidden == hidden:
            return props - hidden
        hidden = now_hidden


def drop_hidden(schema: dict, data: dict) -> dict:
    """The data without the fields its own values hide (what is not shown is not stored)."""
    if not any(True for _ in _blocks(schema)):
        return data
    shown = visible(schema, data)
    props = schema.get("properties") or {}
    return {k: v for k, v in data.items() if k in shown or k not in props}


def condition_problems(schema: dict) -> list[tuple[tuple, EnZh]]:
    """Why an `x-hidden-otherwise` entry cannot work: [(path in the schema, (English, Chinese))]; deploy
    refuses them."""
    problems: list[tuple[tuple, EnZh]] = []
    props = schema.get("properties") or {}
    for index, entry in enumerate(schema.get("allOf") or []):
        if not isinstance(entry, dict) or HIDDEN_OTHERWISE not in entry:
            continue
        where = ("allOf", index)
        if entry[HIDDEN_OTHERWISE] is not True:
            problems.append(((*where, HIDDEN_OTHERWISE),
                             (f"{HIDDEN_OTHERWISE} must be true", f"{HIDDEN_OTHERWISE} 只能是 true")))
            continue
        problems += [((*where, *path), message) for path, message in _if_problems(entry.get("if"), props)]
        named = _named(entry.get("then"))
        if not named:
            problems.append(((*where, "then"), (f"{HIDDEN_OTHERWISE} needs a `then` naming the fields it shows",
                                                 f"{HIDDEN_OTHERWISE} 需要一个 `then`，列出它显示的字段")))
        required = set(schema.get("required") or [])
        for name in named:
            if name not in props:
                problems.append(((*where, "then"), (f"the field {name} that `then` shows is not a property of the form",
                                                     f"`then` 显示的字段 {name} 不是本表单的属性")))
            elif name in required:
                problems.append(((*where, "then"), (f"the field {name} is always required, so it cannot be hidden",
                                                     f"字段 {name} 始终必填，因此不能被隐藏")))
        if "else" in entry:
            problems.append(((*where, "else"), (f"an entry with {HIDDEN_OTHERWISE} has no `else`",
                                                f"带 {HIDDEN_OTHERWISE} 的条目不能有 `else`")))
    for index, entry in enumerate(schema.get("allOf") or []):
        own = set(_named(entry.get("then"))) if isinstance(entry, dict) else set()
        for name in _condition_fields(entry) & own:
            problems.append((("allOf", index, "if"), (f"the field {name} cannot decide whether it is shown itself",
                                                         f"字段 {name} 不能决定它自己是否显示")))
    return problems


def _condition_fields(entry: object) -> set[str]:
    if not isinstance(entry, dict) or entry.get(HIDDEN_OTHERWISE) is not True or not isinstance(entry.get("if"), dict):
        return set()
    return set(entry["if"].get("properties") or {})


def _if_problems(when: object, props: dict) -> list[tuple[tuple, EnZh]]:
    plain = ("properties with `const` or `enum` (and `required` naming them)",
             "用 `const` 或 `enum` 判断的 properties（并在 `required` 中列出它们）")
    only = (f"with {HIDDEN_OTHERWISE} the `if` may only test {plain[0]}",
            f"带 {HIDDEN_OTHERWISE} 时，`if` 只能判断{plain[1]}")
    if not isinstance(when, dict) or not isinstance(when.get("properties"), dict) or not when["properties"]:
        return [(("if",), only)]
    problems: list[tuple[tuple, EnZh]] = []
    if set(when) - {"properties", "required"}:
        problems.append((("if",), only))
    for name, sub in when["properties"].items():
        if name not in props:
            problems.append((("if", "properties", name), (f"the `if` tests {name}, which is not a field of the form",
                                                          f"`if` 判断的 {name} 不是本表单的字段")))
        elif not isinstance(sub, dict) or set(sub) not in ({"const"}, {"enum"}) \
                or ("enum" in sub and not isinstance(sub["enum"], list)):
            problems.append((("if", "properties", name), (f"the `if` may test {name} only with `const` or `enum`",
                                                          f"`if` 只能用 `const` 或 `enum` 判断 {name}")))
    if set(when.get("required") or []) != set(when["properties"]):
        problems.append((("if", "required"), ("the `if` must require exactly the fields it tests "
                                              "(else an empty field would satisfy it)",
                                              "`if` 的 `required` 必须恰好列出它判断的字段（否则空字段也会满足条件）")))
    return problems
