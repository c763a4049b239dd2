"""The search page (/instances), its exports, per-instance downloads and the printable report."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from engine.runtime import search
from tests.conftest import ROOT
from tests.web.conftest import SAMPLE_REQUEST


def _english(client) -> None:  # a Pages client
    client.post("/language", {"lang": "en"}, form_page="/start")


def _rows(html: str) -> list[int]:
    """The instance ids of the results table, in order."""
    return [int(i) for i in re.findall(r'<tr data-instance-id="(\d+)"', html)]


@pytest.fixture
def started(engine, clock) -> list[int]:
    """Five sample requests by rep1, an hour apart (the newest last), and one by rep2; the first is approved."""
    ids = []
    for n in range(5):
        ids.append(engine.start("rep1", "sample_request", {**SAMPLE_REQUEST, "customer_name": f"客户{n}"},
                                business_key=f"SR-{n}"))
        clock.advance(hours=1)
    engine.complete("mgr1", engine.instance("rep1", ids[0])["tasks"][0]["id"], {"approved": True})
    ids.append(engine.start("rep2", "sample_request", {**SAMPLE_REQUEST, "customer_name": "Acme"},
                            business_key="OTHER-1"))
    return ids


def test_the_page_lists_what_the_user_may_see_newest_first(pages, started):
    html = pages("rep1").get("/instances").get_data(as_text=True)
    assert _rows(html) == started[4::-1]  # not rep2's
    assert "共找到 5 个实例" in html and "第 1 页，共 1 页" in html
    assert f'href="/instances/{started[0]}"' in html and f'href="/instances/{started[0]}/report"' in html
    assert "样品提供申请" in html and "客户3" in html
    assert _rows(pages("aud").get("/instances").get_data(as_text=True)) == started[::-1]


def test_the_page_in_english(pages, started):
    aud = pages("aud")
    _english(aud)
    html = aud.get("/instances?customer=acme").get_data(as_text=True)
    assert "Find instances" in html and "1 instances found" in html and "Page 1 of 1" in html
    assert "Sample request approval" in html and _rows(html) == [started[5]]


def test_filters_are_kept_in_the_form_and_narrow_the_results(pages, started):
    html = pages("aud").get("/instances?business_key=SR-&status=running&customer=客户").get_data(as_text=True)
    assert _rows(html) == started[4::-1]
    assert 'name="business_key" value="SR-"' in html
    assert '<option value="running" selected>' in html
    html = pages("aud").get("/instances?participant=mgr1").get_data(as_text=True)
    assert _rows(html) == [started[0]]
    html = pages("aud").get("/instances?process=&customer=&sla_breached=").get_data(as_text=True)  # empty: no filter
    assert len(_rows(html)) == 6


def test_pages_link_to_each_other_keeping_the_filters(pages, started):
    aud = pages("aud")
    first = aud.get("/instances?business_key=SR&per_page=2").get_data(as_text=True)
    assert _rows(first) == [started[4], started[3]] and "第 1 页，共 3 页" in first
    assert 'id="page-prev"' not in first
    link = re.search(r'id="page-next" rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "business_key=SR" in link and "per_page=2" in link and "page=2" in link
    second = aud.get(link).get_data(as_text=True)
    assert _rows(second) == [started[2], started[1]] and 'id="page-prev"' in second
    last = aud.get("/instances?business_key=SR&per_page=2&page=3").get_data(as_text=True)
    assert _rows(last) == [started[0]] and 'id="page-next"' not in last


def test_a_capped_total_shows_as_at_least_in_both_languages(pages, started, monkeypatch):
    monkeypatch.setattr(search, "TOTAL_CAP", 3)  # counting stops 3 past the page's start: "3+"
    aud = pages("aud")
    html = aud.get("/instances?per_page=2").get_data(as_text=True)
    assert _rows(html) == started[:3:-1] and "共找到 3+ 个实例" in html and "第 1 页，共 2+ 页" in html
    assert 'id="page-next"' in html
    _english(aud)
    html = aud.get("/instances?per_page=2&page=2").get_data(as_text=True)  # 2 + 3 counted of 6
    assert _rows(html) == started[3:1:-1] and "5+ instances found" in html and "Page 2 of 3+" in html
    html = aud.get("/instances?per_page=2&page=3").get_data(as_text=True)  # the last page counts them all
    assert _rows(html) == started[1::-1] and "6 instances found" in html and "Page 3 of 3" in html


def test_bad_filters_show_messages_beside_their_fields(pages, started):
    aud = pages("aud")
    response = aud.get("/instances?started_from=2026-02-30&status=lost")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and _rows(html) == []
    assert 'id="error-started_from">须为有效日期，格式 YYYY-MM-DD' in html
    assert 'id="error-status">须为 running、incident、completed、cancelled 或 error' in html
    _english(aud)
    html = aud.get("/instances?started_from=2026-03-05&started_to=2026-03-01").get_data(as_text=True)
    assert 'id="error-started_to">Must not be before the start date' in html
    html = aud.get("/instances?page=0").get_data(as_text=True)
    assert "page: Must be a whole number from 1 to 1000000" in html


def test_the_search_exports_as_a_json_bundle_and_as_csv(pages, started, tmp_path):
    aud = pages("aud")
    html = aud.get("/instances?customer=客户").get_data(as_text=True)
    link = re.search(r'id="export-json" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    response = aud.get(link)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="salesflow-instances-')
    bundle = response.get_json()
    assert bundle["count"] == 5 and bundle["filters"] == {"customer": "客户"}
    path = tmp_path / "bundle.json"
    path.write_bytes(response.data)
    checked = subprocess.run([sys.executable, "-S", "-I", str(ROOT / "tools" / "verify_trail.py"), str(path)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "verified: 5 chains" in checked.stdout
    response = aud.get(re.search(r'id="export-csv" href="([^"]+)"', html).group(1).replace("&amp;", "&"))
    assert response.mimetype == "text/csv" and response.headers["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "instance_id"
    assert len(rows) - 1 == sum(len(d["events"]) for d in bundle["instances"])


def test_an_export_too_large_or_invalid_goes_back_to_the_search_with_the_message(pages, started, monkeypatch):
    from engine.runtime import search

    monkeypatch.setattr(search, "MAX_EXPORT", 3)
    aud = pages("aud")
    response = aud.get("/instances/export?format=json&customer=客户")
    assert response.status_code == 302 and "/instances?customer=" in response.location
    html = aud.get(response.location).get_data(as_text=True)
    assert "找到超过 3 个实例，一次最多导出 3 个" in html
    response = aud.get("/instances/export?format=xml")
    assert response.status_code == 302
    assert "须为 json 或 csv" in aud.get(response.location).get_data(as_text=True)


def test_one_instance_downloads_as_json_or_csv(pages, started, engine):
    rep1 = pages("rep1")
    html = rep1.get(f"/instances/{started[0]}").get_data(as_text=True)
    assert f'href="/instances/{started[0]}/export.json"' in html and f'href="/instances/{started[0]}/report"' in html
    response = rep1.get(f"/instances/{started[0]}/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="salesflow-instance-{started[0]}.json"'
    assert json.loads(response.data)["chain"] == f"instance:{started[0]}"
    response = rep1.get(f"/instances/{started[0]}/export.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert response.data.startswith("\ufeff".encode()) and rows[0][:2] == ["position", "at"]
    kinds = [e["kind"] for e in engine.history("rep1", started[0])]
    assert [r[3] for r in rows[1:]] == kinds and kinds[0] == "started" and "completed" in kinds
    assert rep1.get(f"/instances/{started[0]}/export.xml").status_code == 404


def test_who_may_not_see_an_instance_may_not_export_or_print_it(pages, started):
    rep2 = pages("rep2")
    for path in (f"/instances/{started[0]}/export.json", f"/instances/{started[0]}/export.csv",
                 f"/instances/{started[0]}/report"):
        assert rep2.get(path).status_code == 404, path  # as if it did not exist
    assert pages().get("/instances").status_code == 302  # to the login page
    assert pages("aud").get(f"/instances/{started[0]}/report").status_code == 200


def test_the_report_shows_the_header_data_timeline_and_verification(pages, started, engine):
    aud = pages("aud")
    _english(aud)
    html = aud.get(f"/instances/{started[0]}/report").get_data(as_text=True)
    facts = html.split('id="report-facts"', 1)[1].split("</dl>", 1)[0]
    assert "Sample request approval" in facts and "SR-0" in facts and "客户0" in facts and "Running" in facts
    assert 'id="verify-result" data-ok="true">verified' in html
    history = engine.history("aud", started[0])
    assert f'<code id="final-hash">{history[-1]["hash"]}</code>' in html
    timeline = html.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    positions = [int(p) for p in re.findall(r'data-position="(\d+)"', timeline)]
    assert positions == [e["position"] for e in history]
    assert "2026-03-02 09:00:00" in timeline  # Beijing time, to the second
    approved = timeline.split('data-kind="completed"', 1)[1].split("</tr>", 1)[0]
    assert 'title="mgr1"' in approved and '<span class="new">Yes</span>' in approved
    assert "@media print" in (ROOT / "webui" / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert 'class="report-tools no-print"' in html


def test_the_report_shows_a_broken_chain(pages, started, db_url):
    raw = create_engine(db_url)
    try:
        with raw.begin() as conn:
            conn.execute(text("UPDATE audit_event SET actor = 'mgr2' WHERE chain = :c AND kind = 'completed'"),
                         {"c": f"instance:{started[0]}"})
    finally:
        raw.dispose()
    html = pages("aud").get(f"/instances/{started[0]}/report").get_data(as_text=True)
    assert 'id="verify-result" data-ok="false">已损坏' in html
    assert "验证失败" in html and "hash mismatch" in html
