"""GET /instances (search), /instances/export (a search result with every trail) and
/instances/{id}/export (one trail): JSON verifiable offline (docs/audit.md) or CSV."""

from __future__ import annotations

from flask import Response, jsonify, request

from engine.errors import InvalidData
from engine.runtime.search import FILTERS
from webui.api import blueprint
from webui.api.body import UNSTORABLE, actor, unstorable
from webui.api.instances import ID
from webui.context import engine

TYPES = {"json": "application/json", "csv": "text/csv"}


def _filters() -> dict[str, str]:
    """The filter query parameters given (empty ones too: `status=` is no status); the engine checks them (422)."""
    filters = {name: request.args[name] for name in FILTERS if name in request.args}
    bad = {name: UNSTORABLE for name, value in filters.items() if unstorable(value)}
    if bad:
        raise InvalidData(f"invalid search filters: {', '.join(sorted(bad))}", bad)
    return filters


def _format() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in TYPES:
        raise InvalidData("format must be json or csv",
                          {"format": {"zh": "须为 json 或 csv", "en": "Must be json or csv"}})
    return fmt


def _file(content: str, fmt: str, filename: str) -> Response:
    response = Response(content, mimetype=TYPES[fmt])
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.get("/instances")
def search_instances() -> Response:
    """?<filters>&page=N&per_page=M: {items, total, page, per_page, pages}, newest first."""
    who = actor()
    return jsonify(engine().search(who, _filters(), page=request.args.get("page", "1"),
                                   per_page=request.args.get("per_page", "25")))


@blueprint.get("/instances/export")
def export_search() -> Response:
    """?format=json|csv&<filters>: every instance found (at most 1,000) with its whole trail."""
    who = actor()
    fmt = _format()
    return _file(engine().export_search(who, _filters(), fmt), fmt, f"salesflow-instances.{fmt}")


@blueprint.get(f"/instances/{ID}/export")
def export_instance(iid: int) -> Response:
    """?format=json|csv: the instance's trail."""
    who = actor()
    fmt = _format()
    return _file(engine().export(iid, fmt, actor=who), fmt, f"salesflow-instance-{iid}.{fmt}")
