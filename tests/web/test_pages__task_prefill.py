"""The task page of a form with read-only prefilled fields (P4's 《客户投诉质量处理表》): the registrant's goods
are shown once, in the form, read-only, and not again under "data so far"; whoever only looks at the task
(not the one who may work it) still reads them there."""

from __future__ import annotations

from engine import Engine
from tests.scenarios.driver import inbox_task
from tests.scenarios.repository import deploy_repository
from tests.scenarios.test_complaint__paths import QUALITY_REGISTRATION, registration, review
from tests.web.conftest import Pages
from webui.app import create_app


def _earlier(html: str) -> str:
    return html.split('id="earlier-heading"', 1)[1].split("</section>", 1)[0]


def _form(html: str) -> str:
    return html.split('id="form-heading"', 1)[1].split("</section>", 1)[0]


def test_prefilled_read_only_values_are_shown_once_in_the_form(engine: Engine, clock) -> None:
    deploy_repository(engine)  # processes/, forms/ and PEOPLE: the scenario tests' snapshot, restored
    iid = engine.start("svc1", "complaint", registration("quality", "minor"))
    review(engine, iid, "minor")
    task = inbox_task(engine, "mgr1", "take_quality_by_manager", iid)
    app = create_app(engine, {"TESTING": True, "SECRET_KEY": "test-secret"})

    html = Pages(app).login("mgr1").get(f"/tasks/{task['id']}").get_data(as_text=True)
    form, earlier = _form(html), _earlier(html)
    for value in (QUALITY_REGISTRATION["receipt_no"], QUALITY_REGISTRATION["colour_no"]):
        assert value in form and value not in earlier
    assert "合肥瑞丰装饰工程有限公司" in earlier  # what the form does not show stays under the data

    looking = Pages(app).login("aud").get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert 'id="complete"' not in looking
    assert QUALITY_REGISTRATION["receipt_no"] in _earlier(looking)
