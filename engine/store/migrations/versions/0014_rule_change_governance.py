"""process_version.status and the rule-change governance setting

A deployed version now has a status: `active` (it may start instances: the latest active version of a
key is the one new instances start on), `draft` (awaiting the general manager's approval), `returned`
or `withdrawn`; who decided it and when, the rule change request (an instance of `rule_change`) it
belongs to, and the reason when an administrator deployed it as an emergency. Every version deployed
before was deployed at once, so every existing row becomes `active`. The new table `setting` keeps
engine settings that must be recorded when they change: governance is off until someone switches it
on (no row: off).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("change_request_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("emergency_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_process_version_change_request_id"), ["change_request_id"],
                              unique=False)
    op.create_table("setting",
                    sa.Column("name", sa.String(length=64), nullable=False),
                    sa.Column("value", sa.Text(), nullable=False),
                    sa.Column("changed_by", sa.String(length=64), nullable=False),
                    sa.Column("changed_at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("name"))


def downgrade() -> None:
    op.drop_table("setting")
    with op.batch_alter_table("process_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_process_version_change_request_id"))
        batch_op.drop_column("emergency_reason")
        batch_op.drop_column("change_request_id")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
