"""The inbox: who sees a task, with which details; claim, release and reassign from it."""

from __future__ import annotations

import re

from tests.conftest import add_users


def _rows(html: str) -> dict[str, str]:
    """{task id: that row's HTML} of the inbox table."""
    return dict(re.findall(r'<tr class="[^"]*" data-task-id="([^"]+)".*?>(.*?)</tr>', html, re.S))


def _inbox(client) -> dict[str, str]:
    response = client.get("/inbox")
    assert response.status_code == 200
    return _rows(response.get_data(as_text=True))


def test_a_new_request_is_offered_to_every_sales_manager_and_to_no_sales_rep(pages, engine):
    iid = pages("rep1").start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]

    for manager in ("mgr1", "mgr2"):
        rows = _inbox(pages(manager))
        assert list(rows) == [task_id], manager
        row = rows[task_id]
        assert "销售部审批" in row  # the task
        assert "样品提供申请" in row  # the process
        assert "合肥建工集团" in row  # the customer
        assert "销售部经理" in row  # the role it is offered to
        assert "0分钟" in row  # its age
        assert 'name="claim"' in row
    assert _inbox(pages("rep2")) == {}
    assert _inbox(pages("qa1")) == {}


def test_the_navigation_counts_ready_tasks_per_role(pages):
    pages("rep1").start_sample()
    pages("rep1").start_sample(customer_name="芜湖海螺")
    html = pages("mgr1").get("/start").get_data(as_text=True)
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert re.search(r'id="nav-inbox"[^>]*>待办\s*<span class="count"[^>]*>2</span>', nav)
    assert re.search(r'data-role="sales_manager">销售部经理\s*<span class="count">2</span>', nav)


def test_past_the_count_cap_the_navigation_shows_cap_plus_in_both_languages(pages, engine, monkeypatch):
    """Nobody reads a count of 160,000: past Engine.count_cap (999; 2 here) every badge shows "2+", and the
    poll gives cap + 1 so that layout.js shows the same; at the cap the exact count."""
    monkeypatch.setattr(engine, "count_cap", 2)
    for _ in range(2):
        pages("rep1").start_sample()
    mgr = pages("mgr1")
    nav = mgr.get("/start").get_data(as_text=True).split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert re.search(r'id="nav-inbox"[^>]*>待办\s*<span class="count"[^>]*>2</span>', nav)
    assert "2+" not in nav
    pages("rep1").start_sample()
    html = mgr.get("/start").get_data(as_text=True)
    assert re.search(r'data-count-cap="2" data-capped-title="等待你处理的任务超过 2 件"', html)
    assert re.search(r'id="nav-inbox"[^>]*>待办\s*<span class="count" data-inbox-count="total" '
                     r'title="等待你处理的任务超过 2 件">2\+</span>', html)
    over = 'title="等待你处理的任务超过 2 件">2+</span>'
    assert re.search(r'data-role="sales_manager">销售部经理\s*<span class="count" ' + re.escape(over), html)
    assert html.count(f'data-inbox-count="total" {over}') == 2  # the menu button's too
    assert mgr.get("/inbox/counts").get_json() == {"total": 3, "roles": {"sales_manager": 3}}  # 3: more than 2
    assert len(_inbox(mgr)) == 3  # the inbox itself lists every task
    mgr.post("/language", {"lang": "en", "next": "/start"})
    html = mgr.get("/start").get_data(as_text=True)
    assert re.search(r'id="nav-inbox"[^>]*>Inbox\s*<span class="count" data-inbox-count="total" '
                     r'title="More than 2 tasks ready for you">2\+</span>', html)


def test_claim_takes_the_task_from_the_other_inboxes_and_release_offers_it_again(pages, engine):
    iid = pages("rep1").start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    mgr1, mgr2 = pages("mgr1"), pages("mgr2")

    response = mgr1.post(f"/tasks/{task_id}/claim", {"next": "/inbox"})
    assert response.status_code == 302 and response.location == "/inbox"
    row = _inbox(mgr1)[task_id]
    assert "<strong>我</strong>" in row and 'name="unclaim"' in row
    assert _inbox(mgr2) == {}
    assert engine.task("mgr1", task_id)["assignee"] == "mgr1"

    assert mgr1.post(f"/tasks/{task_id}/unclaim", {"next": "/inbox"}).status_code == 302
    assert engine.task("mgr1", task_id)["assignee"] is None
    assert 'name="claim"' in _inbox(mgr2)[task_id]


def test_claiming_a_task_someone_else_holds_says_so(pages, engine):
    iid = pages("rep1").start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    engine.claim("mgr2", task_id)
    mgr1 = pages("mgr1")
    response = mgr1.post(f"/tasks/{task_id}/claim", {"next": "/inbox"}, follow_redirects=True)
    assert "已被他人先行处理" in response.get_data(as_text=True)
    assert engine.task("mgr2", task_id)["assignee"] == "mgr2"


def test_filters_by_process_role_and_overdue(pages, engine):
    pages("rep1").start_sample()
    mgr1 = pages("mgr1")
    assert len(_rows(mgr1.get("/inbox?process=sample_request").get_data(as_text=True))) == 1
    assert _rows(mgr1.get("/inbox?process=customer_visit").get_data(as_text=True)) == {}
    assert len(_rows(mgr1.get("/inbox?role=sales_manager").get_data(as_text=True))) == 1
    assert _rows(mgr1.get("/inbox?role=initiator").get_data(as_text=True)) == {}
    assert _rows(mgr1.get("/inbox?overdue=1").get_data(as_text=True)) == {}
    assert len(_rows(mgr1.get("/inbox?overdue=0").get_data(as_text=True))) == 1


def test_an_overdue_task_is_marked(pages, engine, clock):
    """The requester's feedback task is due 14 days after shipping (P5); after that it shows as overdue."""
    iid = pages("rep1").start_sample()
    steps = [("mgr1", {"approved": True}), ("qa1", {"approved": True}), ("qa1", {"batch_no": "QC-1"}),
             ("disp", {"shipped_on": "2026-03-02", "carrier": "顺丰速运", "tracking_no": "SF1"})]
    for user, data in steps:
        engine.complete(user, engine.instance("rep1", iid)["tasks"][0]["id"], data)
    feedback = engine.instance("rep1", iid)["tasks"][0]
    rep1 = pages("rep1")
    assert "overdue-mark" not in _inbox(rep1)[feedback["id"]]

    clock.advance(days=14, minutes=1)
    row = _inbox(rep1)[feedback["id"]]
    assert "overdue-mark" in row and "已逾期" in row
    assert "2026-03-16 09:00" in row  # the due date, in company time
    assert list(_rows(rep1.get("/inbox?overdue=1").get_data(as_text=True))) == [feedback["id"]]


def test_a_manager_of_the_role_reassigns_from_the_inbox(pages, engine):
    add_users(engine, {"boss": ["admin", "sales_manager"]})
    iid = pages("rep1").start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]

    assert 'name="to_user"' not in _inbox(pages("mgr1"))[task_id]  # sales managers do not manage each other
    boss = pages("boss")
    row = _inbox(boss)[task_id]
    assert re.findall(r'<option value="([^"]+)">', row) == ["boss", "mgr1", "mgr2"]  # the role's holders
    response = boss.post(f"/tasks/{task_id}/reassign", {"to_user": "mgr2", "next": "/inbox"})
    assert response.status_code == 302
    assert engine.task("mgr2", task_id)["assignee"] == "mgr2"
    assert _inbox(pages("mgr1")) == {}
    assert task_id in _inbox(pages("mgr2"))


def test_a_long_inbox_is_shown_in_pages_of_50_with_the_counts_of_all(pages, engine, clock):
    from tests.web.conftest import SAMPLE_REQUEST

    for _ in range(52):
        engine.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
        clock.advance(minutes=1)
    mgr = pages("mgr1")
    first = mgr.get("/inbox").get_data(as_text=True)
    assert first.count('data-task-id="') == 50 and 'id="page-next"' in first and 'id="page-prev"' not in first
    assert '<span class="count">52</span>' in first  # the navigation counts every task, not the page
    second = mgr.get("/inbox?page=2").get_data(as_text=True)
    assert second.count('data-task-id="') == 2 and 'id="page-prev"' in second and 'id="page-next"' not in second
    assert mgr.get("/inbox?page=abc").status_code == 200  # a bad page number shows the first page
