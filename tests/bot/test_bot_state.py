"""Conversation state and processed updates on both database backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.state import Conversation, ConversationStore, Draft
from core.db import Database


def test_state_round_trip_and_update_dedup(db: Database) -> None:
    store = ConversationStore(db)
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    conv, seen = store.load_unless_seen("tg:1", "tg:u:1")
    assert not seen and conv.step is None
    conv.step, conv.draft = "count", Draft(key="tg:u:1", service="haircut", village="dongshan")
    conv.profile["village"] = "dongshan"
    assert store.save(conv, "tg:u:1", now)
    assert not store.save(conv, "tg:u:1", now)  # the same update again: nothing written
    assert store.load_unless_seen("tg:1", "tg:u:1")[1]
    loaded, seen = store.load_unless_seen("tg:1", "tg:u:2")
    assert not seen and loaded.step == "count" and loaded.draft == conv.draft
    loaded.step = "confirm"
    assert store.save(loaded, "tg:u:2", now + timedelta(minutes=1))
    assert store.load("tg:1").step == "confirm" and store.load("tg:1").profile == {"village": "dongshan"}
    assert store.prune(now + timedelta(seconds=30)) == 1  # only the older update id goes


def test_unreadable_state_starts_afresh(db: Database) -> None:
    store = ConversationStore(db)
    store.save(Conversation("tg:2", step="time"), "tg:u:9", datetime.now(UTC))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE bot_chat_states SET state = '{\"unknown\": 1}'")
    assert store.load("tg:2").step is None
