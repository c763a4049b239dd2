"""Money as people write it (yuan, at most two decimals) and as it is kept (whole fen)."""

from __future__ import annotations

import re
from decimal import Decimal

MAX_FEN = 100_000_000  # 1,000,000.00 yuan per unit: far above any cement price, far below the column's limit
_YUAN = re.compile(r"[0-9]{1,7}(?:\.[0-9]{1,2})?")


def parse_yuan(value: object) -> int | None:
    """The fen of a price given as text ("420", "420.5", "420.50") or a number; None when it is not a
    positive amount of at most two decimals up to MAX_FEN."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = repr(value)
    if not isinstance(value, str) or not _YUAN.fullmatch(value.strip()):
        return None
    fen = int(Decimal(value.strip()) * 100)
    return fen if 0 < fen <= MAX_FEN else None


def yuan_text(fen: int) -> str:
    """420.00"""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_number(fen: int) -> int | float:
    """The JSON number of a price in yuan: whole yuan as an integer (420), else two decimals (420.5)."""
    return fen // 100 if fen % 100 == 0 else fen / 100
