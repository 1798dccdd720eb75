"""web console: staff passwords, sessions, login attempts, API tokens, secrets

Revision ID: 0300_web
Revises: 0001_orders
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0300_web"
down_revision = "0001_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_staff_passwords",
        sa.Column("staff_id", sa.String(48), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("initial", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id", name="pk_web_staff_passwords"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(48), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_staff_id", "web_sessions", ["staff_id"])
    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_login_attempts"),
    )
    op.create_index("ix_web_login_attempts_username_at", "web_login_attempts", ["username", "at"])
    op.create_index("ix_web_login_attempts_client_at", "web_login_attempts", ["client", "at"])
    op.create_table(
        "web_api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("staff_id", sa.String(48), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_web_api_tokens_token_hash"),
    )
    op.create_table(
        "web_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_web_secrets"),
    )


def downgrade() -> None:
    op.drop_table("web_secrets")
    op.drop_table("web_api_tokens")
    op.drop_index("ix_web_login_attempts_client_at", table_name="web_login_attempts")
    op.drop_index("ix_web_login_attempts_username_at", table_name="web_login_attempts")
    op.drop_table("web_login_attempts")
    op.drop_index("ix_web_sessions_staff_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_staff_passwords")
