"""instance.customer_name (searching instances by customer) and an index on instance.started_at
(search results are ordered newest first and filtered by date)

Revision ID: 0004
Revises: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("customer_name", sa.String(length=200), nullable=True))
        batch.create_index(batch.f("ix_instance_customer_name"), ["customer_name"], unique=False)
        batch.create_index(batch.f("ix_instance_started_at"), ["started_at"], unique=False)
    _backfill()


def _backfill() -> None:
    """Copy each instance's data_json customer_name into the column (as Step.finish does from now on)."""
    conn = op.get_bind()
    instance = sa.table("instance", sa.column("id", sa.Integer), sa.column("data_json", sa.Text),
                        sa.column("customer_name", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(instance.c.id, instance.c.data_json).where(instance.c.id > last)
                            .order_by(instance.c.id).limit(BATCH)).all()
        if not rows:
            return
        for row_id, data_json in rows:
            name = _customer_name(data_json)
            if name is not None:
                conn.execute(instance.update().where(instance.c.id == row_id).values(customer_name=name))
        last = rows[-1][0]


def _customer_name(data_json: str | None) -> str | None:
    try:
        value = json.loads(data_json or "{}").get("customer_name")
    except (ValueError, AttributeError):
        return None
    return (value.strip()[:200] or None) if isinstance(value, str) else None


def downgrade() -> None:
    with op.batch_alter_table("instance") as batch:
        batch.drop_index(batch.f("ix_instance_started_at"))
        batch.drop_index(batch.f("ix_instance_customer_name"))
        batch.drop_column("customer_name")
