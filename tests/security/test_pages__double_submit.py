"""Issue 11, item 7 on the pages: the start form and the task form carry a one-time form token, the
command's idempotency key. A form sent twice (double click, back button and send, a retry after the
answer was lost) starts one instance or completes the task once, and the second send lands on the
same result page instead of starting again or failing with "someone else changed this"."""

from __future__ import annotations

import re

from tests.web.conftest import SAMPLE_FORM

START_FORM = {f"data.{k}": v for k, v in SAMPLE_FORM.items()}


def form_token_in(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "the form carries no form token"
    return found.group(1)


def test_every_showing_of_a_form_has_its_own_token(pages):
    rep1 = pages("rep1")
    tokens = {form_token_in(rep1.get("/start/sample_request").get_data(as_text=True)) for _ in range(3)}
    assert len(tokens) == 3


def test_a_start_form_sent_twice_starts_one_instance_and_both_land_on_it(pages, engine):
    rep1 = pages("rep1")
    form = {**START_FORM, "form_token": form_token_in(rep1.get("/start/sample_request").get_data(as_text=True))}
    first = rep1.post("/start/sample_request", form)
    second = rep1.post("/start/sample_request", form)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location and re.search(r"/instances/\d+$", first.location)
    assert "此表单已经提交过：这是当时发起的申请。" in rep1.get(second.location).get_data(as_text=True)
    assert engine.search("aud")["total"] == 1


def test_the_same_form_sent_again_with_other_values_is_refused_with_a_fresh_token(pages, engine):
    rep1 = pages("rep1")
    token = form_token_in(rep1.get("/start/sample_request").get_data(as_text=True))
    assert rep1.post("/start/sample_request", {**START_FORM, "form_token": token}).status_code == 302
    changed = rep1.post("/start/sample_request", {**START_FORM, "data.quantity": "7", "form_token": token})
    assert changed.status_code == 422
    html = changed.get_data(as_text=True)
    assert "此表单已用其他内容提交过。请核对内容后重新提交。" in html
    fresh = form_token_in(html)
    assert fresh != token
    assert engine.search("aud")["total"] == 1
    assert rep1.post("/start/sample_request", {**START_FORM, "data.quantity": "7", "form_token": fresh}
                     ).status_code == 302  # sent again on purpose: a second request
    assert engine.search("aud")["total"] == 2


def test_a_form_shown_again_with_its_errors_keeps_its_token(pages, engine):
    rep1 = pages("rep1")
    token = form_token_in(rep1.get("/start/sample_request").get_data(as_text=True))
    refused = rep1.post("/start/sample_request", {**START_FORM, "data.quantity": "lots", "form_token": token})
    assert refused.status_code == 422 and form_token_in(refused.get_data(as_text=True)) == token
    fixed = rep1.post("/start/sample_request", {**START_FORM, "form_token": token})
    again = rep1.post("/start/sample_request", {**START_FORM, "form_token": token})
    assert fixed.status_code == again.status_code == 302 and fixed.location == again.location
    assert engine.search("aud")["total"] == 1


def test_a_task_form_sent_twice_completes_once_and_both_land_on_the_inbox(pages, engine):
    iid = pages("rep1").start_sample()
    task_id = engine.instance("mgr1", iid)["tasks"][0]["id"]
    mgr1 = pages("mgr1")
    form = {"data.approved": "true",
            "form_token": form_token_in(mgr1.get(f"/tasks/{task_id}").get_data(as_text=True))}
    first = mgr1.post(f"/tasks/{task_id}", form, form_page=f"/tasks/{task_id}")
    second = mgr1.post(f"/tasks/{task_id}", form, form_page=f"/tasks/{task_id}")
    assert first.status_code == second.status_code == 302
    assert first.location.endswith("/inbox") and second.location.endswith("/inbox")  # not back to the task
    assert "此表单已经提交过：任务当时已完成。" in mgr1.get(second.location).get_data(as_text=True)
    assert [e["kind"] for e in engine.history("aud", iid)].count("completed") == 1
