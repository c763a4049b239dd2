"""A process's summary in each language, read from its <bpmn:documentation> (docs/modelling.md).

The convention: the documentation opens with one line per language, `zh: …` and `en: …`, before the
first blank line; everything after is notes for the people who model the process. The start page
shows the reader's line, and the lint warns when a language's line is missing.
"""

from __future__ import annotations

import re

LANGUAGES = ("zh", "en")
_LINE = re.compile(r"^(zh|en)\s*[:：]\s*(\S.*)$")


def summaries(documentation: str) -> dict[str, str]:
    """{"zh": ..., "en": ...} from the documentation's opening lines; a language without its line is absent."""
    found: dict[str, str] = {}
    for line in documentation.strip().splitlines():
        if not line.strip():
            break
        match = _LINE.match(line.strip())
        if match and match.group(1) not in found:
            found[match.group(1)] = match.group(2).strip()
    return found


def missing_languages(documentation: str) -> list[str]:
    """The languages the documentation has no summary line for."""
    have = summaries(documentation)
    return [lang for lang in LANGUAGES if lang not in have]
