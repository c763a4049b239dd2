"""The history page: the timeline of every audit event, the states after each step for the slider,
and the verify button's answer, intact and after a row of the trail was edited in the database."""

from __future__ import annotations

import json
import re

from sqlalchemy import select, update

from engine.audit.chain import instance_chain
from engine.store.models import AuditEvent


def approved_sample(pages, engine, clock) -> int:
    """rep1's key-account sample request, approved by the sales department (quality waits)."""
    iid = pages("rep1").start_sample()
    clock.advance(hours=2)
    task = engine.instance("rep1", iid)["tasks"][0]
    engine.complete("mgr1", task["id"], {"approved": True, "comment": "同意，重点工程项目"})
    return iid


def position_of(engine, iid: int, kind: str, task: str | None = None) -> int:
    return next(e["position"] for e in engine.history("aud", iid)
                if e["kind"] == kind and (task is None or e["task"] == task))


def entries(html: str) -> list[str]:
    timeline = html.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li id="step-(\d+)"', timeline)


def entry(html: str, position: int) -> str:
    """The text of one timeline entry, tags removed and spaces folded."""
    found = re.search(rf'<li id="step-{position}".*?</div>\s*</li>', html, re.S)
    assert found, f"no timeline entry {position}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))).strip()


def tamper(engine, iid: int, position: int) -> None:
    """Edit one row of the trail behind the engine's back, as someone with database access could."""
    with engine.db.write() as s:
        row = s.scalar(select(AuditEvent).where(AuditEvent.chain == instance_chain(iid),
                                                AuditEvent.position == position))
        payload = json.loads(row.payload)
        payload["data"]["comment"] = "不同意"
        s.execute(update(AuditEvent).where(AuditEvent.id == row.id)
                  .values(payload=json.dumps(payload, ensure_ascii=False)))


def test_the_auditor_sees_every_event_with_who_role_when_and_what_changed(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    response = pages("aud").get(f"/instances/{iid}/history")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    history = engine.history("aud", iid)
    assert entries(html) == [str(e["position"]) for e in history]

    done = position_of(engine, iid, "completed", "sales_approval")
    # company time (Asia/Shanghai) to the second, the actor, the role he acted in, the task
    assert entry(html, done).startswith(f"{done} 2026-03-02 11:00:00 mgr1 销售部经理 完成 销售部审批")
    assert "销售部同意提供样品 : — → 是 销售部意见（驳回时必填） : — → 同意，重点工程项目" in entry(html, done)
    started = entry(html, 1)
    assert "2026-03-02 09:00:00 rep1 申请人 发起了申请" in started and "客户名称 : — → 合肥建工集团" in started

    gateway = next(e for e in history if e["kind"] == "gateway_taken" and e["task"] == "sales_approved_gateway")
    condition = gateway["payload"]["conditions"][gateway["payload"]["taken"][0]]
    # the gateway's question and the chosen flow's name from the diagram; the condition's code never
    assert "选择路径 销售部同意？ 同意 → 品质部审批" in entry(html, gateway["position"])
    assert condition not in entry(html, gateway["position"]).replace("&#39;", "'").replace("&#34;", '"')
    assert '<button type="button" id="verify"' in html and ">验证<" in html
    assert f'data-states-url="/instances/{iid}/history/states.json"' in html
    assert f'data-verify-url="/instances/{iid}/history/verify.json"' in html
    assert f'max="{len(history)}" value="{len(history)}"' in html  # the slider starts at the last step
    assert '<script type="module" src="/static/dist/js/pages/history.js"></script>' in html  # imports the viewer itself
    assert "<script>" not in html


def test_the_page_in_english(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    aud = pages("aud")
    aud.post("/language", {"lang": "en"}, form_page="/inbox")
    html = aud.get(f"/instances/{iid}/history").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert ">Verify<" in html and "Previous" in html and "Next" in html and "Data at this step" in html
    assert "Step {n} of {total}" in html
    done = position_of(engine, iid, "completed", "sales_approval")
    assert "mgr1 Sales manager completed Sales department approval" in entry(html, done)
    assert "The sales department approves the sample : — → Yes" in entry(html, done)


def test_participants_see_their_own_history_outsiders_do_not(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    assert pages("rep1").get(f"/instances/{iid}/history").status_code == 200
    assert pages("mgr1").get(f"/instances/{iid}/history").status_code == 200
    outsider = pages("rep2")
    assert outsider.get(f"/instances/{iid}/history").status_code == 404  # as if it did not exist
    for path in ("states.json", "verify.json"):
        refused = outsider.get(f"/instances/{iid}/history/{path}")
        assert refused.status_code == 404 and refused.get_json()["error"] == "not_found"
        assert pages().get(f"/instances/{iid}/history/{path}").status_code == 401
    assert pages("aud").get("/instances/999/history").status_code == 404
    assert pages("aud").get("/instances/999/history/states.json").status_code == 404
    assert pages().get(f"/instances/{iid}/history").status_code == 302  # to the login page


def test_states_hold_what_the_engine_replays_after_each_step(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    body = pages("aud").get(f"/instances/{iid}/history/states.json").get_json()
    history = engine.history("aud", iid)
    assert body["verified"] is True and body["first_mismatch"] is None
    assert [s["position"] for s in body["states"]] == [e["position"] for e in history]

    done = position_of(engine, iid, "completed", "sales_approval")
    expected = engine.replay(iid, step=done).state
    state = body["states"][done - 1]
    assert (state["completed"], state["active"], state["data"]) == (
        expected["completed"], expected["active"], expected["data"])
    assert "sales_approval" in state["completed"] and "quality_approval" in state["active"]
    shown = {item["field"]: (item["label"], item["value"]) for item in state["shown"]}
    assert shown["comment"] == ("销售部意见（驳回时必填）", "同意，重点工程项目")
    assert shown["approved"] == ("销售部同意提供样品", "是")
    before = body["states"][done - 2]  # the claim: the approval is not done yet
    assert "sales_approval" in before["active"] and "comment" not in before["data"]


def test_verify_says_verified_then_shows_the_edited_step(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    aud = pages("aud")
    body = aud.get(f"/instances/{iid}/history/verify.json").get_json()
    events = len(engine.history("aud", iid))
    assert (body["verified"], body["events"], body["first_mismatch"]) == (True, events, None)
    assert "已验证" in body["message"] and str(events) in body["message"]

    done = position_of(engine, iid, "completed", "sales_approval")
    tamper(engine, iid, done)
    body = aud.get(f"/instances/{iid}/history/verify.json").get_json()
    assert body["verified"] is False
    assert (body["first_mismatch"]["position"], body["first_mismatch"]["kind"]) == (done, "chain")
    assert "altered" in body["first_mismatch"]["reason"]
    assert f"第 {done} 步" in body["message"] and "完成" in body["message"]

    states = aud.get(f"/instances/{iid}/history/states.json").get_json()
    assert states["verified"] is False and states["states"] == []
    assert states["first_mismatch"]["position"] == done
    # the recorded timeline still shows, with the edited value
    html = aud.get(f"/instances/{iid}/history").get_data(as_text=True)
    assert len(entries(html)) == events


def test_verify_in_english_says_verified(pages, engine, clock):
    iid = approved_sample(pages, engine, clock)
    aud = pages("aud")
    aud.post("/language", {"lang": "en"}, form_page="/inbox")
    body = aud.get(f"/instances/{iid}/history/verify.json").get_json()
    assert body["verified"] is True and body["message"].startswith("Verified")


def test_a_forged_step_with_a_rehashed_chain_differs_on_replay(pages, engine, clock, db_url):
    from tests.test_replay__steps import rewrite_payload

    iid = approved_sample(pages, engine, clock)
    done = position_of(engine, iid, "completed", "sales_approval")

    def forge(payload: dict) -> None:
        payload["data"] = {"approved": True, "comment": "同意，数量可加倍"}

    rewrite_payload(db_url, iid, done, forge)
    aud = pages("aud")
    body = aud.get(f"/instances/{iid}/history/verify.json").get_json()
    assert body["verified"] is False
    mismatch = body["first_mismatch"]
    assert mismatch["position"] == done and mismatch["kind"] == "completed"
    assert mismatch["expected"] != mismatch["actual"]  # recorded vs replayed digest
    assert f"第 {done} 步" in body["message"] and "重放结果不同" in body["message"]

    states = aud.get(f"/instances/{iid}/history/states.json").get_json()
    assert states["verified"] is False
    assert [s["position"] for s in states["states"]] == list(range(1, done))  # up to the step before it
