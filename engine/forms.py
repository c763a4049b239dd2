"""Forms at run time: validating submitted data (files are read by engine.definitions.form_file).

Validation uses jsonschema with one extra keyword, `x-min-days-ahead: N`
(a date at least N days after today, by the engine's clock). Every failure is
reported per field, in Chinese and English, never as a jsonschema string.

Before the schema, every value of the data is walked once (engine.jsonvalues): a field is
refused when it holds a number that is not finite (NaN, Infinity, `1e400` read as
infinity), a number beyond ±(2**53 - 1) (not every such number is exact as a double, so a
browser or the offline verifier would read another number), text with NUL or a lone
surrogate, or nesting deeper than 64 levels. Full-width digits (`１２３`) are refused, not
converted: a number field given them says "use half-width digits" (a silent conversion would
store something other than what was typed, and only some digit forms would be caught).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine import clock, jsonvalues
from engine.config import COMPANY_TZ
from engine.errors import InvalidData

Text = dict[str, str]  # {"zh": ..., "en": ...}


@dataclass(frozen=True)
class FormDef:
    key: str
    title: Text
    schema: dict
    fields: list[dict]
    messages: dict[str, dict[str, Text]]

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "schema": self.schema, "fields": self.fields,
                "messages": self.messages}

    @classmethod
    def from_dict(cls, data: dict) -> FormDef:
        return cls(data["key"], data["title"], data["schema"], data["fields"], data.get("messages") or {})

    def label(self, name: str) -> Text:
        for f in self.fields:
            if f["name"] == name:
                return f["label"]
        return {"zh": name, "en": name}


def _min_days_ahead(validator, days, instance, schema):  # noqa: ANN001, ANN202 - jsonschema's protocol
    if not isinstance(instance, str):
        return
    try:
        given = date.fromisoformat(instance)
    except ValueError:
        return  # `format: date` reports it
    today = clock.now().astimezone(ZoneInfo(COMPANY_TZ)).date()
    if given < today + timedelta(days=days):
        yield ValidationError(f"date must be at least {days} day(s) after {today}")


_Validator = jsonschema.validators.extend(Draft202012Validator, {"x-min-days-ahead": _min_days_ahead})

_MESSAGES: dict[str, Text] = {
    "required": {"zh": "此项必填", "en": "This field is required"},
    "type": {"zh": "格式不正确（应为{expected}）", "en": "Must be a {expected}"},
    "minLength": {"zh": "此项必填", "en": "This field is required"},
    "maxLength": {"zh": "不能超过 {limit} 个字符", "en": "At most {limit} characters"},
    "minimum": {"zh": "不能小于 {limit}", "en": "Must be at least {limit}"},
    "maximum": {"zh": "不能大于 {limit}", "en": "Must be at most {limit}"},
    "exclusiveMinimum": {"zh": "必须大于 {limit}", "en": "Must be greater than {limit}"},
    "exclusiveMaximum": {"zh": "必须小于 {limit}", "en": "Must be less than {limit}"},
    "enum": {"zh": "请选择列表中的一项", "en": "Choose one of the listed values"},
    "const": {"zh": "取值不正确", "en": "Invalid value"},
    "format": {"zh": "格式不正确（{limit}）", "en": "Not a valid {limit}"},
    "pattern": {"zh": "格式不正确", "en": "Invalid format"},
    "x-min-days-ahead": {"zh": "日期须至少晚于今天 {limit} 天", "en": "Must be at least {limit} day(s) after today"},
    "additionalProperties": {"zh": "未知字段", "en": "Unknown field"},
}
_FORMATS = {"date": ("日期，格式 YYYY-MM-DD", "date (YYYY-MM-DD)"), "date-time": ("日期时间", "date and time"),
            "email": ("电子邮箱", "e-mail address")}
_TYPES = {"string": ("文本", "text"), "integer": ("整数", "whole number"), "number": ("数字", "number"),
          "boolean": ("是/否", "yes/no value"), "array": ("列表", "list"), "object": ("对象", "object")}


def schema_validator() -> type:
    """The validator class forms are checked with (draft 2020-12 plus our keywords)."""
    return _Validator


def _fields_of(error: ValidationError) -> list[str]:
    path = list(error.absolute_path)
    if path and isinstance(path[0], str):
        return [path[0]]  # inside a field (a row of a table): the error belongs to that field
    if error.validator == "required":
        # "'comment' is a required property": the missing property is the field
        return [error.message.split("'")[1]] if "'" in error.message else ["_form"]
    if error.validator == "additionalProperties":
        extra = [str(p) for p in error.instance if p not in error.schema.get("properties", {})]
        return extra or ["_form"]
    return ["_form"]


def _message(form: FormDef, field: str, error: ValidationError) -> Text:
    custom = form.messages.get(field, {}).get(error.validator)
    if custom:
        return custom
    template = _MESSAGES.get(error.validator, {"zh": "取值不正确", "en": "Invalid value"})
    limit = error.validator_value
    if error.validator == "type":
        if {"number", "integer"} & set(limit if isinstance(limit, list) else [limit]) \
                and _full_width_digits(error.instance):
            return HALF_WIDTH
        zh, en = _TYPES.get(str(limit), (str(limit), str(limit)))
        return {"zh": template["zh"].format(expected=zh), "en": template["en"].format(expected=en)}
    if error.validator == "format":
        zh, en = _FORMATS.get(str(limit), (str(limit), str(limit)))
        return {"zh": template["zh"].format(limit=zh), "en": template["en"].format(limit=en)}
    return {lang: text.format(limit=limit) for lang, text in template.items()}


_UNSTORABLE = {"zh": "含有无法保存的字符", "en": "Contains characters that cannot be stored"}
_FLAW_MESSAGES: dict[str, Text] = {
    jsonvalues.NUL: _UNSTORABLE,
    jsonvalues.SURROGATE: _UNSTORABLE,
    jsonvalues.NON_FINITE: {"zh": "须为有限的数字", "en": "Must be a finite number"},
    jsonvalues.UNSAFE_NUMBER: {"zh": f"数值超出范围（绝对值不能超过 {jsonvalues.SAFE_INTEGER}）",
                               "en": f"Out of range: the number may be at most {jsonvalues.SAFE_INTEGER} "
                                     "either side of zero"},
    jsonvalues.DEEP: {"zh": f"嵌套层级过深（最多 {jsonvalues.MAX_DEPTH} 层）",
                      "en": f"Nested too deeply (at most {jsonvalues.MAX_DEPTH} levels)"},
}
HALF_WIDTH = {"zh": "请使用半角数字", "en": "Use half-width digits (0-9)"}
_UNDERSCORE = {"zh": "字段名不能以下划线开头", "en": "Field names may not start with '_'"}


def storable(value: object) -> bool:
    """True when every text inside is valid Unicode without NUL (what both databases can keep)."""
    return not any(f.kind in (jsonvalues.NUL, jsonvalues.SURROGATE) for f in jsonvalues.flaws(value))


def _name(key: object) -> str:
    """A field name fit for a message (a key with a lone surrogate is shown with a replacement)."""
    return str(key).encode("utf-8", "replace").decode("utf-8")


def value_errors(data: dict) -> dict[str, Text]:
    """Per field, what no form accepts (see the module's docstring): the first flaw found in it."""
    errors: dict[str, Text] = {}
    for flaw in jsonvalues.flaws(data, safe_numbers=True):
        errors.setdefault(_name(flaw.path[0]) if flaw.path else "_form", _FLAW_MESSAGES[flaw.kind])
    return errors


def _full_width_digits(value: object) -> bool:
    return isinstance(value, str) and any(ch.isdecimal() and not ch.isascii() for ch in value)


def field_errors(form: FormDef, data: dict) -> dict[str, Text]:
    errors = value_errors(data)
    if errors:
        return errors
    for key in data:
        if not isinstance(key, str) or key.startswith("_"):
            errors[str(key)] = _UNDERSCORE
    validator = _Validator(form.schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        for name in _fields_of(error):
            errors.setdefault(name, _message(form, name, error))
    return errors


def validate(form: FormDef, data: Any) -> dict:
    """Return the data if it satisfies the form, else raise InvalidData with every field's message."""
    if not isinstance(data, dict):
        raise InvalidData("form data must be an object",
                          {"_form": {"zh": "数据格式不正确", "en": "Data must be an object"}})
    errors = field_errors(form, data)
    if errors:
        names = ", ".join(sorted(errors))
        raise InvalidData(f"the form {form.key} has errors in: {names}", errors)
    return data


def check_data_keys(data: Any) -> dict:
    """For data with no form (messages, start without a start form): the key rule and `value_errors`."""
    if not isinstance(data, dict):
        raise InvalidData("data must be an object")
    bad = {_name(k): _UNDERSCORE for k in data if not isinstance(k, str) or k.startswith("_")}
    bad.update(value_errors(data))
    if bad:
        raise InvalidData(f"the data has invalid fields: {', '.join(sorted(bad))}", bad)
    return data
