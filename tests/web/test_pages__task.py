"""The task page: the form from its schema, field messages after a failed submit, access, comments, completing."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def request_id(pages) -> int:
    return pages("rep1").start_sample()


def _task_id(engine, iid: int) -> str:
    return engine.instance("rep1", iid)["tasks"][0]["id"]


def _field(html: str, name: str) -> str:
    """The HTML of one field's block (label, input and its message)."""
    return html.split(f'id="row-{name}"', 1)[1].split('<div class="field', 1)[0]


def test_the_task_page_shows_the_form_and_the_earlier_data(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    response = pages("mgr1").get(f"/tasks/{task_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "样品提供申请表 · 销售部审批" in html  # the form's title
    approved = _field(html, "approved")
    assert "销售部同意提供样品" in approved
    assert 'type="radio" name="data.approved" value="true"' in approved
    assert 'type="radio" name="data.approved" value="false"' in approved
    assert '<textarea id="field-comment" name="data.comment"' in _field(html, "comment")
    earlier = html.split('id="earlier-heading"', 1)[1].split("</section>", 1)[0]
    assert "合肥建工集团" in earlier and "P·O 42.5 普通硅酸盐水泥" in earlier  # read only, no inputs
    assert "<input" not in earlier
    assert 'id="claim"' in html and 'id="complete"' in html


def test_a_rejection_without_reason_shows_the_rule_beside_the_comment_and_keeps_the_choice(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task_id}", {"data.approved": "false", "data.comment": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    comment = _field(html, "comment")
    assert 'id="error-comment"' in comment and "驳回时须填写驳回理由" in comment  # beside the field it concerns
    assert 'aria-describedby="error-comment"' in comment
    assert "驳回时须填写驳回理由" not in _field(html, "approved")
    assert re.search(r'value="false"\s+checked', _field(html, "approved"))  # the user's choice is kept
    assert engine.task("mgr1", task_id)["status"] == "ready"  # nothing completed


def test_text_that_is_not_a_number_or_a_date_is_kept_and_named(pages, engine, request_id):
    for user, data in [("mgr1", {"approved": True}), ("qa1", {"approved": True}), ("qa1", {"batch_no": "QC-1"})]:
        engine.complete(user, _task_id(engine, request_id), data)
    dispatch = _task_id(engine, request_id)
    response = pages("disp").post(f"/tasks/{dispatch}", {"data.shipped_on": "2026-02-30", "data.carrier": "顺丰速运"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "格式不正确（日期，格式 YYYY-MM-DD）" in _field(html, "shipped_on")
    assert 'value="2026-02-30"' in _field(html, "shipped_on")
    assert 'value="顺丰速运"' in _field(html, "carrier")
    assert 'class="field-error"' not in _field(html, "carrier")

    start = pages("rep1").post("/start/sample_request", {"data.customer_name": "合肥建工集团", "data.quantity": "很多"})
    html = start.get_data(as_text=True)
    assert start.status_code == 422
    assert "格式不正确（应为数字）" in _field(html, "quantity") and 'value="很多"' in _field(html, "quantity")
    assert "此项必填" in _field(html, "product")  # every missing required field is named beside itself
    assert "此项必填" not in _field(html, "customer_name")


def test_completing_the_form_moves_the_request_on(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task_id}", {"data.approved": "true", "data.comment": "同意，重点工程项目"})
    assert response.status_code == 302 and response.location == "/inbox"
    assert "任务已完成" in mgr1.get("/inbox").get_data(as_text=True)
    inst = engine.instance("rep1", request_id)
    assert inst["data"]["approved"] is True and inst["data"]["comment"] == "同意，重点工程项目"
    assert [t["name"] for t in inst["tasks"]] == ["quality_approval"]
    assert [(t["name"], t["completed_by"]) for t in inst["history_tasks"]] == [("sales_approval", "mgr1")]


def test_claim_and_release_from_the_task_page(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task_id}/claim", {"next": f"/tasks/{task_id}"})
    assert response.location == f"/tasks/{task_id}"
    html = mgr1.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<dd id="assignee"><span class="person-name person" title="mgr1">mgr1</span></dd>' in html
    assert 'id="unclaim"' in html and 'id="claim"' not in html

    other = pages("mgr2").get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="not-yours"' in other and 'id="complete"' not in other  # claimed by mgr1: read only for mgr2
    mgr1.post(f"/tasks/{task_id}/unclaim", {"next": f"/tasks/{task_id}"})
    assert engine.task("mgr1", task_id)["assignee"] is None


@pytest.mark.parametrize("user", ["qa1", "rep2", "disp"])
def test_a_user_outside_the_task_gets_404_as_for_a_missing_one(pages, engine, request_id, user):
    task_id = _task_id(engine, request_id)
    client = pages(user)
    page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 404
    assert "不存在" in page.get_data(as_text=True)
    assert client.post(f"/tasks/{task_id}", {"data.approved": "true"}).status_code == 404
    assert engine.task("mgr1", task_id)["status"] == "ready"


def test_the_requester_may_read_but_not_work_their_own_approval(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    rep1 = pages("rep1")
    html = rep1.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'id="complete"' not in html
    assert rep1.post(f"/tasks/{task_id}", {"data.approved": "true"}).status_code == 403


def test_an_unknown_task_is_404(pages):
    assert pages("mgr1").get("/tasks/no-such-task").status_code == 404


def test_comments_on_a_task(pages, engine, request_id):
    task_id = _task_id(engine, request_id)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task_id}/comments", {"text": "请补充客户的工程名称"})
    assert response.status_code == 302
    assert engine.comments("mgr1", task_id)[0]["text"] == "请补充客户的工程名称"
    html = pages("mgr2").get(f"/tasks/{task_id}").get_data(as_text=True)
    comments = html.split('id="comments"', 1)[1]
    assert "请补充客户的工程名称" in comments and "mgr1" in comments

    empty = mgr1.post(f"/tasks/{task_id}/comments", {"text": "   "}, follow_redirects=True)
    assert "评论须为1-2000个字符" in empty.get_data(as_text=True)
    assert len(engine.comments("mgr1", task_id)) == 1
