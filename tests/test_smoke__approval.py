from tests.conftest import add_users  # noqa: F401


def test_approval_runs_to_end_and_replays(approval, clock):
    eng = approval
    iid = eng.start("rep", "approval", {"customer_name": "ACME", "amount_yuan": 20000})
    [task] = eng.inbox("mgr")
    eng.complete("mgr", task["id"], {"approved": True})
    [archive] = eng.inbox("rep")
    eng.complete("rep", archive["id"], {"archive_no": "A-1"})
    assert eng.instance("rep", iid)["status"] == "completed"  # approving in time cancels the SLA timer
    assert eng.replay(iid).verified
