"""After completing a task: straight on to the request's next task when it is the same person's, else
back to the inbox with where the request went; the inbox counts a page polls; "my requests" shows
where each request waits and for whom."""

from __future__ import annotations

import re

import pytest

from engine.errors import InvalidData, NotFound
from tests.conftest import PASSWORD


def _ready(engine, iid: int) -> dict:
    return engine.instance("adm", iid)["tasks"][0]


def _flashes(html: str) -> list[str]:
    return re.findall(r'<li class="flash info" role="status">(.*?)</li>', html)


def test_the_next_task_of_the_same_request_opens_at_once_when_it_is_mine(pages, engine):
    iid = pages("rep1").start_sample()
    engine.complete("mgr1", _ready(engine, iid)["id"], {"approved": True})
    qa1 = pages("qa1")
    quality = _ready(engine, iid)
    response = qa1.post(f"/tasks/{quality['id']}", {"data.approved": "true"}, form_page=f"/tasks/{quality['id']}")
    sampling = _ready(engine, iid)  # the quality department takes the sample next: qa1 holds that role too
    assert sampling["role"] == "quality" and sampling["id"] != quality["id"]
    assert response.status_code == 302 and response.location.endswith(f"/tasks/{sampling['id']}")
    page = qa1.get(response.location).get_data(as_text=True)
    assert _flashes(page) == ["任务已完成。", "该申请的下一步也由你处理，已为你打开。"]


def test_otherwise_the_inbox_says_where_the_request_went(pages, engine):
    iid = pages("rep1").start_sample()
    task = _ready(engine, iid)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task['id']}", {"data.approved": "true"}, form_page=f"/tasks/{task['id']}")
    assert response.status_code == 302 and response.location.endswith("/inbox")
    flashes = _flashes(mgr1.get("/inbox").get_data(as_text=True))
    assert flashes == ["任务已完成。", "该申请现在等待：品质部审批（品质部）。"]


def test_a_claimed_next_task_names_the_person_by_display_name_in_english(pages, engine):
    engine.add_user("qa9", ["quality"], PASSWORD, display_name="Wang Li")
    iid = pages("rep1").start_sample()
    engine.complete("mgr1", _ready(engine, iid)["id"], {"approved": True})
    engine.claim("qa9", _ready(engine, iid)["id"])
    engine.complete("qa9", _ready(engine, iid)["id"], {"approved": True})  # the sampling task: offered again
    engine.claim("qa9", _ready(engine, iid)["id"])
    step = engine.after_step("rep1", iid)
    assert step["next_task"] is None and step["waiting"][0]["assignee_name"] == "Wang Li"
    rep1 = pages("rep1")
    rep1.post("/language", {"lang": "en"}, form_page="/start")
    mine = rep1.get("/instances?started_by=rep1").get_data(as_text=True)
    assert "<h1>My requests</h1>" in mine
    waiting = mine.split('class="col-waiting"', 1)[1].split("</td>", 1)[0]
    assert "Wang Li" in waiting and "qa9" not in waiting.replace('title="qa9"', "")


def test_a_decision_that_ends_the_request_says_how_it_ended(pages, engine):
    iid = pages("rep1").start_sample()
    task = _ready(engine, iid)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task['id']}", {"data.approved": "false", "data.comment": "库存不足"},
                         form_page=f"/tasks/{task['id']}")
    assert response.location.endswith("/inbox")
    assert _flashes(mgr1.get("/inbox").get_data(as_text=True))[-1] == "该申请已结束：已驳回。"


def test_only_someone_who_may_work_the_next_task_is_sent_to_it(app, engine):
    """The engine's answer the page relies on: a ready task the user may work, theirs before offered ones."""
    iid = engine.start("rep1", "sample_request", _sample())
    assert engine.after_step("rep1", iid)["next_task"] is None  # sales approval: separation of duties
    assert engine.after_step("mgr1", iid)["next_task"] == _ready(engine, iid)["id"]
    with pytest.raises(NotFound):  # an outsider learns nothing, not even that it exists
        engine.after_step("qa1", iid)
    assert [t["role"] for t in engine.after_step("rep1", iid)["waiting"]] == ["sales_manager"]


def test_my_requests_show_status_outcome_and_where_each_waits(pages, engine):
    rep1 = pages("rep1")
    waiting, rejected = rep1.start_sample(), rep1.start_sample()
    engine.complete("mgr1", _ready(engine, rejected)["id"], {"approved": False, "comment": "库存不足"})
    html = rep1.get("/instances?started_by=rep1").get_data(as_text=True)
    assert "<h1>我的申请</h1>" in html
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<tr data-instance-id="(\d+)".*?</tr>', html, re.S)}
    assert "进行中" in rows[waiting] and "销售部审批" in rows[waiting] and "待销售部经理处理" in rows[waiting]
    assert "已驳回" in rows[rejected] and "<ul class=\"waiting\">" not in rows[rejected]
    assert pages("rep2").get("/instances?started_by=rep1").get_data(as_text=True).count("data-instance-id=") == 0


def test_the_counts_a_page_polls_are_the_navigations(pages, engine, client):
    pages("rep1").start_sample()
    pages("rep1").start_sample()
    response = pages("mgr1").get("/inbox/counts")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"total": 2, "roles": {"sales_manager": 2}}
    assert pages("qa1").get("/inbox/counts").get_json() == {"total": 0, "roles": {}}
    nav = pages("qa1").get("/inbox").get_data(as_text=True).split("</nav>", 1)[0]
    assert re.search(r'hidden data-role="quality">品质部\s*<span class="count">0</span>', nav)  # shown when work comes
    logged_out = client.get("/inbox/counts")
    assert logged_out.status_code == 401 and logged_out.get_json()["error"] == "unauthorized"


def _sample() -> dict:
    from tests.web.conftest import SAMPLE_REQUEST

    return dict(SAMPLE_REQUEST)


def test_where_requests_wait_is_told_only_to_who_may_see_them(app, engine):
    iid = engine.start("rep1", "sample_request", _sample())
    assert [t["role"] for t in engine.waiting("rep1", [iid])[iid]] == ["sales_manager"]
    assert engine.waiting("rep2", [iid]) == {}  # another rep's request: as if it did not exist
    assert engine.waiting("aud", [iid, 999]) == {iid: engine.waiting("rep1", [iid])[iid]}
    with pytest.raises(InvalidData):
        engine.waiting("rep1", list(range(201)))
