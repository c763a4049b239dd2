"""Prefilled fields: a task form's field that starts with a value from the instance's data.

`x-prefill: <data name>` on a property of a task form gives the field the instance's value of that
name when the task is shown (the engine decides: `initial_values`, which the page and the API's task
show). With `readOnly: true` as well the field is context: shown, never typed, and whatever is
posted for it the engine keeps the instance's value (`keep_read_only`); a field named like its
source is then left out of the completed event (`without_kept`: the case holds it already).
A case that does not hold the value gets the field as an ordinary input (`locked` names the
fields that are read-only for a case). A start form has no earlier data: the lint refuses
`x-prefill` there, and one naming a name nothing else in the process sets (engine.definitions.lint).
"""

from __future__ import annotations

import copy
from typing import Any

EnZh = tuple[str, str]  # a problem for the modeller in (English, Chinese), as in engine/definitions/lint.py

PREFILL = "x-prefill"
READ_ONLY = "readOnly"


def sources(schema: dict) -> dict[str, str]:
    """Field -> the data name it is prefilled from."""
    return {name: prop[PREFILL] for name, prop in (schema.get("properties") or {}).items()
            if isinstance(prop, dict) and isinstance(prop.get(PREFILL), str)}


def read_only(schema: dict) -> set[str]:
    """The fields a person never changes: prefilled and `readOnly: true`."""
    props = schema.get("properties") or {}
    return {name for name in sources(schema) if props[name].get(READ_ONLY) is True}


def initial_values(schema: dict, instance_data: dict | None) -> dict[str, Any]:
    """The prefilled fields' values from the instance's data (a name the data lacks is left out)."""
    data = instance_data or {}
    return {field: copy.deepcopy(data[source]) for field, source in sources(schema).items() if source in data}


def locked(schema: dict, instance_data: dict | None) -> set[str]:
    """The read-only fields this case holds a value for. One it does not hold (a complaint that came from an
    after-sales case without the goods' details) is asked like any other field: somebody has to give it."""
    data = instance_data or {}
    return {name for name in read_only(schema) if sources(schema)[name] in data}


def keep_read_only(schema: dict, data: dict, instance_data: dict | None) -> dict:
    """The posted data with every locked field set to the instance's value, whatever was sent for it."""
    fixed = locked(schema, instance_data)
    if not fixed:
        return data
    initial = initial_values(schema, instance_data)
    return {**{k: v for k, v in data.items() if k not in fixed}, **{name: initial[name] for name in fixed}}


def without_kept(schema: dict, data: dict, instance_data: dict | None) -> dict:
    """The checked data without the locked fields that hold the instance's value under the same name: the case
    already holds them, so the completed event records only what the person gave (the form still required them)."""
    same = {name for name in locked(schema, instance_data) if sources(schema)[name] == name}
    return {k: v for k, v in data.items() if k not in same}


def prefill_problems(schema: dict) -> list[tuple[tuple, EnZh]]:
    """Malformed prefill keywords: [(path in the schema, (English, Chinese))]; deploy refuses them."""
    problems: list[tuple[tuple, EnZh]] = []
    props = schema.get("properties") or {}
    for path in _keyword_paths(schema, PREFILL):
        if len(path) != 2 or path[0] != "properties":
            problems.append(((*path, PREFILL), (f"{PREFILL} belongs on a property of the form itself",
                                                     f"{PREFILL} 只能写在表单自身的属性上（properties.<name>）")))
    for name, prop in props.items():
        if not isinstance(prop, dict):
            continue
        source = prop.get(PREFILL)
        if PREFILL in prop and (not isinstance(source, str) or not source.isidentifier() or source.startswith("_")):
            problems.append((("properties", name, PREFILL), (f"{PREFILL} must name a data name, not {source!r}",
                                                               f"{PREFILL} 必须写一个数据名，而不是 {source!r}")))
        if READ_ONLY in prop and not isinstance(prop[READ_ONLY], bool):
            problems.append((("properties", name, READ_ONLY), (f"{READ_ONLY} must be true or false",
                                                                f"{READ_ONLY} 只能是 true 或 false")))
        elif prop.get(READ_ONLY) is True and PREFILL not in prop:
            problems.append((("properties", name, READ_ONLY),
                             (f"the read-only field {name} needs {PREFILL}: nothing else could fill it",
                              f"只读字段 {name} 需要 {PREFILL}：否则没有任何途径能填写它")))
    return problems


def _keyword_paths(value: Any, keyword: str, path: tuple = ()) -> list[tuple]:
    found: list[tuple] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == keyword:
                found.append(path)
            found += _keyword_paths(sub, keyword, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _keyword_paths(sub, keyword, (*path, index))
    return found
