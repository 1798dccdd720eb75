"""core: leases, so several instances on one PostgreSQL run each piece of work once

Revision ID: 0700_leases
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0700_leases"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
