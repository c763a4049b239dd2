"""accounts and sessions (issue 11): a session generation per user, when a token was revoked, the record of
login attempts and the temporary lockouts the throttle sets

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_attempt_at", "login_attempt", ["at"], unique=False)
    op.create_index("ix_login_attempt_username_at", "login_attempt", ["username", "at"], unique=False)
    op.create_index("ix_login_attempt_address_at", "login_attempt", ["address", "at"], unique=False)
    op.create_table(
        "login_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_lock_scope_key", "login_lock", ["scope", "key", "until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_login_lock_scope_key", table_name="login_lock")
    op.drop_table("login_lock")
    op.drop_index("ix_login_attempt_address_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_username_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("revoked_at")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_generation")
