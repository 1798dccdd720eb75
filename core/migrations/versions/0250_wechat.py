"""wechat: shared access token, numbered choices, the WeChat outbox cursor

Revision ID: 0250_wechat
Revises: 0200_bot
"""

import sqlalchemy as sa
from alembic import op

from core.db import UTCDateTime

revision = "0250_wechat"
down_revision = "0200_bot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_tokens",
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("app_id", name="pk_wechat_tokens"),
    )
    op.create_table(
        "wechat_choices",
        sa.Column("user_key", sa.String(96), nullable=False),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_key", name="pk_wechat_choices"),
    )
    # The WeChat outbox starts after the history that exists, as the Telegram one did.
    last = op.get_bind().execute(sa.text("SELECT MAX(id) FROM order_events")).scalar()
    meta = sa.table("bot_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(meta, [{"key": "outbox:wechat", "value": str(last or 0)}])


def downgrade() -> None:
    op.execute("DELETE FROM bot_meta WHERE key = 'outbox:wechat'")
    op.drop_table("wechat_choices")
    op.drop_table("wechat_tokens")
