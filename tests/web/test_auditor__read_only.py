"""The auditor reads every instance and changes nothing: every write endpoint and page refuses him.

The list of write routes is taken from the app itself, so a new POST route that this file does
not try as the auditor fails the first test instead of slipping through.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import SAMPLE_REQUEST
from tests.web.test_pages__model import bundle, post_json

AUDITOR = "aud"
# Writes anybody may do to their own session: logging in and out, choosing a language, getting a token,
# changing their own password.
SESSION_ONLY = {"pages.login", "pages.logout", "pages.language", "api.create_token", "pages.account_password",
                # their own notifications and notification settings (issue 13)
                "pages.read_notification", "pages.read_all_notifications", "pages.account_notifications"}


@pytest.fixture
def running(engine, app) -> dict:
    """A sample request waiting for the sales department, claimed by mgr1, and one nobody claimed."""
    iid = engine.start("rep1", "sample_request", dict(SAMPLE_REQUEST))
    task_id = engine.instance("rep1", iid)["tasks"][0]["id"]
    engine.claim("mgr1", task_id)
    other = engine.start("rep2", "sample_request", dict(SAMPLE_REQUEST))
    return {"instance": iid, "task": task_id, "free": engine.instance("rep2", other)["tasks"][0]["id"]}


def _trail(engine, iid: int) -> list[tuple]:
    return [(e["position"], e["kind"], e["hash"]) for e in engine.history(AUDITOR, iid)]


def _instances(engine) -> int:
    from sqlalchemy import func, select

    from engine.store.models import Instance

    with engine.db.read() as s:
        return s.scalar(select(func.count(Instance.id)))


def _unchanged(engine, running: dict, before: list[tuple]) -> None:
    assert _trail(engine, running["instance"]) == before
    task = engine.task("mgr1", running["task"])
    assert (task["status"], task["assignee"]) == ("ready", "mgr1")
    assert engine.task("mgr2", running["free"])["assignee"] is None


def _page_writes(running: dict) -> dict[str, tuple[str, dict]]:
    task, key = running["task"], "sample_request"
    return {
        "pages.complete": (f"/tasks/{task}", {"data.approved": "true"}),
        "pages.add_comment": (f"/tasks/{task}/comments", {"text": "看过了"}),
        "pages.claim": (f"/tasks/{running['free']}/claim", {}),
        "pages.unclaim": (f"/tasks/{task}/unclaim", {}),
        "pages.reassign": (f"/tasks/{task}/reassign", {"to_user": "mgr2"}),
        "pages.start_form": (f"/start/{key}", {f"data.{k}": str(v) for k, v in SAMPLE_REQUEST.items()}),
        "pages.model_migrate_run": (f"/model/{key}/migrate", {"to": "1"}),
        "pages.admin_deactivate": ("/admin/users/rep1/deactivate", {}),
        "pages.admin_activate": ("/admin/users/rep1/activate", {}),
        "pages.admin_reset": ("/admin/users/rep1/reset", {"new_password": NEW, "repeat_password": NEW}),
        "pages.admin_unlock": ("/admin/unlock", {"username": "rep1"}),
        "pages.admin_revoke_token": ("/admin/tokens/1/revoke", {}),
        "pages.admin_set_email": ("/admin/users/rep1/email", {"email": "rep1@example.com"}),
        "pages.admin_roles": ("/admin/users/rep1/roles", {"add": "quality"}),
        # administrators' only: refused before the incident is even looked up
        "pages.end_instance": (f"/instances/{running['instance']}/end", {"reason": "审计"}),
        "pages.retry_incident": ("/admin/incidents/1/retry", {}),
        "pages.cancel_incident": ("/admin/incidents/1/cancel", {"reason": "看过了"}),
        # the sales director's only: the auditor reads the price list and changes nothing in it
        "pages.add_price": ("/prices", {"product": "P·O 42.5", "spec": "散装", "grade": "一等品", "unit": "吨",
                                        "price_yuan": "1.00", "valid_from": "2026-03-02"}),
        "pages.end_price": ("/prices/1/end", {"valid_to": "2026-12-31"}),
        # the auditor reads customers and their contact log and changes nothing in them (refused before lookup)
        "pages.log_contact": ("/customers/1/contacts", {"kind": "call", "happened_on": "2026-03-02",
                                                        "summary": "审计"}),
        "pages.change_owner": ("/customers/1/owner", {"owner": "rep2", "reason": "审计"}),
        # process owners' only: withdrawing a rule change (P13)
        "pages.model_withdraw_change": ("/model/changes/1/withdraw", {"reason": "审计"}),
    }


def _api_writes(running: dict) -> dict[str, tuple[str, dict]]:
    task = running["task"]
    return {
        "api.complete": (f"/tasks/{task}/complete", {"data": {"approved": True}}),
        "api.claim": (f"/tasks/{running['free']}/claim", {}),
        "api.unclaim": (f"/tasks/{task}/unclaim", {}),
        "api.start_instance": ("/processes/sample_request/instances", {"data": SAMPLE_REQUEST}),
        "api.deploy": ("/deployments", {"files": bundle(), "note": "audit"}),
        "api.cancel": (f"/instances/{running['instance']}/cancel", {"reason": "审计"}),
        "api.retry_incident": ("/incidents/1/retry", {}),
        "api.cancel_incident": ("/incidents/1/cancel", {"reason": "看过了"}),
        "api.log_contact": ("/customers/1/contacts", {"kind": "call", "happened_on": "2026-03-02", "summary": "审计"}),
        "api.change_owner": ("/customers/1/owner", {"owner": "rep2", "reason": "审计"}),
    }


NEW = "velvet-compass-91"
# buttons that come back to their page with the refusal flashed (the inbox; the administrators' page,
# which then refuses the auditor too)
REDIRECTING = {"pages.claim", "pages.unclaim", "pages.reassign", "pages.admin_deactivate", "pages.admin_activate",
               "pages.admin_unlock", "pages.admin_revoke_token", "pages.admin_set_email",
               "pages.admin_roles"}
JSON_PAGE_WRITES = {"pages.model_deploy", "pages.model_lint", "pages.model_form_preview"}


def test_every_write_route_is_tried_as_the_auditor(app, running):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    tried = set(_page_writes(running)) | set(_api_writes(running)) | JSON_PAGE_WRITES | SESSION_ONLY
    assert posts - tried == set(), "a write route this file does not try as the auditor"


def test_the_pages_refuse_every_change_and_nothing_is_recorded(engine, pages, running):
    before = _trail(engine, running["instance"])
    auditor = pages(AUDITOR)
    for endpoint, (path, form) in _page_writes(running).items():
        response = auditor.post(path, form, form_page="/inbox")
        if endpoint in REDIRECTING:  # inbox buttons come back to the inbox with the refusal flashed
            assert response.status_code == 302, endpoint
            shown = auditor.get(response.location).get_data(as_text=True)
            assert 'class="flash error"' in shown, endpoint
        else:
            assert response.status_code == 403, f"{endpoint}: {response.status_code}"
    _unchanged(engine, running, before)
    assert _instances(engine) == 2  # nothing was started


def test_the_modeler_endpoints_refuse_the_auditor(engine, pages, running):
    auditor = pages(AUDITOR)
    for path in ("/model/deploy", "/model/lint"):
        response = post_json(auditor, path, {"files": bundle(), "note": "audit"})
        assert response.status_code == 403, path
    assert [v["version"] for v in engine.versions("adm", "sample_request")] == [1]
    for path in ("/model", "/model/new", "/model/sample_request/1", "/model/sample_request/migrate"):
        assert auditor.get(path).status_code == 403, path


def test_the_api_refuses_every_change(engine, api, running):
    before = _trail(engine, running["instance"])
    client = api(AUDITOR)
    for endpoint, (path, body) in _api_writes(running).items():
        response = client.post(path, json=body)
        assert response.status_code == 403, f"{endpoint}: {response.status_code} {response.get_json()}"
        assert response.get_json()["error"] == "forbidden"
    _unchanged(engine, running, before)
    assert [v["version"] for v in engine.versions("adm", "sample_request")] == [1]


def test_the_engine_refuses_the_auditor_a_comment_that_a_participant_may_make(engine, running):
    from engine.errors import Forbidden

    with pytest.raises(Forbidden, match="does not take part"):
        engine.comment(AUDITOR, running["task"], "审计意见")
    engine.comment("rep1", running["task"], "请尽快审批")  # the requester takes part
    assert [c["actor"] for c in engine.comments(AUDITOR, running["task"])] == ["rep1"]


def test_the_auditor_reads_everything_and_is_offered_no_action(engine, pages, api, running):
    auditor = pages(AUDITOR)
    task_page = auditor.get(f"/tasks/{running['task']}").get_data(as_text=True)
    for control in ('id="complete"', 'id="claim"', 'id="unclaim"', 'id="add-comment"', 'name="to_user"'):
        assert control not in task_page
    assert 'id="read-only"' in task_page
    assert auditor.get(f"/instances/{running['instance']}").status_code == 200
    client = api(AUDITOR)
    for path in (f"/instances/{running['instance']}", f"/instances/{running['instance']}/history",
                 f"/instances/{running['instance']}/replay", f"/tasks/{running['task']}"):
        assert client.get(path).status_code == 200, path
    assert client.get(f"/instances/{running['instance']}/replay").get_json()["verified"] is True
