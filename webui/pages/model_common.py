"""What the process owners' pages share: the gate, JSON answers, files posted by the modeler.

The engine decides every right: its lint, deploy, versions and migration calls refuse anyone
who is not a process owner or an admin. The gate below only spares other users a page whose
every part they would be refused (the same rule as the engine's, for a clean 403 page).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, jsonify
from flask_login import current_user

from engine.definitions.bundle import SourceFile
from engine.errors import DefinitionError, Forbidden, InvalidData, Problem, SalesflowError
from engine.runtime.access import holds_owner_role
from webui.api.body import json_object
from webui.i18n import localized
from webui.pages import blueprint
from webui.pages.common import error_text

KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".yaml": "form", ".yml": "form"}
MAX_NAME = 255


def is_owner() -> bool:
    return current_user.is_authenticated and holds_owner_role(current_user.roles)


def require_owner() -> None:
    if not is_owner():
        raise Forbidden(f"{current_user.username} is not a process owner")


def kind_of(name: str) -> str | None:
    """bpmn, dmn or form by the file name's extension, as the engine reads folders."""
    dot = name.rfind(".")
    return KINDS.get(name[dot:].lower()) if dot > 0 else None


def problem_dicts(exc: DefinitionError) -> list[dict]:
    """A refused bundle's problems in the shape Engine.lint gives (every one of them blocks: an error)."""
    return [{"file": p.file, "element": p.element, "line": p.line, "message": localized(p.messages()),
             "severity": "error"} for p in exc.problems]


def error_json(exc: SalesflowError) -> tuple[Response, int]:
    reason = getattr(exc, "reason", None)  # an engine refusal that says why in both languages (a pending change)
    message = localized(reason) if isinstance(reason, dict) else error_text(exc)
    body: dict[str, Any] = {"error": exc.code, "message": message, "detail": str(exc)}
    if isinstance(exc, DefinitionError):
        body["problems"] = problem_dicts(exc)
    if isinstance(exc, InvalidData) and exc.fields:
        body["fields"] = exc.fields
    return jsonify(body), exc.status


def json_route(view: Callable[..., Any]) -> Callable[..., Any]:
    """A JSON endpoint of the modeler: 401 without a session, engine errors as {error, message, ...}."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return jsonify(error="unauthorized", message="log in first"), 401
        try:
            require_owner()
            return view(*args, **kwargs)
        except SalesflowError as exc:
            return error_json(exc)

    return wrapper


def posted_files(body: Any) -> list[SourceFile]:
    """The files of a JSON body {files: [{name, content}]}: names with a known extension, text content."""
    items = body.get("files") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidData("files: a list of {name, content} is needed",
                          {"files": {"zh": "请提供文件列表", "en": "A list of files is needed"}})
    files = []
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        content = item.get("content") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(content, str) or not 0 < len(name) <= MAX_NAME:
            raise InvalidData(f"files[{i}] is not a {{name, content}} object",
                              {f"files[{i}]": {"zh": "文件须有名称和文本内容",
                                               "en": "A file needs a name and text content"}})
        files.append(SourceFile(name, kind_of(name) or "unknown", content.encode("utf-8")))
    unknown = [f for f in files if f.kind == "unknown"]
    if unknown:
        raise DefinitionError([Problem(f.name, "not a .bpmn, .dmn or form (.yaml) file",
                                       zh="不是 .bpmn、.dmn 或表单（.yaml）文件") for f in unknown])
    return files


def json_body() -> dict:
    """The body of a modeler request, read like every JSON POST of the API (webui/api/body.py)."""
    return json_object()


@blueprint.context_processor
def _model_nav() -> dict:
    """base.html shows the process models link to process owners (the pages behind it check again)."""
    return {"may_model": is_owner}
