"""Checking a contact entry (a call, letter or visit) before it is logged: every problem by field, zh and en."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.days import parse_day
from engine.errors import InvalidData

KINDS = ("call", "letter", "visit", "other")
MAX_SUMMARY = 4000
# how far back a contact may be logged: a year covers a late entry, an older date is a typing error
MAX_DAYS_BACK = 366


@dataclass(frozen=True)
class Entry:
    kind: str
    happened_on: date
    summary: str
    instance_id: int | None


def check(raw: object, today: date) -> Entry:
    """The entry, or InvalidData naming each bad field (the page puts each message beside its field)."""
    if not isinstance(raw, dict):
        raise InvalidData("a contact entry must be an object",
                          {"_form": {"zh": "数据格式不正确", "en": "Must be an object"}})
    problems: dict[str, dict[str, str]] = {}
    unknown = sorted(set(raw) - {"kind", "happened_on", "summary", "instance_id"})
    if unknown:
        problems["_form"] = {"zh": "含有不认识的字段", "en": "Unknown fields: " + ", ".join(unknown)}
    kind = raw.get("kind")
    if kind not in KINDS:
        problems["kind"] = {"zh": "请选择来电、来函、来访或其他", "en": "Choose call, letter, visit or other"}
    day = parse_day(raw.get("happened_on"))
    if day is None:
        problems["happened_on"] = {"zh": "请填写日期（年-月-日）", "en": "Give the date (YYYY-MM-DD)"}
    elif day > today:
        problems["happened_on"] = {"zh": "日期不能晚于今天", "en": "The date cannot be in the future"}
    elif (today - day).days > MAX_DAYS_BACK:
        problems["happened_on"] = {"zh": "日期不能早于一年前", "en": "The date cannot be more than a year ago"}
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems["summary"] = {"zh": "请填写联系内容", "en": "Write down what was said"}
    elif "\x00" in summary:
        problems["summary"] = {"zh": "不能含有 NUL 字符", "en": "May not contain a NUL character"}
    elif len(summary) > MAX_SUMMARY:
        problems["summary"] = {"zh": f"联系内容不能超过{MAX_SUMMARY}个字符", "en": f"At most {MAX_SUMMARY} characters"}
    instance_id = raw.get("instance_id")
    if instance_id in ("", None):
        instance_id = None
    elif isinstance(instance_id, str) and instance_id.strip().isdigit():
        instance_id = int(instance_id.strip())
    if instance_id is not None and (not isinstance(instance_id, int) or isinstance(instance_id, bool)
                                    or not 0 < instance_id < 2**31):
        problems["instance_id"] = {"zh": "请填写案卷编号（数字），或留空",
                                   "en": "Give a case number, or leave it empty"}
    if problems:
        raise InvalidData(f"the contact entry has errors in: {', '.join(sorted(problems))}", problems)
    return Entry(kind, day, summary.strip(), instance_id)
