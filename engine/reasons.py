"""The reason a person gives for an exceptional act (cancelling or withdrawing a case, an emergency deploy,
giving a customer to another representative): it goes into the trail, so every such act checks it alike."""

from __future__ import annotations

from typing import TypeGuard

from engine.errors import InvalidData

MAX_REASON = 2000


def is_reason(value: object) -> TypeGuard[str]:
    """1-MAX_REASON characters, not only blanks, and storable (PostgreSQL text refuses NUL)."""
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_REASON and "\x00" not in value


def required_reason(value: object, message: str, text: dict[str, str]) -> str:
    """The reason, stripped; else InvalidData with `message` (logs, API) and `text` (zh/en) on the field."""
    if not is_reason(value):
        raise InvalidData(message, {"reason": text})
    return value.strip()
