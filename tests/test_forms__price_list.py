"""Forms whose fields the engine fills from the price list (`x-price-list`) and numbers with at most N
decimal places (`x-decimals`), on any form: here the start form of the small approval fixture.

The deploy refuses an `x-price-list` that cannot work, naming the form file and the line; at run time
the engine fills the price valid that day inside the starting (or completing) command, refuses a typed
one, and records the row it used in the trail.
"""

from __future__ import annotations

import pytest

from engine.definitions.bundle import KINDS, SourceFile
from engine.errors import DefinitionError, InvalidData, ProcessError
from engine.forms import FormDef, filled_fields, validate
from tests.conftest import FIXTURES, add_users

APPROVAL = FIXTURES / "approval"
PRICED_FORM = """key: approval_request
title: {zh: 申请, en: Request}
schema:
  type: object
  additionalProperties: false
  required: [customer_name, amount_yuan, item, size, quality]
  properties:
    customer_name: {type: string, minLength: 1, maxLength: 200}
    amount_yuan: {type: number, minimum: 0, x-decimals: 2}
    item: {type: string}
    size: {type: string}
    quality: {type: string}
    price: {type: number, x-price-list: {product: item, spec: size, grade: quality, row: price_row}}
    price_row: {type: object}
fields:
  - {name: customer_name, label: {zh: 客户名称, en: Customer name}}
  - {name: amount_yuan, label: {zh: 金额（元）, en: Amount (yuan)}}
  - {name: item, label: {zh: 品名, en: Product}}
  - {name: size, label: {zh: 规格, en: Specification}}
  - {name: quality, label: {zh: 等级, en: Grade}}
  - {name: price, label: {zh: 定价, en: List price}}
  - {name: price_row, label: {zh: 价格记录, en: Price row}}
"""
START = {"customer_name": "合肥建工集团", "amount_yuan": 20000, "item": "P·O 42.5", "size": "散装", "quality": "一等品"}


def bundle(form: str) -> list[SourceFile]:
    files = [SourceFile(p.name, KINDS[p.suffix], p.read_bytes()) for p in sorted(APPROVAL.iterdir())
             if p.name != "approval_request.yaml"]
    return [*files, SourceFile("approval_request.yaml", KINDS[".yaml"], form.encode("utf-8"))]


def test_a_start_form_is_filled_from_the_price_list_and_the_trail_keeps_the_row(engine):
    engine.deploy("system", files=bundle(PRICED_FORM))
    add_users(engine, {"rep": ["sales_rep"], "dir": ["sales_director"]})
    engine.import_prices("dir", (FIXTURES / "prices" / "list.csv").read_bytes(), "list.csv")
    iid = engine.start("rep", "approval", START)
    [started] = [e for e in engine.history("rep", iid) if e["kind"] == "started"]
    data = started["payload"]["data"]
    assert data["price"] == 420
    assert {k: data["price_row"][k] for k in ("product", "spec", "grade", "price_fen", "on")} == {
        "product": "P·O 42.5", "spec": "散装", "grade": "一等品", "price_fen": 42000, "on": "2026-03-02"}
    with pytest.raises(InvalidData) as info:
        engine.start("rep", "approval", {**START, "price": 1})
    assert set(info.value.fields) == {"price"}
    with pytest.raises(InvalidData) as info:
        engine.start("rep", "approval", {**START, "amount_yuan": 1.005})
    assert info.value.fields == {"amount_yuan": {"zh": "最多 2 位小数", "en": "At most 2 decimal place(s)"}}
    assert engine.replay(iid).verified


@pytest.mark.parametrize(("change", "message", "zh"), [
    (("row: price_row}", "row: price_row, discount: 5}"), "x-price-list does not know discount",
     "x-price-list 不认识 discount"),
    (("spec: size,", "spec: width,"), "x-price-list.spec must name a field of this form",
     "x-price-list.spec 必须指向本表单的一个字段"),
    (("price: {type: number,", "price: {type: string,"), "the field price receives a price: its type must be number",
     "字段 price 要填入价格，其类型必须是 number"),
    (("price_row: {type: object}", "price_row: {type: string}"),
     "the field price_row (x-price-list.row) must be of type object",
     "字段 price_row（x-price-list.row）的类型必须是 object"),
    (("quality: {type: string}", "quality: {type: integer}"),
     "the field quality (x-price-list.grade) must be of type string",
     "字段 quality（x-price-list.grade）的类型必须是 string"),
    (("required: [customer_name, amount_yuan,", "required: [price, customer_name, amount_yuan,"),
     "price is filled in from the price list: it cannot be required", "price 由价格表自动填写，不能设为必填"),
    (("price_row: {type: object}", "price_row: {type: object, x-price-list: {product: item}}"),
     "a form has at most one x-price-list field", "一个表单最多只能有一个带 x-price-list 的字段"),
    (("item: {type: string}", "item: {type: string, not: {x-price-list: {}}}"),
     "x-price-list belongs on a property of the form itself",
     "x-price-list 只能写在表单自身的属性上"),
    (("x-decimals: 2}", "x-decimals: '2'}"), "x-decimals must be a whole number of decimal places from 0 to 10",
     "x-decimals 必须是 0 到 10 之间的整数"),
    (("x-decimals: 2}", "x-decimals: -1}"), "x-decimals must be a whole number of decimal places from 0 to 10",
     "x-decimals 必须是 0 到 10 之间的整数"),
])
def test_a_price_list_field_or_decimals_that_cannot_work_are_refused_at_deploy(engine, change, message, zh):
    old, new = change
    assert old in PRICED_FORM
    with pytest.raises(DefinitionError) as info:
        engine.deploy("system", files=bundle(PRICED_FORM.replace(old, new, 1)))
    found = [p for p in info.value.problems if message in p.message and zh in p.messages()["zh"]]
    assert found, [str(p) for p in info.value.problems]
    assert found[0].file == "approval_request.yaml" and found[0].line is not None


def test_validating_such_a_form_without_the_price_list_is_a_process_error():
    import yaml

    form = FormDef.from_dict(yaml.safe_load(PRICED_FORM))
    assert filled_fields(form.schema) == {"price", "price_row"}
    with pytest.raises(ProcessError, match="fills fields from the price list"):
        validate(form, dict(START))
    with pytest.raises(InvalidData) as info:  # what the person typed is checked before anything is looked up
        validate(form, {**START, "item": None})
    assert set(info.value.fields) == {"item"}


def test_the_price_is_refused_beside_the_product_when_the_list_has_none(engine):
    engine.deploy("system", files=bundle(PRICED_FORM))
    add_users(engine, {"rep": ["sales_rep"]})
    with pytest.raises(InvalidData) as info:
        engine.start("rep", "approval", START)  # the list is empty
    assert info.value.fields == {"item": {
        "zh": "2026-03-02 公司价格表中没有“P·O 42.5 / 散装 / 一等品”的有效价格，不能报价",
        "en": "The company's price list has no price valid on 2026-03-02 for P·O 42.5 / 散装 / 一等品: "
              "it cannot be quoted"}}
