"""The instance page: status, data, open and finished tasks, who did what and when, the diagram's data."""

from __future__ import annotations

import re


def _advance(engine, iid: int, steps: list[tuple[str, dict]]) -> None:
    for user, data in steps:
        engine.complete(user, engine.instance("rep1", iid)["tasks"][0]["id"], data)


def test_the_instance_page_lists_who_completed_what(pages, engine, clock):
    iid = pages("rep1").start_sample()
    clock.advance(hours=2)
    _advance(engine, iid, [("mgr1", {"approved": True, "comment": "同意，重点工程项目"})])
    clock.advance(hours=1)
    _advance(engine, iid, [("qa1", {"approved": True})])

    response = pages("rep1").get(f"/instances/{iid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="status">进行中' in html
    done = html.split('id="done-tasks"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><td>(.*?)</td><td>(.*?)</td>\s*<td><span class="who person" title="(.*?)">.*?</span></td>'
                      r"<td>(.*?)</td></tr>", done)
    assert rows == [("销售部审批", "已完成", "mgr1", "2026-03-02 11:00"),
                    ("品质部审批", "已完成", "qa1", "2026-03-02 12:00")]
    opened = html.split('id="open-tasks"', 1)[1].split("</table>", 1)[0]
    assert "品质部取样" in opened and "品质部" in opened

    history = html.split('id="history"', 1)[1].split("</ol>", 1)[0]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip()
             for li in re.findall(r"<li[^>]*>(.*?)</li>", history, re.S)]
    assert lines == ["2026-03-02 09:00 rep1 发起了申请",
                     "2026-03-02 11:00 mgr1 领取 销售部审批",
                     "2026-03-02 11:00 mgr1 完成 销售部审批",
                     "2026-03-02 12:00 qa1 领取 品质部审批",
                     "2026-03-02 12:00 qa1 完成 品质部审批"]
    data = html.split('id="data-heading"', 1)[1].split("</section>", 1)[0]
    assert "同意，重点工程项目" in data and "合肥建工集团" in data


def test_the_page_holds_the_diagram_container_and_its_scripts(pages):
    rep1 = pages("rep1")
    iid = rep1.start_sample()
    html = rep1.get(f"/instances/{iid}").get_data(as_text=True)
    assert f'<div id="diagram" data-diagram-url="/instances/{iid}/diagram.json"' in html
    # one module, which imports the viewer itself
    assert '<script type="module" src="/static/dist/js/pages/instance.js"></script>' in html


def test_diagram_json_for_a_participant(pages, engine):
    rep1 = pages("rep1")
    iid = rep1.start_sample()
    response = rep1.get(f"/instances/{iid}/diagram.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["process_key"] == "sample_request"
    assert body["bpmn"].lstrip().startswith("<?xml") and "sales_approval" in body["bpmn"]
    assert body["active"] == ["sales_approval", "sales_approval_overdue"]  # the approval and its deadline
    assert "fill_request_form" in body["completed"]
    assert pages("mgr1").get(f"/instances/{iid}/diagram.json").status_code == 200  # it waits for them
    assert pages("aud").get(f"/instances/{iid}/diagram.json").status_code == 200  # auditors read everything


def test_diagram_json_refuses_outsiders_and_unknown_instances(pages):
    iid = pages("rep1").start_sample()
    refused = pages("rep2").get(f"/instances/{iid}/diagram.json")
    assert refused.status_code == 404  # an instance rep2 may not see does not exist for rep2
    assert refused.get_json()["error"] == "not_found"
    missing = pages("rep1").get("/instances/9999/diagram.json")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    assert pages().get(f"/instances/{iid}/diagram.json").status_code == 401


def test_instance_page_is_404_for_outsiders_as_when_missing(pages):
    iid = pages("rep1").start_sample()
    assert pages("rep2").get(f"/instances/{iid}").status_code == 404
    assert pages("qa1").get(f"/instances/{iid}").status_code == 404
    assert pages("rep1").get("/instances/9999").status_code == 404
