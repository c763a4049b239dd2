"""notification, notification_preference, notification_mark; app_user.email and .lang (issue 13)

In-app notifications and their e-mail outbox, each person's choices, the worker's record of the
deadlines it announced, and where (and in which language) a person gets e-mails.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("lang", sa.String(length=2), nullable=False, server_default="zh"))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("email_status", sa.String(length=16), nullable=True),
        sa.Column("email_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("email_next_at", sa.DateTime(), nullable=True),
        sa.Column("email_claim", sa.String(length=36), nullable=True),
        sa.Column("email_claimed_at", sa.DateTime(), nullable=True),
        sa.Column("email_sent_at", sa.DateTime(), nullable=True),
        sa.Column("email_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_user_id", "notification", ["username", "id"])
    op.create_index("ix_notification_unread", "notification", ["username", "in_app", "read_at"])
    op.create_index("ix_notification_outbox", "notification", ["email_status", "email_next_at"])
    op.create_index("ix_notification_instance_id", "notification", ["instance_id"])
    op.create_table(
        "notification_preference",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username", "kind"),
    )
    op.create_table(
        "notification_mark",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject"),
    )
    op.create_index("ix_task_status_due", "task", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_task_status_due", table_name="task")
    op.drop_table("notification_mark")
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_instance_id", table_name="notification")
    op.drop_index("ix_notification_outbox", table_name="notification")
    op.drop_index("ix_notification_unread", table_name="notification")
    op.drop_index("ix_notification_user_id", table_name="notification")
    op.drop_table("notification")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("lang")
        batch.drop_column("email")
