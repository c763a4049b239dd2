"""What one row of the price list may hold. An import line and the page's "add" form are checked by
the same function, so both refuse the same things with the same messages."""

from __future__ import annotations

from datetime import date

from engine import forms
from engine.days import parse_day
from engine.errors import InvalidData
from engine.prices.money import MAX_FEN, parse_yuan, yuan_text

Text = dict[str, str]
COLUMNS = ("product", "spec", "grade", "unit", "price_yuan", "valid_from", "valid_to")
REQUIRED = ("product", "spec", "grade", "unit", "price_yuan", "valid_from")
LIMITS = {"product": 200, "spec": 200, "grade": 64, "unit": 16}
NAMES: dict[str, Text] = {
    "product": {"zh": "品名", "en": "product"},
    "spec": {"zh": "规格", "en": "specification"},
    "grade": {"zh": "等级", "en": "grade"},
    "unit": {"zh": "单位", "en": "unit"},
    "price_yuan": {"zh": "单价（元）", "en": "price (yuan)"},
    "valid_from": {"zh": "有效期自", "en": "valid from"},
    "valid_to": {"zh": "有效期至", "en": "valid to"},
}
REQUIRED_TEXT = {"zh": "此项必填", "en": "This field is required"}
DAY_TEXT = {"zh": "须为日期 YYYY-MM-DD", "en": "Must be a date YYYY-MM-DD"}
PRICE_TEXT = {"zh": f"须为大于 0 的金额，最多两位小数，不超过 {yuan_text(MAX_FEN)} 元",
              "en": f"Must be an amount above 0 with at most two decimals, up to {yuan_text(MAX_FEN)} yuan"}
BACKWARDS = {"zh": "有效期至不能早于有效期自", "en": "The last valid day cannot be before the first"}
UNSTORABLE = {"zh": "含有无法保存的字符", "en": "Contains characters that cannot be stored"}


def _text(raw: dict, name: str, errors: dict[str, Text]) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = REQUIRED_TEXT
        return None
    if not isinstance(value, str):
        errors[name] = {"zh": "须为文本", "en": "Must be text"}
        return None
    value = value.strip()
    if not forms.storable(value) or any(ord(ch) < 32 for ch in value):
        errors[name] = UNSTORABLE
    elif len(value) > LIMITS[name]:
        errors[name] = {"zh": f"不能超过 {LIMITS[name]} 个字符", "en": f"At most {LIMITS[name]} characters"}
    return value


def day_field(raw: dict, name: str, errors: dict[str, Text], required: bool) -> date | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = REQUIRED_TEXT
        return None
    day = parse_day(value.strip() if isinstance(value, str) else value)
    if day is None:
        errors[name] = DAY_TEXT
    return day


def check(raw: dict) -> tuple[dict, dict[str, Text]]:
    """({product, spec, grade, unit, price_fen, valid_from, valid_to}, errors by column): one row as
    given (texts, or numbers for the price), checked; the row is usable only when errors is empty."""
    errors: dict[str, Text] = {}
    row: dict = {name: _text(raw, name, errors) for name in ("product", "spec", "grade", "unit")}
    price = raw.get("price_yuan")
    if price is None or (isinstance(price, str) and not price.strip()):
        errors["price_yuan"] = REQUIRED_TEXT
    else:
        row["price_fen"] = parse_yuan(price)
        if row["price_fen"] is None:
            errors["price_yuan"] = PRICE_TEXT
    row["valid_from"] = day_field(raw, "valid_from", errors, required=True)
    row["valid_to"] = day_field(raw, "valid_to", errors, required=False)
    if row["valid_from"] and row["valid_to"] and row["valid_to"] < row["valid_from"]:
        errors["valid_to"] = BACKWARDS
    return row, errors


def joined(errors: dict[str, Text]) -> Text:
    """Several columns' errors as one message: "单价（元）：…；有效期自：…"."""
    return {"zh": "；".join(f"{NAMES[c]['zh']}：{t['zh']}" for c, t in errors.items()),
            "en": "; ".join(f"{NAMES[c]['en']}: {t['en']}" for c, t in errors.items())}


def check_all(given: list[tuple[str, dict]], errors: dict[str, Text] | None = None) -> list[tuple[str, dict]]:
    """Every (label, raw row) checked; InvalidData naming each bad one by its label ("line 3") with all
    its columns' problems (and the `errors` found before, such as lines of the wrong length), else the
    checked rows."""
    checked, errors = [], dict(errors or {})
    for label, raw in given:
        row, problems = check(raw)
        if problems:
            errors[label] = joined(problems)
        else:
            checked.append((label, row))
    if errors:
        ordered = dict(sorted(errors.items(), key=lambda item: int(item[0].rsplit(" ", 1)[-1])
                              if item[0].rsplit(" ", 1)[-1].isdigit() else 0))
        raise InvalidData(f"{len(errors)} row(s) are not valid: nothing was saved", ordered)
    return checked
