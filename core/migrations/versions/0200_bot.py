"""bot: chat state, processed updates, meta (outbox cursor), reminders, sign-ups, hand-offs

Revision ID: 0200_bot
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0200_bot"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_chat_states",
        sa.Column("chat_key", sa.String(64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_key", name="pk_bot_chat_states"),
    )
    op.create_table(
        "bot_processed_updates",
        sa.Column("update_key", sa.String(96), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_key", name="pk_bot_processed_updates"),
    )
    op.create_index("ix_bot_processed_updates_at", "bot_processed_updates", ["at"])
    meta = op.create_table(
        "bot_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_bot_meta"),
    )
    op.create_table(
        "bot_reminders",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_bot_reminders"),
    )
    op.create_table(
        "volunteer_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_key", sa.String(64), nullable=False),
        sa.Column("village_id", sa.String(48), nullable=True),
        sa.Column("skills", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_volunteer_signups"),
    )
    op.create_index("ix_volunteer_signups_status", "volunteer_signups", ["status"])
    op.create_table(
        "staff_handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_key", sa.String(64), nullable=False),
        sa.Column("village_id", sa.String(48), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("notified", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_handoffs"),
    )
    op.create_index("ix_staff_handoffs_status", "staff_handoffs", ["status"])
    # Start the outbox after the history that already exists: orders placed before the bot
    # was installed must not flood volunteers with old offers.
    last = op.get_bind().execute(sa.text("SELECT MAX(id) FROM order_events")).scalar()
    op.bulk_insert(meta, [{"key": "outbox:telegram", "value": str(last or 0)}])


def downgrade() -> None:
    op.drop_table("staff_handoffs")
    op.drop_table("volunteer_signups")
    op.drop_table("bot_reminders")
    op.drop_table("bot_meta")
    op.drop_table("bot_processed_updates")
    op.drop_table("bot_chat_states")
