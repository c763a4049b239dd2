"""Reading requests: the bearer actor, a JSON object body, typed fields and query flags.

Only the envelope is checked here (is it JSON, is `data` an object); what the data
must contain is the engine's business (forms), and its errors come back as 422.
"""

from __future__ import annotations

from typing import Any

from flask import g, request

from engine import jsonvalues
from engine.errors import InvalidData, SalesflowError
from engine.tokens import Bearer
from webui.auth import api_actor, bearer_token

REQUIRED = {"zh": "此项必填", "en": "This field is required"}
_KINDS = {str: ("文本", "a text"), dict: ("对象", "an object"), list: ("列表", "a list"),
          int: ("整数", "a whole number"), bool: ("是/否", "a yes/no value")}


def actor() -> str:
    """The user behind the bearer token (401 otherwise)."""
    return api_actor()


def caller() -> str | Bearer:
    """For the commands that check the token in their own transaction (start, complete, claim: one
    BEGIN and COMMIT fewer per request): the token as a Bearer, or the user name when the request resolved
    it already. 401 at once when there is no token; an invalid one is 401 from the command, or from the
    error handler when the request fails before (webui/api/__init__.py: no other answer to a bad token)."""
    if "api_actor" in g:
        return g.api_actor
    token = bearer_token()
    g.token_deferred = True
    return Bearer(token)


def unstorable(text: str) -> bool:
    """Whether the text holds a NUL character, which no database text column takes."""
    return "\x00" in text


NOT_FINITE = {"zh": "须为有限的数字", "en": "Must be a finite number"}


class BadBody(SalesflowError):
    """A body that is not a JSON object we accept: malformed, empty, not an object, not valid Unicode."""

    code, status = "bad_request", 400


class NotJson(SalesflowError):
    """A body sent as another media type (a form, plain text): the client is told which one we read."""

    code, status = "unsupported_media_type", 415


JSON_TYPE = "application/json"


def _declared_json(mimetype: str) -> bool:
    """application/json or a JSON-based type (application/problem+json …); no type at all is read as JSON too,
    since only a declared other type says the client meant something else."""
    return not mimetype or mimetype == JSON_TYPE or mimetype.endswith("+json")


def json_object() -> dict:
    """The body as a JSON object: the one reader of every JSON POST (the API's and the modeler's).

    415 when the Content-Type names another media type (a form-encoded token request, plain text), with
    a message naming application/json; 400 with a clear message for anything else (413 when too large):
    an empty body, malformed JSON, NaN or Infinity, nesting deeper than 64 levels, text with a lone
    surrogate, a value that is not an object. A number too large for a double (`1e400`, read as infinity)
    is 422 naming its field: under `data`, the data field (as the form's own messages name it), else the
    body's field."""
    if not _declared_json(request.mimetype):
        raise NotJson(f"the request body must be JSON sent as Content-Type: {JSON_TYPE}, "
                      f"not {request.mimetype}")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadBody("the request body must be a JSON object (it is empty)")
    try:
        value, flaws = jsonvalues.read(raw)
    except jsonvalues.NotAcceptable as exc:
        raise BadBody(f"the request body is not acceptable JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadBody(f"the request body must be a JSON object, not {type(value).__name__}")
    infinite = {_field_of(f.path): NOT_FINITE for f in flaws if f.kind == jsonvalues.NON_FINITE}
    raise_if(infinite, "numbers too large for a double (not finite)")
    return value


def _field_of(path: tuple) -> str:
    return str(path[1]) if len(path) > 1 and path[0] == "data" else str(path[0])


UNSTORABLE = {"zh": "不能含有 NUL 字符", "en": "May not contain a NUL character"}


def wrong_type(kind: type) -> dict[str, str]:
    zh, en = _KINDS[kind]
    return {"zh": f"格式不正确（应为{zh}）", "en": f"Must be {en}"}


def field(body: dict, name: str, kind: type, required: bool = True, errors: dict | None = None) -> Any:
    """body[name] when it has the type; otherwise the field's message goes into `errors`."""
    errors = {} if errors is None else errors
    if name not in body or body[name] is None:
        if required:
            errors[name] = REQUIRED
        return None
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        errors[name] = wrong_type(kind)
        return None
    if kind is str and unstorable(value):
        errors[name] = UNSTORABLE
        return None
    return value


IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header (None without one); the engine checks and keeps it."""
    return request.headers.get(IDEMPOTENCY_HEADER)


def replayed(repeated: bool) -> dict[str, str]:
    """The header that tells a client it got the stored answer of an earlier request with its key."""
    return {"Idempotent-Replayed": "true"} if repeated else {}


def raise_if(errors: dict, message: str = "the request has invalid fields") -> None:
    if errors:
        raise InvalidData(f"{message}: {', '.join(sorted(errors))}", errors)


def submitted(*texts: str) -> tuple[dict, list[str | None]]:
    """A form's submission (start, complete): its `data` object ({} when left out) and the optional
    text fields named; one 422 names every field of the wrong type."""
    body = json_object()
    errors: dict = {}
    data = field(body, "data", dict, required=False, errors=errors)
    values = [field(body, name, str, required=False, errors=errors) for name in texts]
    raise_if(errors)
    return data or {}, values


def text_arg(name: str) -> str | None:
    """A text query parameter; None when absent or empty."""
    value = request.args.get(name)
    if value and unstorable(value):
        raise InvalidData(f"{name} holds a NUL character", {name: UNSTORABLE})
    return value or None


def flag(name: str) -> bool | None:
    """A true/false query parameter; None when absent, 422 when it is anything else ('' too)."""
    value = request.args.get(name)
    if value is None:
        return None
    if value in ("true", "false"):
        return value == "true"
    raise InvalidData(f"{name} must be true or false",
                      {name: {"zh": "须为 true 或 false", "en": "Must be true or false"}})


def integer(name: str, minimum: int = 1, maximum: int = 2**31 - 1) -> int | None:
    """A whole-number query parameter in [minimum, maximum]; None when absent, 422 otherwise."""
    value = request.args.get(name)
    if value is None:
        return None
    # at most 10 digits: int() of thousands of digits is slow, and refused beyond 4,300 (a 500)
    if value.isascii() and value.isdigit() and len(value) <= 10 and minimum <= int(value) <= maximum:
        return int(value)
    raise InvalidData(f"{name} must be a whole number from {minimum} to {maximum}",
                      {name: {"zh": f"须为 {minimum} 到 {maximum} 之间的整数",
                              "en": f"Must be a whole number from {minimum} to {maximum}"}})
