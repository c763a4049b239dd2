"""instance.outcome: how a finished instance ended (approved, rejected, won, lost, resolved, ...)

From now on each end event on a case's path declares its outcome (Camunda property `outcome`) and
the engine stores it when the instance ends. The versions deployed before declared none, so this
migration writes the outcome of their end events into each version's model (the mapping below, the
same values the diagrams now declare), and gives every finished instance the outcome of the end
event its trail says it reached; a cancelled instance is `cancelled`.

Revision ID: 0009
Revises: 0008
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 500
# the end events of the processes shipped before outcomes existed, as processes/*.bpmn now declare them
LEGACY = {
    "presale": {"lost_no_agreement": "lost", "deal_won": "won", "deal_lost": "lost"},
    "insale": {"contract_cancelled": "rejected", "order_cancelled_unpaid": "unpaid", "order_completed": "delivered"},
    "aftersale": {"case_closed": "closed_unresolved", "case_completed": "resolved"},
    "aftersale_archive": {"archive_followed_up": "completed"},
    "complaint": {"complaint_closed": "resolved"},
    "sample_request": {"rejected_by_sales": "rejected", "rejected_by_countersign": "rejected",
                       "rejected_by_quality": "rejected", "rejected_by_leader": "rejected",
                       "request_completed": "approved"},
    "customer_visit": {"visit_rejected": "rejected", "visit_completed": "approved"},
    "satisfaction_survey": {"survey_completed": "completed", "survey_reviewed": "completed"},
}

version = sa.table("process_version", sa.column("id", sa.Integer), sa.column("key", sa.String),
                   sa.column("model_json", sa.Text))
instance = sa.table("instance", sa.column("id", sa.Integer), sa.column("process_version_id", sa.Integer),
                    sa.column("process_key", sa.String), sa.column("status", sa.String),
                    sa.column("outcome", sa.String))
event = sa.table("audit_event", sa.column("chain", sa.String), sa.column("position", sa.Integer),
                 sa.column("kind", sa.String), sa.column("payload", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch.create_index(batch.f("ix_instance_outcome"), ["outcome"], unique=False)
    conn = op.get_bind()
    declared = _declare_legacy_outcomes(conn)
    _backfill(conn, declared)


def _declare_legacy_outcomes(conn) -> dict[int, dict[str, str]]:  # noqa: ANN001
    """{version id: {end event: outcome}}, writing the legacy outcomes into models that lack them."""
    declared: dict[int, dict[str, str]] = {}
    for vid, key, model_json in conn.execute(sa.select(version.c.id, version.c.key, version.c.model_json)).all():
        models = json.loads(model_json)
        changed = False
        for model_key, model in models.items():
            for el in model.get("elements", {}).values():
                if el.get("type") != "endEvent":
                    continue
                if not el.get("outcome") and el["id"] in LEGACY.get(model_key, {}):
                    el["outcome"], changed = LEGACY[model_key][el["id"]], True
                if model_key == key and el.get("outcome"):
                    declared.setdefault(vid, {})[el["id"]] = el["outcome"]
        if changed:
            conn.execute(version.update().where(version.c.id == vid).values(model_json=json.dumps(models)))
    return declared


def _backfill(conn, declared: dict[int, dict[str, str]]) -> None:  # noqa: ANN001
    conn.execute(instance.update().where(instance.c.status == "cancelled").values(outcome="cancelled"))
    last = 0
    while True:
        rows = conn.execute(sa.select(instance.c.id, instance.c.process_version_id).where(
            instance.c.status == "completed", instance.c.id > last).order_by(instance.c.id).limit(BATCH)).all()
        if not rows:
            return
        for iid, vid in rows:
            conn.execute(instance.update().where(instance.c.id == iid)
                         .values(outcome=_reached(conn, iid, declared.get(vid, {}))))
        last = rows[-1][0]


def _reached(conn, iid: int, ends: dict[str, str]) -> str:  # noqa: ANN001
    """The outcome of the last declared end event the instance's trail says it reached."""
    payloads = conn.execute(sa.select(event.c.payload).where(event.c.chain == f"instance:{iid}",
                                                             event.c.kind == "ended")
                            .order_by(event.c.position.desc())).scalars()
    for payload in payloads:
        for end in reversed(json.loads(payload).get("end_events") or []):
            if end in ends:
                return ends[end]
    return "completed"


def downgrade() -> None:
    with op.batch_alter_table("instance") as batch:
        batch.drop_index(batch.f("ix_instance_outcome"))
        batch.drop_column("outcome")
