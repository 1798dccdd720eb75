"""reports: points ledger, declared hours, award-pass cursor, bulletin archive; history index by time

Revision ID: 0500_reports
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0500_reports"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_order_events_status_at", "order_events", ["to_status", "at"])
    op.create_table(
        "points_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_kind", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("source_event_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.String(48), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_points_ledger"),
        sa.UniqueConstraint("source_event_id", "rule", name="uq_points_ledger_source_rule"),
    )
    op.create_index("ix_points_ledger_holder", "points_ledger", ["holder_kind", "holder_id", "id"])
    op.create_index("ix_points_ledger_at", "points_ledger", ["at"])
    op.create_table(
        "points_declared_hours",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.String(48), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_points_declared_hours"),
    )
    op.create_table(
        "reports_cursors",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_reports_cursors"),
    )
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.String(48), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("headline", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bulletins"),
        sa.UniqueConstraint("area_id", "period_start", "period_end", name="uq_bulletins_area_period"),
    )


def downgrade() -> None:
    op.drop_table("bulletins")
    op.drop_table("reports_cursors")
    op.drop_table("points_declared_hours")
    op.drop_index("ix_points_ledger_at", table_name="points_ledger")
    op.drop_index("ix_points_ledger_holder", table_name="points_ledger")
    op.drop_table("points_ledger")
    op.drop_index("ix_order_events_status_at", table_name="order_events")
