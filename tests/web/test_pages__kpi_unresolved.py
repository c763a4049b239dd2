"""The KPI page says how many of the resolution breaches are after-sales cases closed unresolved."""

from __future__ import annotations

import pytest

from engine import Engine
from tests.conftest import ROOT, add_users

REQUEST = {"customer_name": "马鞍山江东商砼有限公司", "customer_class": "key_account", "contact": "周工 13905550123",
           "product": "JS750 双卧轴混凝土搅拌机", "purchase_date": "2026-02-16", "kind": "repair",
           "urgency": "normal", "description": "搅拌机运行中主轴异响"}
STEPS = [("fix1", "first_response", {"response_channel": "phone", "response_note": "已电话联系"}),
         ("fix1", "diagnose", {"diagnosis": "主轴轴承磨损", "quality_fault": False, "proposed_solution": "更换轴承"}),
         ("fix1", "resolve", {"outcome": "close_requested", "closing_reason": "停产型号，配件无货"}),
         ("svc2", "confirm_closing", {"customer_agrees_to_close": True, "customer_closing_answer": "客户同意结案"})]


@pytest.mark.rule("P3.6")
def test_the_dashboard_counts_a_case_closed_unresolved_as_breached(app, pages, engine: Engine, clock):
    engine.deploy("system", [ROOT / "processes" / "aftersale.bpmn", ROOT / "processes" / "return_approval.dmn",
                             *sorted((ROOT / "forms").glob("aftersale_*.yaml"))])
    add_users(engine, {"svc1": ["customer_service"], "svc2": ["customer_service"], "fix1": ["aftersales_engineer"]})
    iid = engine.start("svc1", "aftersale", REQUEST)
    for user, name, data in STEPS:
        clock.advance(hours=1)
        [task] = [t for t in engine.inbox(user) if t["instance_id"] == iid and t["name"] == name]
        engine.complete(user, task["id"], data)
    assert engine.instance("aud", iid)["outcome"] == "closed_unresolved"

    html = pages("aud").get("/kpi").get_data(as_text=True)
    table = html.split('id="kpi-resolution-by_month"', 1)[1].split("</table>", 1)[0]
    row = table.split('data-key="2026-03"', 1)[1].split("</tr>", 1)[0]
    assert "其中 1 个未解决结案" in row  # closed after 4 h, and still a breach
    assert "0%" in row
    assert "未解决即结案的售后服务单计为超时（未解决）" in html
