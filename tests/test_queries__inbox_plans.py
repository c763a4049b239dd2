"""PostgreSQL plans the unfiltered inbox once per connection (its generic plan: the same ordered index ranges, merged,
for every user) instead of at every call, where planning a user of two roles cost more than running the query; the
setting holds for the inbox's own transaction only, and a filtered inbox, which needs a plan for its values, is
planned per call as before. Results are the same whichever plan runs."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import PG_URL

REQUEST = {"customer_name": "ACME 贸易", "amount_yuan": 20000}

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's plan cache; SQLite compiles each statement once")


def _plans(eng) -> tuple[str, dict[str, tuple[int, int]]]:
    """plan_cache_mode, and {"all" | "by process": (generic, custom) plans} of the inbox statements prepared on the
    pool's one connection."""
    with eng.db.glance() as conn:
        mode = conn.execute(text("SHOW plan_cache_mode")).scalar()
        rows = conn.execute(text("SELECT generic_plans, custom_plans, statement FROM pg_prepared_statements")).all()
    return mode, {"by process" if "process_key = $" in r.statement else "all": (r.generic_plans, r.custom_plans)
                  for r in rows if "UNION ALL" in r.statement}


def test_postgresql_plans_the_unfiltered_inbox_once_and_only_for_its_own_transaction(approval):
    for requester in ("rep", "rep2", "rep"):
        approval.start(requester, "approval", dict(REQUEST))
        approval.clock.advance(minutes=1)
    approval.db.dispose()  # from here on one pooled connection: its prepared statements are the ones we read
    pages = [[t["id"] for t in approval.inbox("mgr", limit=2)] for _ in range(8)]
    whole = [t["id"] for t in approval.inbox("mgr")]
    assert len(set(map(tuple, pages))) == 1 and pages[0] == whole[:2] and len(whole) == 3  # oldest first
    mode, plans = _plans(approval)
    assert mode == "auto"  # the setting ended with the inbox's transaction: other reads plan as before
    assert list(plans) == ["all"] and plans["all"][0] > 0, plans  # prepared after 5 calls, then generic

    by_process = [[t["id"] for t in approval.inbox("mgr", process="approval", limit=2)] for _ in range(8)]
    assert by_process == pages
    _, plans = _plans(approval)
    generic, custom = plans["by process"]
    assert generic == 0 and custom > 0, plans  # planned for its values at every call
