"""Issue 11, finding 7 (edges) on the staff pages: ids like 99999999999999999999 in a page's URL
gave 500 (the database refused the number); a JSON body nested ~1000 deep did too."""

from __future__ import annotations

import pytest

from tests.web.conftest import csrf_token_in

PAGES = ["/instances/{i}", "/instances/{i}/history", "/instances/{i}/history/states.json",
         "/instances/{i}/history/verify.json", "/instances/{i}/report", "/instances/{i}/export.json",
         "/instances/{i}/export.csv", "/instances/{i}/diagram.json"]


@pytest.mark.parametrize("iid", ["99999999999999999999", str(2**31), str(2**63), "0", "１", "٣"])
def test_instance_ids_no_instance_can_have_are_404_on_every_page(pages, iid):
    pages("rep1").start_sample()  # instance 1 exists: "１" must not name it
    auditor = pages("aud")
    for path in PAGES:
        assert auditor.get(path.format(i=iid)).status_code == 404, path


@pytest.mark.parametrize("task_id", ["99999999999999999999", "not-a-task", "%00", "x" * 3000])
def test_task_ids_that_are_not_tasks_are_404(pages, task_id):
    mgr = pages("mgr1")
    assert mgr.get(f"/tasks/{task_id}").status_code == 404
    assert mgr.post(f"/tasks/{task_id}", {"data.approved": "true"}).status_code == 404
    assert mgr.post(f"/tasks/{task_id}/comments", {"text": "hi"}).status_code == 404


@pytest.mark.parametrize("body", ['{"files": ' + "[" * 1000 + "]" * 1000 + "}", '{"files": [], "x": NaN}',
                                  "[" * 100_000])
def test_the_modelers_json_calls_refuse_unacceptable_json_with_400(pages, body):
    owner = pages("adm")
    token = csrf_token_in(owner.get("/inbox").get_data(as_text=True))
    for path in ("/model/lint", "/model/deploy", "/model/form-preview"):
        response = owner.client.post(path, data=body, content_type="application/json", headers={"X-CSRFToken": token})
        assert response.status_code == 400, path
        assert response.get_json()["error"] == "bad_request"


def test_page_numbers_of_thousands_of_digits_are_not_500(pages):
    digits = "9" * 5000
    assert pages("mgr1").get(f"/inbox?page={digits}").status_code == 200  # the first page
    assert pages("aud").get(f"/instances?page={digits}").status_code in (200, 422)
