"""JSON Schema fragments the API's shapes (shapes.py) and its OpenAPI document (openapi.py) are written in."""

from __future__ import annotations

from engine import outcomes

NULLABLE_TEXT = {"type": ["string", "null"]}
NULLABLE_OBJECT = {"type": ["object", "null"]}
# an instance's status; `incident`: halted by a failed timer or message step until an administrator acts
STATUSES = ["running", "incident", "completed", "cancelled", "error"]
# how a finished instance ended (processes/outcomes.yaml); null while it runs
OUTCOMES = sorted(outcomes.load())
OUTCOME = {"type": ["string", "null"], "enum": [*OUTCOMES, None],
           "description": "how it ended (processes/outcomes.yaml); null while it runs"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TEXT = {"type": "object", "description": "a text in each language", "required": ["zh", "en"],
        "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}
# a row grouped by a form field's value: the value and what people read for it (null key: not decided yet)
LABELLED = {"key": {"type": ["string", "null"]}, "label": TEXT}


def ref(name: str) -> dict:
    """A reference to the component schema `name` of the OpenAPI document."""
    return {"$ref": f"#/components/schemas/{name}"}


def list_of(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


def obj(properties: dict, required: list[str] | None = None, closed: bool = True, **extra: object) -> dict:
    """An object schema; every property is required unless `required` says otherwise, and a closed object
    has no other properties (the answer never carries a field the document does not name)."""
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required, **extra}
    if closed:
        schema["additionalProperties"] = False
    return schema
