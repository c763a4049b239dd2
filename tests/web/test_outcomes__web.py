"""Issue 12 item 1 on the API and the pages: a rejected request reads as rejected, and the requester
withdraws (or an administrator cancels) a case with a reason, through POST /instances/{id}/cancel and
the instance page."""

from __future__ import annotations

from tests.web.conftest import SAMPLE_REQUEST


def reject(api, inst: dict) -> dict:
    task = inst["tasks"][0]
    response = api("mgr1").post(f"/tasks/{task['id']}/complete",
                                json={"data": {"approved": False, "comment": "本月样品额度已用完"}})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_rejected_request_reads_as_rejected_in_the_api_and_its_search(api):
    inst = reject(api, api("rep1").start_sample())
    assert (inst["status"], inst["outcome"]) == ("completed", "rejected")
    assert api("rep1").get(f"/instances/{inst['id']}").get_json()["outcome"] == "rejected"
    found = api("rep1").get("/instances", query_string={"started_by": "rep1", "outcome": "rejected"}).get_json()
    assert [(i["id"], i["status"], i["outcome"]) for i in found["items"]] == [(inst["id"], "completed", "rejected")]
    bad = api("rep1").get("/instances", query_string={"outcome": "perhaps"})
    assert bad.status_code == 422 and "outcome" in bad.get_json()["fields"]


def test_a_running_instances_outcome_is_null(api):
    inst = api("rep1").start_sample()
    assert inst["outcome"] is None


def test_the_requester_withdraws_through_the_api_with_a_reason(api):
    inst = api("rep1").start_sample()
    missing = api("rep1").post(f"/instances/{inst['id']}/cancel", json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["fields"]
    blank = api("rep1").post(f"/instances/{inst['id']}/cancel", json={"reason": "  "})
    assert blank.status_code == 422 and blank.get_json()["fields"]["reason"].startswith("请填写原因")
    done = api("rep1").post(f"/instances/{inst['id']}/cancel", json={"reason": "客户取消了投标"})
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["outcome"]) == ("cancelled", "withdrawn")


def test_once_decided_the_requester_is_refused_and_told_why(api):
    inst = api("rep1").start_sample()
    task = inst["tasks"][0]
    assert api("mgr1").post(f"/tasks/{task['id']}/complete", json={"data": {"approved": True}}).status_code == 200
    refused = api("rep1").post(f"/instances/{inst['id']}/cancel", json={"reason": "不要了"})
    assert refused.status_code == 403
    assert "someone has already decided on it" in refused.get_json()["message"]
    cancelled = api("adm").post(f"/instances/{inst['id']}/cancel", json={"reason": "客户破产"})
    assert cancelled.get_json()["outcome"] == "cancelled"


def test_the_instance_page_shows_the_outcome_beside_the_status(pages, api):
    inst = reject(api, api("rep1").start_sample())
    page = pages("rep1").get(f"/instances/{inst['id']}").get_data(as_text=True)
    assert 'id="status-outcome"' in page and "已驳回" in page and "已完成" in page
    listing = pages("rep1").get("/instances?started_by=rep1").get_data(as_text=True)
    assert "outcome-rejected" in listing and "已驳回" in listing
    report = pages("rep1").get(f"/instances/{inst['id']}/report").get_data(as_text=True)
    assert "已驳回" in report


def test_the_requester_withdraws_on_the_instance_page(pages):
    rep = pages("rep1")
    iid = rep.start_sample()
    page = rep.get(f"/instances/{iid}").get_data(as_text=True)
    assert 'id="end-instance"' in page and "撤回申请" in page
    refused = rep.post(f"/instances/{iid}/end", {"reason": ""}, form_page=f"/instances/{iid}")
    assert refused.status_code == 302 and rep.get(f"/instances/{iid}").get_data(as_text=True).count("请填写原因") == 1
    done = rep.post(f"/instances/{iid}/end", {"reason": "客户取消了投标"}, form_page=f"/instances/{iid}")
    assert done.status_code == 302
    after = rep.get(f"/instances/{iid}").get_data(as_text=True)
    assert "您已撤回申请。" in after and "已撤回" in after and 'id="end-instance"' not in after


def test_people_who_may_not_end_a_case_see_no_button(pages):
    iid = pages("rep1").start_sample(**{"customer_class": SAMPLE_REQUEST["customer_class"]})
    page = pages("mgr1").get(f"/instances/{iid}").get_data(as_text=True)
    assert 'id="end-instance"' not in page
    assert pages("mgr1").post(f"/instances/{iid}/end", {"reason": "越权"}, form_page=f"/instances/{iid}"
                              ).status_code == 403
