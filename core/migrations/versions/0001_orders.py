"""orders, order history and activities

Revision ID: 0001_orders
Revises:
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0001_orders"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.String(48), nullable=False),
        sa.Column("village_id", sa.String(48), nullable=False),
        sa.Column("team_id", sa.String(48), nullable=False),
        sa.Column("volunteer_id", sa.String(48), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("people_served", sa.Integer(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(12), nullable=False),
        sa.Column("request_key", sa.String(128), nullable=True),
        sa.Column("resident_key", sa.String(64), nullable=False),
        sa.Column("resident_name", sa.String(64), nullable=True),
        sa.Column("contact_phone", sa.String(20), nullable=True),
        sa.Column("service_id", sa.String(48), nullable=False),
        sa.Column("village_id", sa.String(48), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(48), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("volunteer_id", sa.String(48), nullable=True),
        sa.Column("accept_deadline", UTCDateTime(), nullable=True),
        sa.Column("flagged", sa.Text(), nullable=True),
        sa.Column("people_served", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], name="fk_orders_activity_id_activities"),
        sa.UniqueConstraint("number", name="uq_orders_number"),
        sa.UniqueConstraint("request_key", name="uq_orders_request_key"),
    )
    op.create_index("ix_orders_status_deadline", "orders", ["status", "accept_deadline"])
    op.create_index("ix_orders_resident", "orders", ["resident_key"])
    op.create_index("ix_orders_village_service", "orders", ["village_id", "service_id"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_events_order_id_orders", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])


def downgrade() -> None:
    op.drop_table("order_events")
    op.drop_table("orders")
    op.drop_table("activities")
