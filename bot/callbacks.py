"""Signed button data: a forged or foreign callback is refused before it is read.

Telegram lets a client send any callback data it likes, so every button's data carries an
HMAC over (who the button was sent to, payload).  A button pressed by somebody else, data
typed by hand, or data from before the secret changed all fail verification.  Staleness of
dialogue buttons is handled separately (each carries the conversation's step number).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.messages import Button
from bot.models import BotMeta
from core.db import Database

MAX_DATA = 64  # bytes, Telegram's limit for callback_data
SIG_CHARS = 10
SECRET_KEY = "callback_secret"


class CallbackSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def from_db(cls, db: Database) -> CallbackSigner:
        """The secret lives in the database so buttons keep working across restarts."""
        with db.session() as s:
            row = s.scalar(select(BotMeta).where(BotMeta.key == SECRET_KEY))
            if row is not None:
                return cls(bytes.fromhex(row.value))
        try:
            with db.session() as s:
                s.add(BotMeta(key=SECRET_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another process created it first; use theirs
        with db.session() as s:
            return cls(bytes.fromhex(s.scalars(select(BotMeta.value).where(BotMeta.key == SECRET_KEY)).one()))

    def _sig(self, user_key: str, payload: str) -> str:
        mac = hmac.new(self._secret, f"{user_key}|{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:SIG_CHARS]

    def sign(self, user_key: str, *parts: object) -> str:
        payload = ":".join(str(p) for p in parts)
        data = f"{payload}.{self._sig(user_key, payload)}"
        if len(data.encode()) > MAX_DATA:
            raise ValueError(f"callback data too long ({len(data.encode())} bytes): {payload[:20]}…")
        return data

    def button(self, user_key: str, label: str, *parts: object) -> Button:
        return Button(label, self.sign(user_key, *parts))

    def verify(self, user_key: str, data: str) -> list[str] | None:
        """The payload's parts if the data was signed for this user, else None."""
        if not isinstance(data, str) or len(data.encode()) > MAX_DATA or "." not in data:
            return None
        payload, _, sig = data.rpartition(".")
        if not hmac.compare_digest(sig, self._sig(user_key, payload)):
            return None
        return payload.split(":")
