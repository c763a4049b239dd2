"""POST /deployments: validate a bundle of BPMN, DMN and form files and deploy it, all or nothing (with
rule-change governance on: drafts of one request for the general manager, 202)."""

from __future__ import annotations

from flask import Response, jsonify

from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import DefinitionError, InvalidData, Problem
from webui.api import blueprint, shapes
from webui.api.body import REQUIRED, actor, field, json_object, raise_if, unstorable
from webui.context import engine

MAX_NAME = 255  # the longest file name the database keeps
NOT_A_FILE = {"zh": "每个文件须为 {name, content} 对象：name 为 1-255 个字符，content 为文本（均不含 NUL 字符）",
              "en": "Each file must be an object {name, content}: a name of 1-255 characters and text content, "
                    "neither with a NUL character"}

NOT_KEYS = {"zh": "replace 须为流程标识（文本）的列表", "en": "replace must be a list of process ids (texts)"}


def _files(body: dict) -> list[SourceFile]:
    errors: dict = {}
    items = field(body, "files", list, errors=errors)
    field(body, "note", str, required=False, errors=errors)
    field(body, "emergency", bool, required=False, errors=errors)
    field(body, "reason", str, required=False, errors=errors)
    replace = field(body, "replace", list, required=False, errors=errors)
    if replace is not None and not all(isinstance(k, str) for k in replace):
        errors["replace"] = NOT_KEYS
    raise_if(errors)
    if not items:
        raise InvalidData("files: at least one file is needed", {"files": REQUIRED})
    bad = [i for i, f in enumerate(items) if not _is_file(f)]
    if bad:
        raise InvalidData(f"files {bad} are not {{name, content}} objects",
                          {f"files[{i}]": NOT_A_FILE for i in bad})
    unknown = [Problem(f["name"], "not a .bpmn, .dmn or form (.yaml) file", zh="不是 .bpmn、.dmn 或表单（.yaml）文件")
               for f in items if _kind(f["name"]) is None]
    if unknown:
        raise DefinitionError(unknown)
    return [SourceFile(f["name"], _kind(f["name"]), f["content"].encode("utf-8")) for f in items]


def _is_file(item: object) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("name"), str) and 0 < len(item["name"]) <= MAX_NAME
            and isinstance(item.get("content"), str) and not unstorable(item["name"])
            and not unstorable(item["content"]))


def _kind(name: str) -> str | None:
    """The kind the file's extension names (.bpmn, .dmn, .yaml/.yml), as the engine reads folders."""
    dot = name.rfind(".")
    return KINDS.get(name[dot:].lower()) if dot >= 0 else None


@blueprint.post("/deployments")
def deploy() -> tuple[Response, int]:
    who = actor()
    body = json_object()
    files = _files(body)
    deployed = engine().deploy(who, files=files, note=body.get("note") or "", emergency=body.get("emergency") is True,
                               reason=body.get("reason") or "", replace=body.get("replace") or ())
    drafted = any(d.status == "draft" for d in deployed)  # accepted, in force once the general manager approves
    return jsonify([shapes.deployed(d) for d in deployed]), 202 if drafted else 201
