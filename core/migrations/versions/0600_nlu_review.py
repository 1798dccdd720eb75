"""nlu: the review inbox of messages the NLU missed

Revision ID: 0600_nlu_review
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0600_nlu_review"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("predicted_intent", sa.String(32), nullable=False),
        sa.Column("predicted_service", sa.String(48), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("village_id", sa.String(48), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("label_intent", sa.String(32), nullable=True),
        sa.Column("label_service", sa.String(48), nullable=True),
        sa.Column("labelled_by", sa.String(48), nullable=True),
        sa.Column("labelled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_nlu_review_items"),
    )
    op.create_index("ix_nlu_review_items_status_created", "nlu_review_items", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_nlu_review_items_status_created", table_name="nlu_review_items")
    op.drop_table("nlu_review_items")
