"""The migration page says why an instance cannot move in the reader's language, naming the element as the
version names it (the engine keeps English by id in `reasons` for logs and API clients)."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.test_runtime__migration import ESCALATION_GONE, ESCALATION_GONE_TEXT, OWNER, fleet  # noqa: F401
from webui.app import create_app


def _page(engine, lang: str | None) -> str:
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": OWNER, "password": PASSWORD}).status_code == 302
    if lang:
        client.post("/language", data={"lang": lang})
    return client.get("/model/approval/migrate?to=2").get_data(as_text=True)


def test_the_reason_is_in_chinese_by_default(fleet):  # noqa: F811
    engine, _ids = fleet
    html = _page(engine, None)
    assert ESCALATION_GONE_TEXT["zh"] in html
    assert ESCALATION_GONE_TEXT["en"] not in html and ESCALATION_GONE not in html  # no English, no bare id


def test_the_reason_is_in_english_for_an_english_reader(fleet):  # noqa: F811
    engine, _ids = fleet
    html = _page(engine, "en")
    assert ESCALATION_GONE_TEXT["en"] in html
    assert ESCALATION_GONE_TEXT["zh"] not in html and ESCALATION_GONE not in html


def test_the_skipped_instances_say_why_in_the_readers_language(fleet):  # noqa: F811
    engine, ids = fleet
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": OWNER, "password": PASSWORD}).status_code == 302
    page = client.post("/model/approval/migrate", data={"to": "2", "confirmed": "yes"}).get_data(as_text=True)
    skipped = page.split('id="skipped"', 1)[1]
    assert f"#{ids['escalated']}</a>: {ESCALATION_GONE_TEXT['zh']}" in skipped
