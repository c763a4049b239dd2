"""URL parts that name an object: read strictly, so that a URL names one object or none."""

from __future__ import annotations

from werkzeug.routing import BaseConverter, ValidationError

from engine.runtime.loading import MAX_ID


class IdConverter(BaseConverter):
    """`<id:name>`: an object's id (instance, incident, token, version): ASCII digits for a number from
    1 to 2**31 - 1. Anything else does not match the route (404): an id out of range never reaches the
    database, and full-width digits (which werkzeug's `int` converter would read as a number) name
    nothing."""

    regex = r"[0-9]{1,10}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: object) -> str:
        return str(int(value))  # type: ignore[call-overload]
