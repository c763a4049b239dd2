"""Reading a form file (forms/<key>.yaml) and locating its problems by line."""

from __future__ import annotations

import functools
import json
from typing import Any

import yaml
from jsonschema.exceptions import SchemaError

from engine.definitions.form_ui import ui_problems
from engine.errors import Problem
from engine.forms import FormDef, keyword_problems, schema_validator


def _line(root: yaml.Node | None, path: list[Any]) -> int | None:
    """The 1-based line of the node at `path` (mapping keys / list indexes), or of its nearest parent."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


MAX_FORM_CHARS = 256 * 1024  # a form's content as JSON; the largest form in forms/ is about 6,000


_ALIASES = ("anchors and aliases (&name, *name) are not allowed in a form file: write the value out",
            "表单文件中不允许使用锚点和别名（&name、*name）：请把值完整写出")


class FormTooLarge(yaml.YAMLError):
    """The form is larger than MAX_FORM_CHARS once read."""

    def __init__(self) -> None:
        super().__init__(f"the form is larger than {MAX_FORM_CHARS:,} characters")
        self.zh = f"表单过大：读取后超过 {MAX_FORM_CHARS:,} 个字符"


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML's wheels bundle libyaml


def _refuse_aliases(root: yaml.Node | None) -> None:
    """YAML without aliases: `*a` repeats a node without writing it out again, so nested aliases turn
    a few hundred bytes into a hundred million characters (a "billion laughs"). A form never needs them.
    libyaml composes an alias as the anchored node itself, so a node met twice is an alias: refused where
    it is used, before anything is constructed."""
    seen: set[int] = set()
    stack = [(root, root)] if root is not None else []
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            raise yaml.composer.ComposerError(None, None, _ALIASES[0], where.start_mark)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack += [(child, key) for key, value in node.value for child in (key, value)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(child, node) for child in node.value]


def read_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The document and its node tree (for line numbers); yaml.YAMLError when it is not a plain form
    file: not YAML, aliases, or larger than MAX_FORM_CHARS once read. The one way a form's YAML is read
    (with libyaml: ten times faster than PyYAML's pure-Python parser, which deploys felt)."""
    loader = _LOADER(text)
    try:
        root = loader.get_single_node()
        _refuse_aliases(root)
        raw = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    if len(json.dumps(raw, ensure_ascii=False, default=str)) > MAX_FORM_CHARS:
        raise FormTooLarge
    return raw, root


@functools.lru_cache(maxsize=1024)
def load_form(text: str, filename: str) -> tuple[FormDef | None, list[Problem], str | None]:
    """The form, or the problems that make it unusable; the key is returned whenever it can be read.
    A pure function of the text, kept for the next compile: the modeler checks the whole bundle on every
    edit, and checking a form's schema against JSON Schema's own is the slowest part of a compile. The
    result is shared: read it, never change it."""
    try:
        raw, root = read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        if isinstance(exc, FormTooLarge):
            return None, [Problem(filename, str(exc), line=line, zh=exc.zh)], None
        if getattr(exc, "problem", None) == _ALIASES[0]:
            return None, [Problem(filename, f"not valid YAML: {exc}", line=line, zh=f"YAML 无效：{_ALIASES[1]}")], None
        # PyYAML's own wording names the place; it has no Chinese, so the Chinese text quotes it
        return None, [Problem(filename, f"not valid YAML: {exc}", line=line, zh=f"不是有效的 YAML：{exc}")], None
    if not isinstance(raw, dict):
        message = "a form file must be a mapping with key, title, schema and fields"
        zh = "表单文件必须是包含 key、title、schema 和 fields 的映射"
        return None, [Problem(filename, message, line=1, zh=zh)], None
    key = raw.get("key") if isinstance(raw.get("key"), str) else None
    problems = _problems(raw, root, filename)
    return (None if problems else FormDef.from_dict(raw)), problems, key


def _problems(raw: dict, root: yaml.Node, filename: str) -> list[Problem]:
    missing = [k for k in ("key", "title", "schema", "fields") if k not in raw]
    if missing:
        return [Problem(filename, f"missing {', '.join(missing)}", raw.get("key"), 1,
                        zh=f"缺少 {'、'.join(missing)}")]
    key = raw["key"]
    try:
        schema_validator().check_schema(raw["schema"])
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.path) or "(top)"
        return [Problem(filename, f"schema is not valid JSON Schema at schema.{where}: {exc.message}", key,
                        _line(root, ["schema", *exc.path]),
                        zh=f"schema.{where} 处不是有效的 JSON Schema：{exc.message}")]
    problems = [Problem(filename, en, key, _line(root, ["schema", *path]), zh=zh)
                for path, (en, zh) in keyword_problems(raw["schema"])]
    problems += [Problem(filename, en, key, _line(root, path), zh=zh) for path, en, zh in ui_problems(raw)]
    props = set((raw["schema"].get("properties") or {}).keys())
    fields = raw["fields"] if isinstance(raw["fields"], list) else []
    names = [f.get("name") for f in fields if isinstance(f, dict)]
    for name in sorted(props - set(names)):
        problems.append(Problem(filename, f"schema property {name} is missing from fields", key,
                                _line(root, ["schema", "properties", name]), zh=f"schema 的属性 {name} 不在 fields 中"))
    for index, name in enumerate(names):
        if name not in props:
            problems.append(Problem(filename, f"field {name} is not a schema property", key,
                                    _line(root, ["fields", index]), zh=f"字段 {name} 不是 schema 的属性"))
        elif names.count(name) > 1 and names.index(name) != index:
            problems.append(Problem(filename, f"field {name} is listed twice", key, _line(root, ["fields", index]),
                                    zh=f"字段 {name} 在 fields 中出现了两次"))
    for index, f in enumerate(fields):
        if not isinstance(f, dict) or not {"zh", "en"} <= set((f.get("label") or {}).keys()):
            name = f.get("name") if isinstance(f, dict) else index
            problems.append(Problem(filename, f"field {name} needs a label in zh and en", key,
                                    _line(root, ["fields", index]),
                                    zh=f"字段 {name} 需要中文（zh）和英文（en）两种 label"))
    return problems
