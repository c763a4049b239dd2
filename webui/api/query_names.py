"""Query parameters an operation does not declare are refused (422, the name in `fields`).

A misspelt filter (`?form=2026-03-01` for `from`, `?costumer=` for `customer`) would otherwise be
ignored, and the answer — every instance, the whole year's KPI figures — would look like the filtered
one. The names each operation takes come from the OpenAPI document (webui/api/openapi.py), the one
place they are defined.
"""

from __future__ import annotations

import re
from functools import cache

from flask import request

from engine.errors import InvalidData
from webui.api import PREFIX, blueprint, openapi
from webui.auth import api_actor

_PATH_VARIABLE = re.compile(r"\{[^}]+\}")
_RULE_VARIABLE = re.compile(r"<[^>]+>")


@cache
def declared() -> dict[tuple[str, str], tuple[frozenset[str], bool]]:
    """(method, path with `{}` for each variable) -> (the query names it takes, whether it is public)."""
    found = {}
    for path, operations in openapi.document()["paths"].items():
        for method, op in operations.items():
            names = frozenset(p["name"] for p in op.get("parameters", ()) if p["in"] == "query")
            found[(method.upper(), _PATH_VARIABLE.sub("{}", path))] = (names, op.get("security") == [])
    return found


def _message(known: frozenset[str]) -> dict[str, str]:
    if not known:
        return {"zh": "此接口不接受查询参数", "en": "This operation takes no query parameters"}
    listed = sorted(known)
    return {"zh": f"未知的查询参数（可用：{'、'.join(listed)}）",
            "en": f"Unknown query parameter (known: {', '.join(listed)})"}


@blueprint.before_request
def _refuse_undeclared() -> None:
    rule = request.url_rule
    if rule is None or not request.args:
        return
    method = "GET" if request.method == "HEAD" else request.method
    operation = declared().get((method, _RULE_VARIABLE.sub("{}", rule.rule.removeprefix(PREFIX))))
    if operation is None:  # OPTIONS, answered by Flask itself
        return
    known, public = operation
    unknown = sorted(set(request.args) - known)
    if not unknown:
        return
    if not public:
        api_actor()  # a caller without a valid token learns nothing but 401
    raise InvalidData(f"unknown query parameter(s): {', '.join(name or '(empty)' for name in unknown)}",
                      dict.fromkeys(unknown, _message(known)))
