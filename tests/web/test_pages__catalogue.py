"""Every sentence the pages can show has its Chinese translation: a message written in the code but missing
from the zh catalogue would reach a zh reader in English. And the translators' template (messages.pot) lists
every such message, so a new one reaches whoever updates the catalogues (babel.cfg says how to extract)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webui" / "translations"


@pytest.fixture(scope="module")
def in_code() -> set[str]:
    """The message ids the pages' code and templates use, extracted as babel.cfg says."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "webui", method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    assert len(found) > 300, "the extraction found too few messages to be the pages' own"
    return found


def catalogue(name: str):
    with (TRANSLATIONS / name).open("rb") as f:
        return read_po(f)


def test_every_message_the_pages_use_has_a_chinese_translation(in_code):
    zh = catalogue("zh/LC_MESSAGES/messages.po")
    untranslated = sorted(m for m in in_code if zh.get(m) is None or not _translated(zh.get(m).string))
    assert untranslated == []


def test_the_translators_template_lists_every_message_the_pages_use(in_code):
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue("messages.pot") if m.id}
    assert sorted(in_code - template) == [], "regenerate webui/translations/messages.pot (see babel.cfg)"


def _translated(text: str | tuple) -> bool:
    return all(text) if isinstance(text, tuple) else bool(text)
