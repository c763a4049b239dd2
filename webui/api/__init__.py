"""The REST API under /api/v1: JSON in, engine calls, JSON out.

Every error body is {"error": code, "message": text, "fields"?: {...}}; engine errors
map to their `.status`, HTTP errors inside /api/v1 (404, 405, 413, ...) are JSON too.
Field messages follow Accept-Language (Chinese by default).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from engine.definitions.replacing import ReplacesProcess
from engine.errors import DefinitionError, InvalidData, Locked, SalesflowError, Unauthorized
from webui.api import shapes
from webui.auth import api_actor
from webui.i18n import api_language

blueprint = Blueprint("api", __name__)

PREFIX = "/api/v1"
# a process key as BPMN writes it (an XML NCName, at most 128 characters)
KEY_PATTERN = r"[A-Za-z_][A-Za-z0-9_.-]{0,127}"


class KeyConverter(BaseConverter):
    regex = KEY_PATTERN


@blueprint.record_once
def _converters(state) -> None:  # noqa: ANN001 - Flask's BlueprintSetupState
    state.app.url_map.converters.setdefault("process_key", KeyConverter)


def error_body(code: str, message: str, status: int, fields: dict | None = None, **extra: object) -> Response:
    body: dict = {"error": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="salesflow"'
    return response


def localized_fields(fields: dict[str, dict[str, str] | str]) -> dict[str, str]:
    """Field messages ({"zh", "en"} each) in the request's language."""
    lang = api_language()
    return {name: (text.get(lang) or text.get("zh") or text.get("en") or "") if isinstance(text, dict) else str(text)
            for name, text in fields.items()}


def _token_refused() -> Response | None:
    """A request whose token a command was to check in its own transaction (webui.api.body.caller) and that
    failed before: the token is checked now, so that a caller without a valid token learns nothing but 401,
    whatever else was wrong with the request (as when the token was checked first)."""
    if not g.pop("token_deferred", False):
        return None
    try:
        api_actor()
    except Unauthorized as refused:
        return _engine_error(refused)
    return None


@blueprint.errorhandler(SalesflowError)
def _engine_error(exc: SalesflowError) -> Response:
    if not isinstance(exc, Unauthorized) and (refused := _token_refused()) is not None:
        return refused
    extra: dict = {}
    if isinstance(exc, DefinitionError):
        extra["problems"] = [shapes.problem(p) for p in exc.problems]
    if isinstance(exc, ReplacesProcess):
        extra.update(messages=exc.reason, replacing=[r.to_dict() for r in exc.replaced])
    if isinstance(exc, Unauthorized):
        response = error_body(exc.code, str(exc), 401)
        if request.headers.get("Authorization"):
            response.headers["WWW-Authenticate"] = 'Bearer realm="salesflow", error="invalid_token"'
        return response
    fields = localized_fields(exc.fields) if isinstance(exc, InvalidData) else None
    response = error_body(exc.code, str(exc), exc.status, fields, **extra)
    if exc.status == 503:
        response.headers["Retry-After"] = "5"
    if isinstance(exc, Locked):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 500: "internal_error"}


def _in_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _http_error_json(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 404:
        message = f"no such resource: {request.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.path}"
    response = error_body(_HTTP_CODES.get(status, "error"), message, status)
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


@blueprint.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):  # noqa: ANN202 - a response, or the exception itself outside the API
    if not _in_api():
        return exc
    return _token_refused() or _http_error_json(exc)


@blueprint.after_app_request
def _json_errors_only(response: Response) -> Response:
    """A safety net: an error inside /api/v1 that some HTML handler answered becomes JSON."""
    if not (_in_api() and response.status_code >= 400) or response.is_json:
        return response
    status = response.status_code
    replaced = error_body(_HTTP_CODES.get(status, "error"), response.status.split(" ", 1)[-1], status)
    for header in ("Allow", "WWW-Authenticate"):
        if header in response.headers:
            replaced.headers[header] = response.headers[header]
    return replaced


from webui.api import deployments, instances, openapi, processes, tasks, tokens  # noqa: E402, F401, I001  (routes)
from webui.api import kpi  # noqa: E402, F401
from webui.api import search  # noqa: E402, F401
from webui.api import incidents  # noqa: E402, F401
from webui.api import prices  # noqa: E402, F401
from webui.api import customers  # noqa: E402, F401
from webui.api import query_names  # noqa: E402, F401  (refuses undeclared query parameters)
