"""The bot's own tables: chat state, processed updates, outbox cursor and reminders sent.

Chat state is one JSON document per chat so a conversation survives a restart; the outbox
cursor says which order_events have already been turned into messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class ChatState(Base):
    __tablename__ = "bot_chat_states"

    chat_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # "tg:123", "cli:demo"
    state: Mapped[str] = mapped_column(Text)  # JSON, see bot.state.Conversation
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedUpdate(Base):
    """Updates already handled: the same update delivered twice is answered once."""

    __tablename__ = "bot_processed_updates"
    __table_args__ = (Index("ix_bot_processed_updates_at", "at"),)

    update_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class BotMeta(Base):
    """Small persistent values: outbox cursors, the callback-signing secret."""

    __tablename__ = "bot_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SentReminder(Base):
    """Orders whose volunteer was already reminded of the agreed time."""

    __tablename__ = "bot_reminders"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
