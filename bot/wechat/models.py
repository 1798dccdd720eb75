"""The WeChat channel's tables: the shared access token and each user's numbered choices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class WeChatToken(Base):
    """The official account's access token, shared by every instance.

    WeChat allows 2,000 token requests a day and a new token retires the old one within
    5 minutes, so instances must not each fetch their own: the database holds the one copy.
    """

    __tablename__ = "wechat_tokens"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WeChatChoices(Base):
    """The buttons last shown to a WeChat user as numbered lines: typing "2" presses #2."""

    __tablename__ = "wechat_choices"

    user_key: Mapped[str] = mapped_column(String(96), primary_key=True)  # "wx:<openid>"
    choices: Mapped[str] = mapped_column(Text)  # JSON list of [label, signed data]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
