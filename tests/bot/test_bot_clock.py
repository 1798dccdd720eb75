"""The Telegram adapter runs on the injected clock: a pressed button (which Telegram does not
date) is dated by it, a message by the date its sender's app put on it."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update

from bot.messages import InboundKind
from bot.telegram import to_inbound
from core.clock import ManualClock

USER = {"id": 700001, "is_bot": False, "first_name": "用户"}
CHAT = {"id": 700001, "type": "private"}
SENT = datetime(2026, 6, 1, 11, 30, tzinfo=UTC)


def message(**content: object) -> dict[str, object]:
    return {"message_id": 5, "date": int(SENT.timestamp()), "chat": CHAT, "from": USER, **content}


def test_updates_are_dated_by_the_clock_or_the_sender() -> None:
    clock = ManualClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    pressed = Update.de_json(
        {"update_id": 1, "callback_query": {"id": "q1", "from": USER, "chat_instance": "c", "data": "x.y",
                                            "message": message(text="请选")}},
        None,
    )  # fmt: skip
    inbound = to_inbound(pressed, clock)
    assert inbound is not None and inbound.kind is InboundKind.button
    assert (inbound.received_at, inbound.user_key, inbound.data) == (clock(), "tg:700001", "x.y")
    clock.advance(hours=3)
    assert to_inbound(pressed, clock).received_at == clock()  # type: ignore[union-attr]
    typed = to_inbound(Update.de_json({"update_id": 2, "message": message(text="明天上午理发")}, None), clock)
    assert typed is not None and typed.received_at == SENT and typed.text == "明天上午理发"
    group = message(text="hi", chat={"id": -5, "type": "group"})
    assert to_inbound(Update.de_json({"update_id": 3, "message": group}, None), clock) is None
