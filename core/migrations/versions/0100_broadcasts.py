"""broadcasts: announcements, broadcast items, audit, APScheduler job store

Revision ID: 0100_broadcasts
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0100_broadcasts"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("plan_kind", sa.String(16), nullable=False),
        sa.Column("plan_at", UTCDateTime(), nullable=True),
        sa.Column("plan_count", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("voice", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(80), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )
    op.create_index("ix_announcements_status", "announcements", ["status"])
    op.create_table(
        "broadcast_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("village_id", sa.String(48), nullable=False),
        sa.Column("air_at", UTCDateTime(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=True),
        sa.Column("script_id", sa.String(64), nullable=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("voice", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("engine", sa.String(16), nullable=True),
        sa.Column("fallback_voice", sa.Boolean(), nullable=False),
        sa.Column("audio_path", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broadcast_items"),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name="fk_broadcast_items_announcement_id_announcements",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("village_id", "air_at", "position", name="uq_broadcast_items_slot"),
    )
    op.create_index("ix_broadcast_items_air_state", "broadcast_items", ["air_at", "state"])
    op.create_index("ix_broadcast_items_village_air", "broadcast_items", ["village_id", "air_at"])
    op.create_index("ix_broadcast_items_announcement_id", "broadcast_items", ["announcement_id"])
    op.create_index("ix_broadcast_items_script_id", "broadcast_items", ["script_id"])
    op.create_table(
        "broadcast_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broadcast_audit"),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name="fk_broadcast_audit_announcement_id_announcements",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["broadcast_items.id"],
            name="fk_broadcast_audit_item_id_broadcast_items",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_broadcast_audit_announcement_id", "broadcast_audit", ["announcement_id"])
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apscheduler_jobs"),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_table("broadcast_audit")
    op.drop_table("broadcast_items")
    op.drop_table("announcements")
