"""Forms at run time: validating submitted data (files are read by engine.definitions.form_file).

Validation uses jsonschema with our keywords: `x-min-days-ahead: N` (a date at least N days after
today, by the engine's clock) and `x-decimals: N` (a number with at most N decimal places: money in
yuan has 2). Every failure is reported per field, in Chinese and English, never as a jsonschema string.

`x-price-list` on a number property marks a field the engine fills, in the completing command's own
transaction, from the company's price list (engine/prices): the list price valid that day for the item
the data names. A value typed into it is refused; see `PriceFill`.

Before the schema, every value of the data is walked once (engine.jsonvalues): a field is
refused when it holds a number that is not finite (NaN, Infinity, `1e400` read as
infinity), a number beyond ±(2**53 - 1) (not every such number is exact as a double, so a
browser or the offline verifier would read another number), text with NUL or a lone
surrogate, or nesting deeper than 64 levels. Full-width digits (`１２３`) are refused, not
converted: a number field given them says "use half-width digits" (a silent conversion would
store something other than what was typed, and only some digit forms would be caught).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine import clock, form_conditions, form_prefill, jsonvalues
from engine.config import COMPANY_TZ
from engine.errors import InvalidData, ProcessError
from engine.lru import Lru

Text = dict[str, str]  # {"zh": ..., "en": ...}
EnZh = tuple[str, str]  # a problem for the modeller in (English, Chinese), as in engine/definitions/lint.py


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


def _days_ahead(instance: object) -> tuple[int, date] | None:
    """(days from the company's today, today) for an ISO date string; None for anything else (`format: date`
    reports a malformed one)."""
    if not isinstance(instance, str):
        return None
    try:
        given = date.fromisoformat(instance)
    except ValueError:
        return None
    today = clock.now().astimezone(ZoneInfo(COMPANY_TZ)).date()
    return (given - today).days, today


def _min_days_ahead(validator, days, instance, schema):  # noqa: ANN001, ANN202 - jsonschema's protocol
    ahead = _days_ahead(instance)
    if ahead and ahead[0] < days:
        yield ValidationError(f"date must be at least {days} day(s) after {ahead[1]}")


def _max_days_ahead(validator, days, instance, schema):  # noqa: ANN001, ANN202 - jsonschema's protocol
    ahead = _days_ahead(instance)
    if ahead and ahead[0] > days:
        yield ValidationError(f"date must be at most {days} day(s) after {ahead[1]}")


def _decimals(validator, places, instance, schema):  # noqa: ANN001, ANN202 - jsonschema's protocol
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return
    exponent = Decimal(repr(instance)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        yield ValidationError(f"{instance} has more than {places} decimal place(s)")


def _filled_here(validator, spec, instance, schema):  # noqa: ANN001, ANN202 - checked by validate() instead
    return iter(())


_Validator = jsonschema.validators.extend(Draft202012Validator, {
    "x-min-days-ahead": _min_days_ahead, "x-max-days-ahead": _max_days_ahead, "x-decimals": _decimals,
    "x-price-list": _filled_here})

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
    "x-max-days-ahead": {"zh": "日期不能晚于今天之后 {limit} 天", "en": "Must be at most {limit} day(s) after today"},
    "x-decimals": {"zh": "最多 {limit} 位小数", "en": "At most {limit} decimal place(s)"},
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
    if error.validator == "x-min-days-ahead" and limit == 0:
        return {"zh": "日期不能早于今天", "en": "The date cannot be in the past"}
    if error.validator == "x-max-days-ahead" and limit == 0:
        return {"zh": "日期不能晚于今天", "en": "The date cannot be in the future"}
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


_BOUNDS = {True: ("maximum", "exclusiveMaximum"), False: ("minimum", "exclusiveMinimum")}


def _flaw_message(flaw: jsonvalues.Flaw, data: dict, form: FormDef | None) -> Text:
    """A number beyond what any form keeps (1e400 typed in a page is infinity) is reported as out of the field's
    own bound where it has one ("at most 1000"; every number field of the shipped forms has one), else as
    before; never as a missing value (a page's number input used to post nothing for it)."""
    value = data.get(flaw.path[0]) if len(flaw.path) == 1 else None
    if flaw.kind not in (jsonvalues.NON_FINITE, jsonvalues.UNSAFE_NUMBER) or not isinstance(value, int | float) \
            or isinstance(value, bool) or value != value:  # NaN: neither large nor small
        return _FLAW_MESSAGES[flaw.kind]
    prop = ((form.schema.get("properties") or {}).get(flaw.path[0]) if form else None) or {}
    for keyword in _BOUNDS[value > 0]:
        if isinstance(prop.get(keyword), int | float) and not isinstance(prop.get(keyword), bool):
            return (form.messages.get(str(flaw.path[0]), {}).get(keyword)
                    or {k: t.format(limit=prop[keyword]) for k, t in _MESSAGES[keyword].items()})
    return _FLAW_MESSAGES[flaw.kind]


def value_errors(data: dict, form: FormDef | None = None) -> dict[str, Text]:
    """Per field, what no form accepts (see the module's docstring): the first flaw found in it."""
    errors: dict[str, Text] = {}
    for flaw in jsonvalues.flaws(data, safe_numbers=True):
        errors.setdefault(_name(flaw.path[0]) if flaw.path else "_form", _flaw_message(flaw, data, form))
    return errors


def _full_width_digits(value: object) -> bool:
    return isinstance(value, str) and any(ch.isdecimal() and not ch.isascii() for ch in value)


# Building a validator (and its format checker) cost more than many a check with it; a form's schema is
# that of a deployed version (it never changes), so its validator is kept, under the schema object itself.
_VALIDATORS: Lru[tuple[dict, Any]] = Lru(256)
_FORMAT_CHECKER = FormatChecker()


def _validator_for(schema: dict) -> Any:  # a jsonschema validator
    kept = _VALIDATORS.peek(id(schema))
    if kept is not None and kept[0] is schema:  # not another schema that took a freed one's id
        return kept[1]
    validator = _Validator(schema, format_checker=_FORMAT_CHECKER)
    _VALIDATORS.put(id(schema), (schema, validator))
    return validator


def field_errors(form: FormDef, data: dict) -> dict[str, Text]:
    errors = value_errors(data, form)
    if errors:
        return errors
    for key in data:
        if not isinstance(key, str) or key.startswith("_"):
            errors[str(key)] = _UNDERSCORE
    validator = _validator_for(form.schema)
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        for name in _fields_of(error):
            errors.setdefault(name, _message(form, name, error))
    return errors


def validate(form: FormDef, data: Any, prices: PriceBook | None = None, context: dict | None = None) -> dict:
    """Return the data if it satisfies the form, else raise InvalidData with every field's message.
    A form with fields filled from the price list needs `prices` (the list as it stands today): the
    data returned then holds them too. `context` is the instance's data: read-only prefilled fields
    take their values from it whatever was sent (engine.form_prefill). Fields the data's own values
    hide are dropped before the check (engine.form_conditions): not required, not stored."""
    if not isinstance(data, dict):
        raise InvalidData("form data must be an object",
                          {"_form": {"zh": "数据格式不正确", "en": "Data must be an object"}})
    data = form_conditions.drop_hidden(form.schema, form_prefill.keep_read_only(form.schema, data, context))
    errors = field_errors(form, data)
    fill = price_fill(form.schema)
    if fill is not None:
        errors.update({name: FILLED for name in fill.filled if name in data})
        if not errors.keys() & {fill.product, fill.spec, fill.grade}:
            if prices is None:
                raise ProcessError(f"the form {form.key} fills fields from the price list, which was not given")
            data = _fill_prices(fill, data, prices, errors)
    if errors:
        names = ", ".join(sorted(errors))
        raise InvalidData(f"the form {form.key} has errors in: {names}", errors)
    return form_prefill.without_kept(form.schema, data, context)


# -- fields filled from the company's price list (x-price-list) -------------------------------------------

PRICE_LIST = "x-price-list"
FILLED = {"zh": "此项由系统按公司价格表填写，不能手工填写",
          "en": "Filled in from the company's price list: it cannot be typed"}


@dataclass(frozen=True)
class PriceFill:
    """`x-price-list: {product: product, spec: spec, grade: grade, row: list_price_row, unit: unit,
    not_above: [unit_price_yuan]}` on a number property (`field`): the data's fields `product`, `spec`
    and `grade` name the item; the engine writes the list price valid on the command's day (in yuan)
    into `field`, the row it used ({id, product, spec, grade, unit, price_fen, valid_from, valid_to, on,
    price_yuan}) into `row` and the row's unit into `unit`, so that the trail records which price was
    used and replay needs no price table. An item with no valid price that day is refused beside the
    product field; a field of `not_above` holding more than the list price is refused beside itself."""

    field: str
    product: str
    spec: str
    grade: str
    row: str | None = None
    unit: str | None = None
    not_above: tuple[str, ...] = ()

    @property
    def filled(self) -> tuple[str, ...]:
        """The fields the engine writes (nobody may type them)."""
        return tuple(name for name in (self.field, self.row, self.unit) if name)


class PriceBook(Protocol):
    """The price list on one day (engine.prices.book.PricesOn)."""

    day: str

    def find(self, product: str, spec: str, grade: str) -> dict | None: ...

    def alternatives(self, product: str) -> list[str]: ...


def price_fill(schema: dict) -> PriceFill | None:
    """The form's `x-price-list`, or None (the deploy check, `price_fill_problems`, refuses a bad one)."""
    for name, prop in (schema.get("properties") or {}).items():
        spec = prop.get(PRICE_LIST) if isinstance(prop, dict) else None
        if isinstance(spec, dict):
            return PriceFill(name, spec.get("product"), spec.get("spec"), spec.get("grade"), spec.get("row"),
                             spec.get("unit"), tuple(spec.get("not_above") or ()))
    return None


def filled_fields(schema: dict) -> set[str]:
    """The fields a person never types: the pages show them as filled in by the engine."""
    fill = price_fill(schema)
    return set(fill.filled) if fill else set()


def _fill_prices(fill: PriceFill, data: dict, prices: PriceBook, errors: dict[str, Text]) -> dict:
    item = (data.get(fill.product), data.get(fill.spec), data.get(fill.grade))
    if not all(isinstance(v, str) for v in item):
        return data
    row = prices.find(*item)
    if row is None:
        others = prices.alternatives(item[0])
        zh = f"{prices.day} 公司价格表中没有“{' / '.join(item)}”的有效价格，不能报价"
        en = f"The company's price list has no price valid on {prices.day} for {' / '.join(item)}: it cannot be quoted"
        if others:
            zh += f"（该品名现有：{'；'.join(others)}）"
            en += f" (this product is listed as: {'; '.join(others)})"
        errors[fill.product] = {"zh": zh, "en": en}
        return data
    for name in fill.not_above:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) \
                and Decimal(repr(value)) * 100 > row["price_fen"]:
            price = f"{row['price_fen'] // 100}.{row['price_fen'] % 100:02d}"
            errors.setdefault(name, {
                "zh": f"不能高于公司定价 {price} 元/{row['unit']}",
                "en": f"May not be above the company's list price of {price} yuan per {row['unit']}"})
    filled = {**data, fill.field: row["price_yuan"]}
    if fill.row:
        filled[fill.row] = row
    if fill.unit:
        filled[fill.unit] = row["unit"]
    return filled


_FILL_KEYS = {"product": "string", "spec": "string", "grade": "string", "row": "object", "unit": "string"}


def _keyword_paths(value: Any, keyword: str, path: tuple = ()) -> Iterator[tuple]:
    """The paths of the schemas (inside `value`) that use `keyword`."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == keyword:
                yield path
            yield from _keyword_paths(sub, keyword, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from _keyword_paths(sub, keyword, (*path, index))


def keyword_problems(schema: dict) -> list[tuple[tuple, EnZh]]:
    """Why our keywords in a form's schema cannot work: [(path in the schema, (English, Chinese))]; deploy
    refuses them."""
    problems = [((*p, "x-decimals"), ("x-decimals must be a whole number of decimal places from 0 to 10",
                                            "x-decimals 必须是 0 到 10 之间的整数（小数位数）"))
                for p in _keyword_paths(schema, "x-decimals") if not _places(_subschema(schema, p)["x-decimals"])]
    problems += [((*p, "x-min-days-ahead"), ("x-min-days-ahead must be a whole number of days from 0 to 3650",
                                                   "x-min-days-ahead 必须是 0 到 3650 之间的整数（天数）"))
                 for p in _keyword_paths(schema, "x-min-days-ahead")
                 if not _days(_subschema(schema, p)["x-min-days-ahead"])]
    problems += [((*p, "x-max-days-ahead"), ("x-max-days-ahead must be a whole number of days from 0 to 3650",
                                                   "x-max-days-ahead 必须是 0 到 3650 之间的整数（天数）"))
                 for p in _keyword_paths(schema, "x-max-days-ahead")
                 if not _days(_subschema(schema, p)["x-max-days-ahead"])]
    return (problems + price_fill_problems(schema) + form_prefill.prefill_problems(schema)
            + form_conditions.condition_problems(schema))


def _days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3650


def _places(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10


def _subschema(schema: dict, path: tuple) -> dict:
    for key in path:
        schema = schema[key]
    return schema


def price_fill_problems(schema: dict) -> list[tuple[tuple, EnZh]]:
    """Why a form's `x-price-list` cannot work: [(path in the schema, (English, Chinese))]; empty when it can."""
    props = schema.get("properties") or {}
    places = list(_keyword_paths(schema, PRICE_LIST))
    problems = [((*p, PRICE_LIST), (f"{PRICE_LIST} belongs on a property of the form itself (properties.<name>)",
                                     f"{PRICE_LIST} 只能写在表单自身的属性上（properties.<name>）"))
                for p in places if len(p) != 2 or p[0] != "properties"]
    if problems or not places:
        return problems
    if len(places) > 1:
        return [((*places[1], PRICE_LIST), (f"a form has at most one {PRICE_LIST} field",
                                                f"一个表单最多只能有一个带 {PRICE_LIST} 的字段"))]
    name = places[0][1]
    spec, where = props[name][PRICE_LIST], ("properties", name, PRICE_LIST)
    if not isinstance(spec, dict):
        return [(where, (f"{PRICE_LIST} must map product, spec and grade to the fields that name the item",
                        f"{PRICE_LIST} 必须把 product、spec 和 grade 分别对应到标明货品的字段"))]
    unknown = sorted(set(spec) - {*_FILL_KEYS, "not_above"})
    if unknown:
        problems.append((where, (f"{PRICE_LIST} does not know {', '.join(unknown)}",
                                  f"{PRICE_LIST} 不认识 {'、'.join(unknown)}")))
    if props[name].get("type") != "number":
        problems.append((("properties", name), (f"the field {name} receives a price: its type must be number",
                                                f"字段 {name} 要填入价格，其类型必须是 number")))
    for key, kind in _FILL_KEYS.items():
        target = spec.get(key)
        if target is None and key in ("row", "unit"):
            continue
        if not isinstance(target, str) or target not in props:
            problems.append((where, (f"{PRICE_LIST}.{key} must name a field of this form",
                                      f"{PRICE_LIST}.{key} 必须指向本表单的一个字段")))
        elif props[target].get("type") != kind:
            problems.append((("properties", target), (f"the field {target} ({PRICE_LIST}.{key}) must be of type {kind}",
                                                         f"字段 {target}（{PRICE_LIST}.{key}）的类型必须是 {kind}")))
    not_above = spec.get("not_above", [])
    if not isinstance(not_above, list) or any(props.get(n, {}).get("type") != "number" for n in not_above):
        problems.append((where, (f"{PRICE_LIST}.not_above must list number fields of this form",
                                  f"{PRICE_LIST}.not_above 只能列出本表单中类型为 number 的字段")))
    required = set(schema.get("required") or [])
    fill = price_fill(schema)
    for filled in fill.filled if fill else ():
        if filled in required:
            problems.append((("required",), (f"{filled} is filled in from the price list: it cannot be required",
                                              f"{filled} 由价格表自动填写，不能设为必填（required）")))
    return problems


def check_data_keys(data: Any) -> dict:
    """For data with no form (messages, start without a start form): the key rule and `value_errors`."""
    if not isinstance(data, dict):
        raise InvalidData("data must be an object")
    bad = {_name(k): _UNDERSCORE for k in data if not isinstance(k, str) or k.startswith("_")}
    bad.update(value_errors(data))
    if bad:
        raise InvalidData(f"the data has invalid fields: {', '.join(sorted(bad))}", bad)
    return data
