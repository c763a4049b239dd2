"""Chinese by default, English on a switch (kept in the session)."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel

LANGUAGES = ("zh", "en")
babel = Babel()


def current_language() -> str:
    """The session's choice; Chinese until the user switches (the company works in Chinese)."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def api_language() -> str:
    """For API error messages: the Accept-Language header, Chinese by default."""
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def localized(text: dict | str | None) -> str:
    """A {"zh": ..., "en": ...} text in the current language."""
    if isinstance(text, dict):
        return text.get(current_language()) or text.get("zh") or text.get("en") or ""
    return text or ""


def localized_problems(problems: list[dict]) -> list[dict]:
    """The engine's lint findings with `message` in the reader's language (the engine keeps both in
    `messages`; the English one stays for logs and API clients)."""
    return [{**p, "message": localized(p["messages"])} if isinstance(p.get("messages"), dict) else p
            for p in problems]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=current_language)
    app.jinja_env.globals.update(localized=localized, current_language=current_language)
