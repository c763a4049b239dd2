"""Reading a price list file: CSV, UTF-8 (with or without the BOM spreadsheets write), one header row.

The header names the columns in any order, in English or Chinese: product 品名, spec 规格, grade 等级,
unit 单位, price_yuan 单价（元）, valid_from 有效期自 and, optionally, valid_to 有效期至 (the last day the
price applies; empty: until it is ended). Every line is checked (engine/prices/rows.py) and every
problem is reported with its line number; blank lines are skipped.
"""

from __future__ import annotations

import csv
import io

from engine.errors import InvalidData
from engine.prices import rows

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
ALIASES = {"品名": "product", "规格": "spec", "等级": "grade", "单位": "unit", "单价（元）": "price_yuan",
           "单价(元)": "price_yuan", "有效期自": "valid_from", "有效期至": "valid_to"}
Text = dict[str, str]


def _refuse(message: str, zh: str) -> InvalidData:
    return InvalidData(message, {"file": {"zh": zh, "en": message}})


def decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise _refuse(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", "文件超过 2 MiB")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(f"the file is not UTF-8 text (byte {exc.start + 1}): save it as \"CSV UTF-8\"",
                      f"文件不是 UTF-8 编码（第 {exc.start + 1} 个字节）：请另存为“CSV UTF-8”格式") from None


def _header(names: list[str]) -> list[str]:
    columns = [ALIASES.get(n.strip(), n.strip()) for n in names]
    unknown = [n for n, c in zip(names, columns, strict=True) if c not in rows.COLUMNS]
    missing = [c for c in rows.REQUIRED if c not in columns]
    twice = sorted({c for c in columns if columns.count(c) > 1})
    problems = []
    if unknown:
        problems.append((f"unknown column(s) {', '.join(unknown)}", f"未知的列：{'、'.join(unknown)}"))
    if missing:
        problems.append((f"missing column(s) {', '.join(missing)}",
                         f"缺少列：{'、'.join(rows.NAMES[c]['zh'] + ' ' + c for c in missing)}"))
    if twice:
        problems.append((f"column(s) given twice: {', '.join(twice)}", f"列重复：{'、'.join(twice)}"))
    if problems:
        en = "; ".join(p[0] for p in problems)
        raise InvalidData(f"line 1 (the header): {en}; the columns are {', '.join(rows.COLUMNS)}",
                          {"line 1": {"zh": "表头：" + "；".join(p[1] for p in problems), "en": "header: " + en}})
    return columns


def read(text: str) -> tuple[list[tuple[int, dict]], dict[str, Text]]:
    """([(line number, {column: text})] of every non-blank line after the header, {"line N": why} of the
    lines with too many or too few cells); InvalidData for a file that is not such a table at all."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise _refuse("the file is empty: the first line must name the columns " + ", ".join(rows.COLUMNS),
                          "文件为空：第一行须为表头（" + "、".join(rows.COLUMNS) + "）")
        columns = _header(header)
        found, bad = [], {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                bad[f"line {line}"] = {"zh": f"有 {len(cells)} 列，表头有 {len(columns)} 列",
                                       "en": f"{len(cells)} cells where the header has {len(columns)}"}
                continue
            found.append((line, dict(zip(columns, cells, strict=True))))
            if len(found) > MAX_ROWS:
                raise _refuse(f"more than {MAX_ROWS} rows", f"超过 {MAX_ROWS} 行")
    except csv.Error as exc:
        line = reader.line_num
        raise _refuse(f"line {line}: not valid CSV ({exc})", f"第 {line} 行：CSV 格式错误") from None
    if not found and not bad:
        raise _refuse("the file has a header but no rows", "文件只有表头，没有价格行")
    return found, bad
