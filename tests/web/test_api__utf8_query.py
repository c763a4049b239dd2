"""`?customer=海螺` sent raw (UTF-8 bytes, not percent-encoded, as curl sends it) finds what the
percent-encoded `?customer=%E6%B5%B7%E8%9E%BA` finds, in the API and on the pages, under every server:
Flask's test client (as a server that follows PEP 3333 hands it over) and werkzeug's development server
(`salesflow serve`, `make run`), whose "WSGI encoding dance" encoded such a query a second time so that every
filter silently matched nothing. (gunicorn refuses a raw non-ASCII request target with its own 400.)"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from tests.web.conftest import SAMPLE_REQUEST
from webui.rawquery import undo_second_encoding
from webui.serving import PooledWSGIServer

CUSTOMER = "芜湖海螺水泥有限公司"
RAW = "customer=海螺".encode()
PERCENT = f"customer={quote('海螺')}".encode()


@pytest.fixture
def started(engine) -> int:
    """One request of 海螺's, and one of another customer's that no filter for 海螺 may find."""
    engine.start("rep1", "sample_request", {**SAMPLE_REQUEST, "customer_name": "合肥建工集团"})
    return engine.start("rep1", "sample_request", {**SAMPLE_REQUEST, "customer_name": CUSTOMER})


def _as_server_sends(query: bytes) -> str:
    """QUERY_STRING as PEP 3333 wants it from any server: the latin-1 text of the bytes on the wire."""
    return query.decode("latin-1")


def _as_werkzeug_dev_server_sent(query: bytes) -> dict:
    """The environ werkzeug 3's development server built for such a query, before the fix: the latin-1 text
    encoded as UTF-8 once more."""
    return {"QUERY_STRING": query.decode("latin-1").encode("utf-8").decode("latin-1"),
            "SERVER_SOFTWARE": "Werkzeug/3.1", "werkzeug.socket": None}


def _found(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


@pytest.mark.parametrize("query", [RAW, PERCENT], ids=["raw", "percent-encoded"])
def test_the_api_search_finds_the_customer_whichever_way_the_query_is_sent(api, started, query):
    rep = api("rep1")
    assert _found(rep.get("/instances", environ_overrides={"QUERY_STRING": _as_server_sends(query)})) == [started]
    assert _found(rep.get("/instances", environ_overrides=_as_werkzeug_dev_server_sent(query))) == [started]


def test_the_search_page_finds_the_customer_from_a_raw_query(pages, started):
    rep = pages("rep1")
    for environ in ({"QUERY_STRING": _as_server_sends(RAW)}, _as_werkzeug_dev_server_sent(RAW)):
        html = rep.get("/instances", environ_overrides=environ).get_data(as_text=True)
        assert CUSTOMER in html and "合肥建工集团" not in html
        assert 'value="海螺"' in html  # the filter field shows what was asked, not mojibake


def test_a_raw_query_reaches_every_filter_not_only_the_customer(api, engine, started):
    """The repair is in front of the whole app (webui/rawquery.py): the business key filter too."""
    keyed = engine.start("rep1", "sample_request", SAMPLE_REQUEST, business_key="样品-2026-007")
    environ = _as_werkzeug_dev_server_sent("business_key=样品-2026".encode())
    assert _found(api("rep1").get("/instances", environ_overrides=environ)) == [keyed]


def test_the_repair_leaves_a_correct_query_as_it_is():
    assert undo_second_encoding("customer=ACME&page=2") == "customer=ACME&page=2"
    twice = _as_werkzeug_dev_server_sent(RAW)["QUERY_STRING"]
    assert undo_second_encoding(twice) == _as_server_sends(RAW)
    # already the latin-1 text of UTF-8 bytes (what a server that follows PEP 3333 sends): not decoded again
    assert undo_second_encoding(_as_server_sends(RAW)) == _as_server_sends(RAW)
    assert undo_second_encoding(_as_server_sends("q=\xe9".encode("latin-1"))) == "q=\xe9"  # not UTF-8 at all


# -- over a real socket --------------------------------------------------------------------------------------


@contextmanager
def _dev_server(app) -> Iterator[int]:
    """werkzeug's development server, as `salesflow serve` runs it (webui/serving.py), on a free port."""
    server = PooledWSGIServer("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def raw_get(port: int, target: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET with the request target's bytes exactly as given (http.client and requests would refuse them)."""
    lines = [b"GET " + target + b" HTTP/1.0", b"Host: 127.0.0.1"]
    lines += [f"{k}: {v}".encode() for k, v in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_a_live_development_server_finds_the_customer_from_a_raw_query(app, api_token, started):
    import json

    bearer = {"Authorization": f"Bearer {api_token('rep1')}"}
    with _dev_server(app) as port:
        for query in (RAW, PERCENT):
            status, body = raw_get(port, b"/api/v1/instances?" + query, bearer)
            assert status == 200, body
            assert [item["id"] for item in json.loads(body)["items"]] == [started], query
