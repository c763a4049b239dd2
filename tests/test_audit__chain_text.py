"""Issue 17: an event's hash is computed around its payload's canonical text (written once), and must stay
exactly what the offline check (docs/audit.md) computes from `canonical` and `event_hash`."""

from __future__ import annotations

import pytest

from engine.audit.chain import GENESIS, append_many, body_text, canonical, event_body, event_hash
from engine.store.models import AuditEvent

PAYLOADS = [{}, {"data": {"客户": "基准客户", "amount_yuan": 12000, "rows": [{"a": 1.5}, None, True]},
                 "changes": {"x": [None, "é\n\t\"q\""]}, "digest": "0" * 64},
            {"z": 1, "a": {"y": [], "b": {}}, "big": 2**53 - 1, "small": -0.0, "text": "\u2028</script>"}]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("task", [None, "approve"])
def test_the_body_text_is_the_canonical_body(payload, task):
    text = body_text("instance:7", 12, "2026-03-02T01:00:00+00:00", "rep", "completed", task, canonical(payload))
    assert text == canonical(event_body("instance:7", 12, "2026-03-02T01:00:00+00:00", "rep", "completed", task,
                                        payload))


def test_appended_events_carry_the_hash_the_offline_check_computes(engine):
    events = [("2026-03-02T01:00:00+00:00", "rep", "started", None, PAYLOADS[1]),
              ("2026-03-02T01:00:00+00:00", "rep", "task_ready", "approve", PAYLOADS[2])]
    with engine.db.write() as s:
        append_many(s, "instance:1", events, None)
    with engine.db.read() as s:
        rows = s.query(AuditEvent).filter(AuditEvent.chain == "instance:1").order_by(AuditEvent.position).all()
    prev = GENESIS
    for row, (at, actor, kind, task, payload) in zip(rows, events, strict=True):
        assert row.payload == canonical(payload)
        assert row.hash == event_hash(prev, event_body("instance:1", row.position, at, actor, kind, task, payload))
        prev = row.hash
