"""Every error a person can meet on the pages comes in our layout and in their language (Chinese by default,
English after the switch): never Werkzeug's English page, never the engine's technical English line."""

from __future__ import annotations

import re

import pytest
from flask import abort

from tests.web.conftest import Pages

# status -> (a Chinese heading, an English heading): what the page says in each language
HEADINGS = {
    400: ("请求无法识别", "The request was not understood"),
    403: ("无权访问", "Not allowed"),
    404: ("未找到", "Not found"),
    405: ("此地址不接受这种请求", "This address does not take this kind of request"),
    409: ("已被他人处理", "Changed by someone else"),
    413: ("提交的内容过大", "What was sent is too large"),
    415: ("提交的内容格式不被接受", "What was sent is in a format this page does not take"),
    500: ("出错了", "Something went wrong"),
}
# Werkzeug's own pages and the engine's messages are English: none of this may show
WERKZEUG = ("The method is not allowed", "The requested URL was not found", "Bad Request", "Method Not Allowed",
            "Internal Server Error", "Request Entity Too Large", "Unsupported Media Type", "Redirecting")


@pytest.fixture
def app(app):  # the web app, plus addresses that fail the ways no page fails today
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash answers 500, as in production, instead of raising

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/test-only/boom", "boom", boom)
    app.add_url_rule("/test-only/415", "unsupported", lambda: abort(415))
    app.add_url_rule("/test-only/409", "conflict", lambda: abort(409))
    return app


def in_english(pages: Pages, path: str = "/login") -> Pages:
    pages.post("/language", {"lang": "en", "next": "/login"}, form_page=path)
    return pages


def _text(html: str) -> str:
    main = html.split('<main id="main">', 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def _assert_error_page(response, status: int, lang: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert f'data-status="{status}"' in html, f"{status} is not our error page: {html[:300]}"
    assert 'class="topbar"' in html, "the error page is not in the layout"
    zh, en = HEADINGS[status]
    text = _text(html)
    if lang == "zh":
        assert zh in text and '<html lang="zh-CN">' in html
        assert not re.search(r"[A-Za-z]{4,}", text.replace("salesflow", "")), f"English on the {status} page: {text}"
    else:
        assert en in text and '<html lang="en">' in html
        assert not re.search(r"[\u4e00-\u9fff]", text.replace("中文", "")), f"Chinese on the {status} page: {text}"
    for phrase in WERKZEUG:
        assert phrase not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unknown_address_and_a_missing_instance_are_404_pages(pages, lang):
    rep1 = pages("rep1")
    if lang == "en":
        in_english(rep1, "/inbox")
    _assert_error_page(rep1.get("/no-such-page"), 404, lang)
    _assert_error_page(rep1.get("/instances/999999"), 404, lang)
    anonymous = pages()
    if lang == "en":
        in_english(anonymous)
    _assert_error_page(anonymous.get("/no-such-page"), 404, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_get_on_logout_is_a_405_page_that_says_which_methods_work(pages, lang):
    rep1 = pages("rep1")
    if lang == "en":
        in_english(rep1, "/inbox")
    response = rep1.get("/logout")
    _assert_error_page(response, 405, lang)
    assert response.headers["Allow"] == "OPTIONS, POST"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_form_without_its_token_or_with_a_bad_value_is_a_400_page(pages, lang):
    rep1 = pages("rep1")
    if lang == "en":
        in_english(rep1, "/inbox")
    _assert_error_page(rep1.client.post("/logout"), 400, lang)  # no CSRF token
    _assert_error_page(rep1.post("/language", {"lang": "fr"}), 400, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_one_may_not_use_is_a_403_page_without_the_engines_english_line(pages, lang):
    qa1 = pages("qa1")  # quality may not start a sample request, nor open the modeler
    if lang == "en":
        in_english(qa1, "/inbox")
    for path in ("/start/sample_request", "/model"):
        response = qa1.get(path)
        _assert_error_page(response, 403, lang)
        assert "qa1" not in _text(response.get_data(as_text=True))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_too_large_a_body_is_a_413_page(pages, lang):
    anonymous = pages()
    if lang == "en":
        in_english(anonymous)
    response = anonymous.client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    _assert_error_page(response, 413, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_409_415_and_a_crash_are_pages_in_the_layout(pages, lang):
    rep1 = pages("rep1")
    if lang == "en":
        in_english(rep1, "/inbox")
    _assert_error_page(rep1.get("/test-only/409"), 409, lang)
    _assert_error_page(rep1.get("/test-only/415"), 415, lang)
    _assert_error_page(rep1.get("/test-only/boom"), 500, lang)


def test_errors_inside_the_api_stay_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["error"] == "not_found"
    response = client.put("/api/v1/tokens")
    assert response.status_code == 405 and response.is_json


@pytest.mark.parametrize(("lang", "expected"), [("zh", "请先登录。"), ("en", "Please log in to see this page.")])
def test_the_login_flash_is_in_the_readers_language(pages, lang, expected):
    anonymous = pages()
    if lang == "en":
        in_english(anonymous)
    response = anonymous.get("/inbox", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert expected in html
    assert "Please log in to access this page." not in html
