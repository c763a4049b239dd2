"""One spelling per customer: the name as people type it, with whitespace collapsed."""

from __future__ import annotations


def normalise(name: object) -> str:
    """The name with every run of whitespace (full-width spaces too) made one space, trimmed; "" for a
    non-text. Two registrations that differ only in spacing are the same customer."""
    return " ".join(name.split()) if isinstance(name, str) else ""
