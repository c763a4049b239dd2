"""History keeps the names of the version each event ran on: after a migration, what happened on v1
is told with v1's names and what happened since with v2's; the move itself is told in words."""

from __future__ import annotations

from tests.test_runtime__migration import NEW_TITLE, OLD_TITLE, OWNER, do, fleet  # noqa: F401 - fleet: a fixture


def _titles(entries: list[dict], kind: str, task: str) -> list[str]:
    return [e["title"]["zh"] for e in entries if e["kind"] == kind and e["task"] == task]


def test_events_before_a_migration_keep_the_old_versions_names(fleet):  # noqa: F811
    engine, ids = fleet
    engine.migrate(OWNER, "approval", 2)
    do(engine, "mgr", ids["fresh"], "approve", {"approved": True})
    entries = engine.timeline("aud", ids["fresh"])
    assert _titles(entries, "task_ready", "approve") == [OLD_TITLE]  # offered on v1
    assert _titles(entries, "completed", "approve") == [NEW_TITLE]  # completed on v2
    [moved] = [e for e in entries if e["kind"] == "migrated"]
    assert moved["migration"] == {"from_version": 1, "to_version": 2}
    # an instance left on v1 is told with v1's names throughout
    assert set(_titles(engine.timeline("aud", ids["escalated"]), "task_ready", "approve")) == {OLD_TITLE}
