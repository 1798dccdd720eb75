"""Per-chat conversation state, kept in the database so a restart loses nothing."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from bot.models import ChatState, ProcessedUpdate
from core.db import Database


@dataclass
class Draft:
    """An order being put together; times are ISO strings (JSON-friendly)."""

    key: str  # the update that started it: makes the order's request_key idempotent
    service: str | None = None
    village: str | None = None
    start: str | None = None
    end: str | None = None
    count: int | None = None
    phone: str | None = None
    theme: str | None = None  # chosen theme while picking a service by buttons

    def window(self) -> tuple[datetime, datetime] | None:
        if self.start and self.end:
            return datetime.fromisoformat(self.start), datetime.fromisoformat(self.end)
        return None

    def set_window(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start.isoformat(), end.isoformat()


@dataclass
class Conversation:
    chat_key: str
    seq: int = 0  # bumped whenever buttons are sent; stale dialogue buttons carry an old one
    step: str | None = None  # what the last question asked for
    draft: Draft | None = None
    fixing: bool = False  # a field is being corrected from the confirmation screen
    profile: dict[str, Any] = field(default_factory=dict)  # remembered village and phone
    pending: dict[str, Any] = field(default_factory=dict)  # order being rated/completed…

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("chat_key")
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, chat_key: str, text: str) -> Conversation:
        data = json.loads(text)
        draft = data.pop("draft", None)
        return cls(chat_key=chat_key, draft=Draft(**draft) if draft else None, **data)

    def reset(self) -> None:
        self.step, self.draft, self.fixing, self.pending = None, None, False, {}


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, chat_key: str) -> Conversation:
        with self.db.session() as s:
            row = s.get(ChatState, chat_key)
            return self._parse(chat_key, row.state) if row else Conversation(chat_key)

    def load_unless_seen(self, chat_key: str, update_key: str) -> tuple[Conversation, bool]:
        """The chat's state and whether this update was handled already (one transaction).

        Plain SQL statements, not the ORM: this runs for every message (see the benchmark)."""
        with self.db.engine.begin() as conn:
            if conn.execute(_SEEN, {"key": update_key}).first() is not None:
                return Conversation(chat_key), True
            state = conn.execute(_STATE, {"key": chat_key}).scalar()
        return (self._parse(chat_key, state) if state else Conversation(chat_key)), False

    @staticmethod
    def _parse(chat_key: str, text: str) -> Conversation:
        try:
            return Conversation.from_json(chat_key, text)
        except (ValueError, TypeError):
            # A state written by an older version: start afresh rather than fail forever.
            return Conversation(chat_key)

    def seen(self, update_key: str) -> bool:
        with self.db.session() as s:
            return s.get(ProcessedUpdate, update_key) is not None

    def save(self, conversation: Conversation, update_key: str, now: datetime) -> bool:
        """Store the state and mark the update handled, in one transaction.

        False when another worker handled the same update first (then nothing is written).
        """
        insert = sqlite_insert if self.db.is_sqlite else postgresql_insert
        values = {"chat_key": conversation.chat_key, "state": conversation.to_json(), "updated_at": now}
        upsert = insert(ChatState.__table__).values(**values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["chat_key"], set_={"state": upsert.excluded.state, "updated_at": now}
        )
        try:
            with self.db.engine.begin() as conn:
                conn.execute(ProcessedUpdate.__table__.insert().values(update_key=update_key, at=now))
                conn.execute(upsert)
        except IntegrityError:
            return False
        return True

    def prune(self, older_than: datetime) -> int:
        """Forget processed-update ids nobody will redeliver any more."""
        with self.db.session() as s:
            return s.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < older_than)).rowcount


PROCESSED_TTL = timedelta(days=2)
_SEEN = select(ProcessedUpdate.update_key).where(ProcessedUpdate.update_key == bindparam("key"))
_STATE = select(ChatState.state).where(ChatState.chat_key == bindparam("key"))
