"""The modeler's check speaks the owner's language: the engine keeps each lint message in zh and en, the page
shows the reader's (Chinese by default), and a refused deploy lists its problems in that language too."""

from __future__ import annotations

import pytest

from tests.web.test_pages__model import bundle, owners, post_json  # noqa: F401 - owners is a fixture

BAD_LANE = ('<bpmn:lane id="dispatcher"', '<bpmn:lane id="dispatchr"')


def _bad_bundle() -> list[dict]:
    files = bundle()
    for f in files:
        if f["name"] == "sample_request.bpmn":
            assert BAD_LANE[0] in f["content"]
            f["content"] = f["content"].replace(BAD_LANE[0], BAD_LANE[1], 1)
    return files


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", "泳道 dispatchr 不是已知角色（见 processes/roles.yaml）"),
    ("en", "lane dispatchr is not a known role (see processes/roles.yaml)"),
])
def test_lint_messages_come_in_the_readers_language(owners, pages, lang, expected):  # noqa: F811
    client = pages("adm")
    if lang == "en":
        client.post("/language", {"lang": "en", "next": "/model"}, form_page="/inbox")
    body = post_json(client, "/model/lint", {"files": _bad_bundle()}).get_json()
    [problem] = [p for p in body["problems"] if p["element"] == "dispatchr"]
    assert problem["message"] == expected
    assert problem["messages"] == {"zh": "泳道 dispatchr 不是已知角色（见 processes/roles.yaml）",
                                   "en": "lane dispatchr is not a known role (see processes/roles.yaml)"}
