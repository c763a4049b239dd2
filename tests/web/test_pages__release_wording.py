"""Giving a claimed task back to its role reads as putting it back in the pool (放回任务池), never as
退回, which in Chinese approval work means sending a request back (a rejection)."""

from __future__ import annotations


def test_releasing_a_task_never_reads_like_a_rejection(pages, engine):
    iid = pages("rep1").start_sample()
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    engine.claim("mgr1", task_id)
    mgr1 = pages("mgr1")
    inbox = mgr1.get("/inbox").get_data(as_text=True)
    assert 'name="unclaim">放回任务池</button>' in inbox
    assert "放回任务池" in mgr1.get(f"/tasks/{task_id}").get_data(as_text=True)
    released = mgr1.post(f"/tasks/{task_id}/unclaim", {"next": "/inbox"})
    assert released.status_code == 302
    assert "任务已放回任务池，该角色的任何人都可以领取。" in mgr1.get("/inbox").get_data(as_text=True)
    for page in (f"/instances/{iid}", f"/instances/{iid}/history", f"/instances/{iid}/report"):
        html = mgr1.get(page).get_data(as_text=True)
        assert "放回任务池" in html and "退回" not in html, page
