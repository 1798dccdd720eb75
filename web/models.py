"""Web console tables: staff password hashes, server-side sessions, login attempts (for rate
limiting), API tokens for the county platform, and the generated cookie-signing secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class StaffPassword(Base):
    """One argon2 hash per staff member (keyed by the staff id from config.yml)."""

    __tablename__ = "web_staff_passwords"

    staff_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    # True while the password is the generated first-start one: the console asks to change it.
    initial: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A logged-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(48), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """Every login try; recent failures per username and per client lock further tries."""

    __tablename__ = "web_login_attempts"
    __table_args__ = (
        Index("ix_web_login_attempts_username_at", "username", "at"),
        Index("ix_web_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token for /api acting as one staff member (county platform integration)."""

    __tablename__ = "web_api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSecret(Base):
    """The cookie-signing key when XIANGYIN_WEB_SECRET is not set: generated once and shared
    by every instance through the database."""

    __tablename__ = "web_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
