"""The history page after a migration: v1's events keep v1's task names, the move is told in words
in both languages (tests/test_audit__timeline_versions.py checks the timeline itself)."""

from __future__ import annotations

import re

from tests.test_runtime__migration import NEW_TITLE, OLD_TITLE, OWNER, do, fleet  # noqa: F401 - fleet: a fixture
from tests.web.conftest import Pages
from webui.app import create_app


def _entry(html: str, kind: str) -> list[str]:
    found = re.findall(rf'<li id="step-\d+" class="entry kind-{kind}".*?</li>', html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", f).split()) for f in found]


def test_the_history_page_tells_the_move_in_words_and_keeps_old_names(fleet):  # noqa: F811
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    do(engine, "mgr", ids["fresh"], "approve", {"approved": True})
    auditor = Pages(create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})).login("aud")
    path = f"/instances/{ids['fresh']}/history"
    html = auditor.get(path).get_data(as_text=True)
    assert any(OLD_TITLE in e and NEW_TITLE not in e for e in _entry(html, "task_ready"))
    assert any(NEW_TITLE in e for e in _entry(html, "completed"))
    [moved] = _entry(html, "migrated")
    assert "迁移到流程的新版本" in moved and "版本 1 → 2" in moved and "migrated" not in moved
    auditor.post("/language", {"lang": "en"}, form_page="/inbox")
    [moved] = _entry(auditor.get(path).get_data(as_text=True), "migrated")
    assert "moved to a new version" in moved and "version 1 → 2" in moved
