"""customer, customer_contact: customer ownership and the contact log (issue 14 item 7, seed 261, 270, 344)

A customer has an owning sales representative and a follow-up strategy set by the sales manager when
he reviews its registration (process customer_register); calls, letters and visits are logged per
customer. Every change is an event in the `customers` hash chain (audit_event / audit_chain).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("customer_class", sa.String(length=16), nullable=True),
        sa.Column("contact_person", sa.String(length=200), nullable=False),
        sa.Column("contact_phone", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=True),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("follow_up_strategy", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refusal_reason", sa.String(length=32), nullable=True),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_customer_owner", "customer", ["owner"])
    op.create_index("ix_customer_status", "customer", ["status"])
    op.create_table(
        "customer_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("logged_by", sa.String(length=64), nullable=False),
        sa.Column("logged_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_contact_customer", "customer_contact", ["customer_id", "happened_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_contact_customer", table_name="customer_contact")
    op.drop_table("customer_contact")
    op.drop_index("ix_customer_status", table_name="customer")
    op.drop_index("ix_customer_owner", table_name="customer")
    op.drop_table("customer")
