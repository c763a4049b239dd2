"""The words of a notification, in Chinese and English; rendered when read (or e-mailed), in the
reader's language, from the facts kept with it (`Notification.params`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine import outcomes
from engine.config import COMPANY_TZ

LANGS = ("zh", "en")

_TITLE = {
    "offered": {"zh": "新任务：{task}", "en": "New task: {task}"},
    "decided": {"zh": "您的申请有结果了：{outcome}", "en": "Your request was decided: {outcome}"},
    "overdue": {"zh": "任务已逾期：{task}", "en": "Task overdue: {task}"},
}
_BODY = {
    "offered": {"zh": "{case}的任务「{task}」等待您处理。{by}",
                "en": "The task “{task}” of {case} is waiting for you.{by}"},
    "decided": {"zh": "您发起的{case}已结束，结果：{outcome}。",
                "en": "Your request {case} has ended: {outcome}."},
    "overdue": {"zh": "{case}的任务「{task}」已于 {due} 到期，尚未完成。",
                "en": "The task “{task}” of {case} was due {due} and is not done yet."},
}
_BY = {"zh": "（由{by}指派给您）", "en": " {by} assigned it to you."}
_SIGNATURE = {"zh": "—— salesflow 销售服务", "en": "— salesflow sales service"}
_OPEN = {"zh": "打开：{link}", "en": "Open: {link}"}


def _pick(text: dict | str | None, lang: str) -> str:
    if isinstance(text, dict):
        return text.get(lang) or text.get("zh") or text.get("en") or ""
    return text or ""


def _case(params: dict, instance_id: int, lang: str) -> str:
    """"样品申请 #12（海螺建材）" / "Sample request #12 (海螺建材)": the process, the number, the customer."""
    name = f"{_pick(params.get('process'), lang)} #{instance_id}"
    customer = params.get("customer")
    if customer:
        name += f"（{customer}）" if lang == "zh" else f" ({customer})"
    return name


def when(value: str | None) -> str:
    """An instant in company time, to the minute."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(ZoneInfo(COMPANY_TZ)).strftime("%Y-%m-%d %H:%M")


def render(kind: str, params: dict, instance_id: int, lang: str) -> dict[str, str]:
    """{"title", "text"} of a notification in `lang` (zh or en)."""
    lang = lang if lang in LANGS else "zh"
    outcome = params.get("outcome")
    label = outcomes.labels().get(outcome or "", {"zh": outcome or "", "en": outcome or ""})
    by = params.get("by")
    values = {"task": _pick(params.get("task"), lang), "case": _case(params, instance_id, lang),
              "outcome": _pick(label, lang), "due": when(params.get("due_at")),
              "by": _BY[lang].format(by=by) if by else ""}
    return {"title": _TITLE[kind][lang].format(**values), "text": _BODY[kind][lang].format(**values)}


def both(kind: str, params: dict, instance_id: int) -> dict[str, dict[str, str]]:
    """{"title": {"zh", "en"}, "text": {"zh", "en"}}: for the pages and the API, which pick the reader's."""
    rendered = {lang: render(kind, params, instance_id, lang) for lang in LANGS}
    return {part: {lang: rendered[lang][part] for lang in LANGS} for part in ("title", "text")}


def email(kind: str, params: dict, instance_id: int, lang: str, link: str | None) -> tuple[str, str]:
    """(subject, body) of the e-mail."""
    lang = lang if lang in LANGS else "zh"
    words = render(kind, params, instance_id, lang)
    lines = [words["text"]]
    if link:
        lines += ["", _OPEN[lang].format(link=link)]
    lines += ["", _SIGNATURE[lang]]
    return words["title"], "\n".join(lines) + "\n"
